//! Vault's own printed forms of unseal and recovery keys, read and written byte-compatibly:
//! - `vault operator init` / `rekey` text output ("Unseal Key 1: ...", "Recovery Key 1: ...",
//!   "Key 1: ...", and "... with 5 key shares and a key threshold of 3"),
//! - their `-format=json` output (`unseal_keys_b64`, `unseal_keys_hex`, `recovery_keys_b64`,
//!   `recovery_keys_hex`, `keys`, `keys_base64`, with `unseal_threshold` /
//!   `recovery_keys_threshold`),
//! - bare keys, one per line, in hex or standard base64 (hex is tried first, as Vault does).

use crate::secret::SecretBytes;
use crate::share::Target;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use zeroize::{Zeroize, Zeroizing};

/// One key found in Vault output, with where it was found ("unseal key 2", "line 3").
#[derive(Debug)]
pub struct VaultKey {
    pub place: String,
    pub bytes: SecretBytes,
}

/// Everything read from one piece of Vault output.
#[derive(Debug, Default)]
pub struct VaultKeys {
    pub keys: Vec<VaultKey>,
    /// Unseal or recovery, when the output says which.
    pub target: Option<Target>,
    /// The key threshold, when the output states it.
    pub threshold: Option<usize>,
    /// The number of key shares, when the output states it.
    pub shares: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultKeysError {
    #[error("{place} is neither hex nor base64: it is not a Vault key (check for a truncated or mistyped key)")]
    NotAKey { place: String },
    #[error("{place} is empty: it is not a Vault key (the output was cut short or edited)")]
    EmptyKey { place: String },
    #[error(
        "the JSON holds no unseal or recovery keys (looked for unseal_keys_b64, unseal_keys_hex, recovery_keys_b64, recovery_keys_hex, keys, keys_base64)"
    )]
    NoKeysInJson,
    #[error("the JSON's {hex_field} and {b64_field} disagree at key {index}: the output was edited or corrupted")]
    HexBase64Disagree { hex_field: &'static str, b64_field: &'static str, index: usize },
    #[error("the JSON holds both unseal and recovery keys: give one kind at a time")]
    BothKinds,
    #[error("invalid JSON: {0}")]
    Json(String),
}

/// Decodes one key as Vault's `operator unseal` does: hex first, then standard base64.
pub fn decode_key(text: &str) -> Option<SecretBytes> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    decode_hex(text).or_else(|| STANDARD.decode(text).ok().filter(|b| !b.is_empty()).map(SecretBytes::new))
}

/// Value of each hex digit (either case), 0xff for other bytes.
const HEX_VALUE: [u8; 256] = {
    let mut table = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

/// Decodes hex in one pass into a secret buffer of the final size; `None` unless `text` is
/// entirely hex digits of even length.
pub fn decode_hex(text: &str) -> Option<SecretBytes> {
    let digits = text.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    let mut out = SecretBytes::zeroed(digits.len() / 2);
    let mut bad = 0u8;
    for (byte, pair) in out.expose_mut().iter_mut().zip(digits.chunks_exact(2)) {
        let (hi, lo) = (HEX_VALUE[usize::from(pair[0])], HEX_VALUE[usize::from(pair[1])]);
        bad |= (hi | lo) & 0xf0;
        *byte = (hi << 4) | (lo & 0x0f);
    }
    (bad == 0).then_some(out)
}

/// Hex as Vault prints `unseal_keys_hex`, followed by a newline. Built in a buffer of the final
/// size, so no stray copy of the key is left in freed memory.
pub fn hex_line(key: &[u8]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(key.len() * 2 + 1));
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in key {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out.push('\n');
    out
}

/// Standard base64 as Vault prints `unseal_keys_b64` and "Unseal Key N:", followed by a newline.
pub fn base64_line(key: &[u8]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(key.len().div_ceil(3) * 4 + 1));
    STANDARD.encode_string(key, &mut out);
    out.push('\n');
    out
}

#[derive(Deserialize, Default)]
struct VaultJson {
    #[serde(default)]
    unseal_keys_b64: Vec<String>,
    #[serde(default)]
    unseal_keys_hex: Vec<String>,
    #[serde(default)]
    recovery_keys_b64: Vec<String>,
    #[serde(default)]
    recovery_keys_hex: Vec<String>,
    #[serde(default)]
    keys: Vec<String>,
    #[serde(default)]
    keys_base64: Vec<String>,
    unseal_threshold: Option<usize>,
    unseal_shares: Option<usize>,
    recovery_keys_threshold: Option<usize>,
    recovery_keys_shares: Option<usize>,
}

impl Drop for VaultJson {
    fn drop(&mut self) {
        for list in [
            &mut self.unseal_keys_b64,
            &mut self.unseal_keys_hex,
            &mut self.recovery_keys_b64,
            &mut self.recovery_keys_hex,
            &mut self.keys,
            &mut self.keys_base64,
        ] {
            list.iter_mut().for_each(Zeroize::zeroize);
        }
    }
}

/// Reads Vault's `-format=json` output of `operator init` or `operator rekey`.
pub fn parse_json(text: &str) -> Result<VaultKeys, VaultKeysError> {
    let json: VaultJson = serde_json::from_str(text).map_err(|e| VaultKeysError::Json(e.to_string()))?;
    let unseal = !json.unseal_keys_b64.is_empty() || !json.unseal_keys_hex.is_empty();
    let recovery = !json.recovery_keys_b64.is_empty() || !json.recovery_keys_hex.is_empty();
    let (hex_list, b64_list, hex_field, b64_field, target, threshold, shares) = match (unseal, recovery) {
        (true, true) => return Err(VaultKeysError::BothKinds),
        (true, false) => (
            &json.unseal_keys_hex,
            &json.unseal_keys_b64,
            "unseal_keys_hex",
            "unseal_keys_b64",
            Some(Target::Unseal),
            json.unseal_threshold,
            json.unseal_shares,
        ),
        (false, true) => (
            &json.recovery_keys_hex,
            &json.recovery_keys_b64,
            "recovery_keys_hex",
            "recovery_keys_b64",
            Some(Target::Recovery),
            json.recovery_keys_threshold,
            json.recovery_keys_shares,
        ),
        (false, false) if !json.keys.is_empty() || !json.keys_base64.is_empty() => {
            (&json.keys, &json.keys_base64, "keys", "keys_base64", None, None, None)
        }
        (false, false) => return Err(VaultKeysError::NoKeysInJson),
    };
    let kind = match target {
        Some(t) => format!("{t} key"),
        None => "key".to_string(),
    };
    let mut keys = Vec::new();
    let longest = hex_list.len().max(b64_list.len());
    for i in 0..longest {
        let place = format!("{kind} {}", i + 1);
        // An empty string is no key (it decodes to nothing in both forms).
        let empty = |list: &Vec<String>| list.get(i).is_none_or(|s| s.trim().is_empty());
        if empty(hex_list) && empty(b64_list) {
            return Err(VaultKeysError::EmptyKey { place });
        }
        let from_hex = hex_list.get(i).map(|s| decode_hex(s.trim()).filter(|b| !b.is_empty()));
        let from_b64 =
            b64_list.get(i).map(|s| STANDARD.decode(s.trim()).ok().filter(|b| !b.is_empty()).map(SecretBytes::new));
        let bytes = match (from_hex, from_b64) {
            (Some(Some(h)), Some(Some(b))) if h != b => {
                return Err(VaultKeysError::HexBase64Disagree { hex_field, b64_field, index: i + 1 });
            }
            (Some(Some(h)), _) => h,
            (_, Some(Some(b))) => b,
            _ => return Err(VaultKeysError::NotAKey { place }),
        };
        keys.push(VaultKey { place, bytes });
    }
    Ok(VaultKeys { keys, target, threshold: threshold.filter(|&t| t > 0), shares: shares.filter(|&s| s > 0) })
}

/// Whether `text` looks like Vault's human-readable init/rekey output.
pub fn looks_like_vault_text(text: &str) -> bool {
    text.lines().any(|l| key_line(l).is_some())
}

/// "Unseal Key 3: abc" → (Some(Unseal), 3, "abc"); also "Recovery Key N:" and "Key N:".
fn key_line(line: &str) -> Option<(Option<Target>, usize, &str)> {
    let line = line.trim();
    let (label, value) = line.split_once(':')?;
    let mut words = label.split_whitespace();
    let first = words.next()?;
    let (target, key_word) = match first {
        "Unseal" => (Some(Target::Unseal), words.next()?),
        "Recovery" => (Some(Target::Recovery), words.next()?),
        other => (None, other),
    };
    if key_word != "Key" {
        return None;
    }
    let number: usize = words.next()?.parse().ok()?;
    if words.next().is_some() {
        return None;
    }
    Some((target, number, value.trim()))
}

/// Reads `vault operator init` or `vault operator rekey` text output.
pub fn parse_text(text: &str) -> Result<VaultKeys, VaultKeysError> {
    let mut out = VaultKeys::default();
    for line in text.lines() {
        if let Some((target, number, value)) = key_line(line) {
            let kind = target.map_or("key".to_string(), |t| format!("{t} key"));
            let place = format!("{kind} {number}");
            let bytes = decode_key(value).ok_or_else(|| VaultKeysError::NotAKey { place: place.clone() })?;
            if target.is_some() && out.target.is_some() && out.target != target {
                return Err(VaultKeysError::BothKinds);
            }
            out.target = out.target.or(target);
            out.keys.push(VaultKey { place, bytes });
        } else if let Some((shares, threshold)) = stated_parameters(line) {
            out.shares = Some(shares);
            out.threshold = Some(threshold);
        }
    }
    Ok(out)
}

/// "... with 5 key shares and a key threshold of 3." → (5, 3)
fn stated_parameters(line: &str) -> Option<(usize, usize)> {
    let (_, rest) = line.split_once("with ")?;
    let (shares, rest) = rest.split_once(" key shares and a key threshold of ")?;
    let threshold: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some((shares.trim().parse().ok()?, threshold.parse().ok()?))
}

/// Reads bare keys, one per line; blank lines and lines starting with '#' are skipped.
pub fn parse_lines(text: &str) -> Result<VaultKeys, VaultKeysError> {
    let mut out = VaultKeys::default();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let place = format!("line {}", i + 1);
        let bytes = decode_key(line).ok_or_else(|| VaultKeysError::NotAKey { place: place.clone() })?;
        out.keys.push(VaultKey { place, bytes });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_decoding() {
        assert_eq!(decode_hex("00ff7Fa0").unwrap().expose(), &[0x00, 0xff, 0x7f, 0xa0]);
        assert!(decode_hex("abc").is_none());
        assert!(decode_hex("zz").is_none());
        assert!(decode_hex("0g").is_none());
        assert_eq!(decode_hex("").unwrap().len(), 0);
        for b in 0..=255u8 {
            assert_eq!(decode_hex(&format!("{b:02x}")).unwrap().expose(), &[b]);
            assert_eq!(decode_hex(&format!("{b:02X}")).unwrap().expose(), &[b]);
        }
    }

    #[test]
    fn hex_is_tried_before_base64() {
        // "abcd" is valid hex and valid base64; Vault reads it as hex.
        assert_eq!(decode_key("abcd").unwrap().expose(), &[0xab, 0xcd]);
        assert_eq!(decode_key("q80=").unwrap().expose(), &[0xab, 0xcd]);
        assert!(decode_key("not a key!").is_none());
    }

    #[test]
    fn init_text_output() {
        let text = "Unseal Key 1: qw==\nUnseal Key 2: zA==\n\nInitial Root Token: hvs.secret\n\n\
                    Vault initialized with 5 key shares and a key threshold of 3. Please securely\n";
        let keys = parse_text(text).unwrap();
        assert_eq!(keys.keys.len(), 2);
        assert_eq!(keys.keys[1].place, "unseal key 2");
        assert_eq!(keys.keys[1].bytes.expose(), &[0xcc]);
        assert_eq!((keys.target, keys.shares, keys.threshold), (Some(Target::Unseal), Some(5), Some(3)));
    }

    #[test]
    fn an_empty_key_in_json_is_no_key() {
        // Found by the fuzz target vault_keys (fuzz/regressions/vault_keys/): "" was read as a
        // key of no bytes.
        for json in [r#"{"unseal_keys_b64":["LiE=",""],"unseal_threshold":2}"#, r#"{"keys":["",""]}"#] {
            match parse_json(json) {
                Err(VaultKeysError::EmptyKey { place }) => {
                    assert!(place.ends_with(" 2") || place == "key 1", "{place}")
                }
                other => panic!("{json}: {other:?}"),
            }
        }
    }

    #[test]
    fn json_output_hex_and_b64_must_agree() {
        let ok = r#"{"unseal_keys_b64":["qw=="],"unseal_keys_hex":["ab"],"unseal_threshold":1,"unseal_shares":1,"root_token":"x"}"#;
        let keys = parse_json(ok).unwrap();
        assert_eq!(keys.keys[0].bytes.expose(), &[0xab]);
        assert_eq!(keys.threshold, Some(1));
        let bad = r#"{"unseal_keys_b64":["qw=="],"unseal_keys_hex":["ac"]}"#;
        assert!(matches!(parse_json(bad), Err(VaultKeysError::HexBase64Disagree { index: 1, .. })));
        let recovery = r#"{"recovery_keys_hex":["ab","cd"],"recovery_keys_threshold":2,"unseal_keys_b64":[]}"#;
        let keys = parse_json(recovery).unwrap();
        assert_eq!((keys.target, keys.threshold, keys.keys.len()), (Some(Target::Recovery), Some(2), 2));
    }
}
