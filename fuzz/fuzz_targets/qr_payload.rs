//! QR payloads (docs/FORMAT.md, "QR codes"), one per line as a scanner hands them over: each
//! payload that parses is ours; what assembles is a file whose own payloads assemble to it again.
#![no_main]
use libfuzzer_sys::fuzz_target;
use symbolon::qr::{self, Payload};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let lines: Vec<&str> = text.lines().collect();
    for line in &lines {
        if let Ok(p) = line.parse::<Payload>() {
            assert!(qr::is_payload(line), "a payload that parses is recognised as one");
            assert!(p.part >= 1 && p.part <= p.total);
        }
    }
    if let Err(qr::QrError::Missing { missing, total }) = qr::assemble(&lines) {
        assert!((1..=total).contains(&missing), "part {missing} of {total}");
    }
    if let Ok(file) = qr::assemble(&lines) {
        let payloads = qr::payloads(&file);
        assert_eq!(qr::assemble(&payloads).expect("a file's own payloads assemble"), file);
        let mut reversed = payloads.clone();
        reversed.reverse();
        assert_eq!(qr::assemble(&reversed).expect("in any order"), file);
    }
});
