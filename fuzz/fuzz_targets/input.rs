//! What symbolon makes of a file or pasted text before anything is decrypted (input::parse_bytes:
//! share, QR payloads, typed lines, Vault output, OpenPGP message, manifest, image). Every share
//! found re-encodes to itself.
#![no_main]
use libfuzzer_sys::fuzz_target;
use symbolon::candidate::Piece;
use symbolon::input;
use symbolon::share::Share;

fuzz_target!(|data: &[u8]| {
    let Ok(parsed) = input::parse_bytes("fuzz", data) else { return };
    assert!(!parsed.candidates.is_empty(), "an input that parses holds a share");
    for c in &parsed.candidates {
        assert!(c.origin.starts_with("fuzz"));
        match &c.piece {
            Piece::Share(share) => {
                let again = Share::from_bytes(share.to_bytes().expose()).expect("a share re-encodes");
                assert_eq!(again.to_bytes().expose(), share.to_bytes().expose());
            }
            Piece::VaultKey { bytes, .. } => assert!(!bytes.expose().is_empty()),
            Piece::Encrypted { message, .. } => {
                assert!(!message.is_empty());
            }
        }
    }
});
