//! The set's manifest.json (docs/FORMAT.md §2): whatever parses is written back to JSON that
//! parses to the same manifest.
#![no_main]
use libfuzzer_sys::fuzz_target;
use symbolon::manifest::Manifest;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(manifest) = Manifest::from_json(text) else { return };
    let json = manifest.to_json();
    let again = Manifest::from_json(&json).expect("a written manifest parses");
    assert_eq!(again, manifest);
    assert_eq!(again.to_json(), json, "writing is deterministic");
    let _ = manifest.threshold();
});
