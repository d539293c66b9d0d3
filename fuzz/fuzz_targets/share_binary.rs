//! Share format v1, binary form (docs/FORMAT.md §1): whatever parses writes back to the same
//! bytes and parses to the same share; its text form parses to it too.
#![no_main]
use libfuzzer_sys::fuzz_target;
use symbolon::share::Share;

fuzz_target!(|data: &[u8]| {
    let Ok(share) = Share::from_bytes(data) else { return };
    let bytes = share.to_bytes();
    assert_eq!(bytes.expose(), data, "a share that parses is written back byte for byte");
    let again = Share::from_bytes(bytes.expose()).expect("a written share parses");
    assert_eq!((again.index, &again.set), (share.index, &share.set));
    assert_eq!(again.payload.expose(), share.payload.expose());
    assert_eq!(again.blind.expose(), share.blind.expose());
    let text = Share::from_text(&share.to_text()).expect("a share's text form parses");
    assert_eq!(text.to_bytes().expose(), data);
});
