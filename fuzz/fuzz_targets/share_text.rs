//! Share format v1, text form (armor, headers, checked lines): every share read from a text is
//! written back to a text that reads as the same share, and agrees with its own binary form.
#![no_main]
use libfuzzer_sys::fuzz_target;
use symbolon::share::Share;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(shares) = Share::all_from_text(text) else { return };
    assert!(!shares.is_empty(), "a text that parses holds at least one share");
    for share in &shares {
        let written = share.to_text();
        let again = Share::all_from_text(&written).expect("a share's text parses");
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].to_bytes().expose(), share.to_bytes().expose());
        let binary = Share::from_bytes(share.to_bytes().expose()).expect("a share's binary form parses");
        assert_eq!(binary.to_text().as_str(), written.as_str(), "text and binary forms agree");
    }
});
