//! OpenPGP messages before decryption: the classification of an input as a message (binary or
//! armored) and the recipients read from its session key packets. A binary message is always one
//! whose recipients can be read.
#![no_main]
use libfuzzer_sys::fuzz_target;
use symbolon::{input, openpgp};

fuzz_target!(|data: &[u8]| {
    let recipients = openpgp::decrypt::recipients(data);
    if let Ok(r) = &recipients {
        assert!(!r.is_empty(), "a message is encrypted to someone");
        let _ = openpgp::decrypt::describe_recipients(r);
    }
    if input::is_binary_message(data) {
        assert!(recipients.is_ok(), "a binary message has readable recipients");
    }
    if let Ok(text) = std::str::from_utf8(data)
        && openpgp::is_armored_message(text.trim())
    {
        let _ = openpgp::decrypt::recipients(text.trim().as_bytes());
    }
});
