//! Vault's key output: `operator init` / `rekey` text, their `-format=json`, and files of bare
//! keys (hex or base64, one per line). No key read is empty, and every key decodes again from
//! both of the forms symbolon writes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use symbolon::vault_keys::{self, VaultKeys};

fn check(keys: &VaultKeys) {
    for key in &keys.keys {
        let bytes = key.bytes.expose();
        assert!(!bytes.is_empty(), "{}: an empty key is no key", key.place);
        let hex = vault_keys::hex_line(bytes);
        assert_eq!(vault_keys::decode_key(hex.trim()).expect("hex decodes").expose(), bytes);
        // Vault's `operator unseal` reads hex first: a base64 key whose characters are all hex
        // digits reads as hex there too (for a 33-byte key the odds are about 1 in 10^20).
        let b64 = vault_keys::base64_line(bytes);
        if vault_keys::decode_hex(b64.trim()).is_none() {
            assert_eq!(vault_keys::decode_key(b64.trim()).expect("base64 decodes").expose(), bytes);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(keys) = vault_keys::parse_json(text) {
        check(&keys);
    }
    if let Ok(keys) = vault_keys::parse_text(text) {
        check(&keys);
    }
    if let Ok(keys) = vault_keys::parse_lines(text) {
        check(&keys);
    }
    if let Some(key) = vault_keys::decode_key(text) {
        assert!(!key.expose().is_empty());
    }
});
