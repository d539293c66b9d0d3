//! The user PIN, asked for and checked before it reaches the card.
//!
//! - A PIN that cannot be right costs no try: OpenPGP cards take user PINs of at least 6
//!   characters (OpenPGP card specification 3.4, section 4.3) and at most what the card's PW
//!   status bytes say. A shorter or longer one is refused here, and asked for again.
//! - An empty PIN never reaches the card: an empty VERIFY is ISO 7816's status query, which
//!   answers "verified" (90 00) when another program (gpg's scdaemon) left the card verified.
//!   Every PIN symbolon sends is checked by the card, in this process; none is inherited.
//! - No transaction is held while a person types: the caller reads the limits in one
//!   transaction, asks, then opens another for VERIFY and the operation.

use super::CardError;
use crate::prompt::{Prompt, SecretRequest};
use openpgp_card::state::Transaction;
use zeroize::Zeroizing;

/// The OpenPGP card specification's minimum length of the user PIN (PW1).
pub const MIN_LEN: usize = 6;

/// How often a PIN that cannot be right is asked for again before giving up.
const ATTEMPTS: usize = 3;

/// What the card accepts as a user PIN.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// The card's maximum, in bytes of UTF-8; `None` where the card hashes PINs (its KDF-DO), so
    /// that the typed length is not what it limits.
    pub max: Option<usize>,
}

impl Limits {
    /// Reads the limits from the card's PW status bytes and KDF-DO.
    pub fn read(tx: &mut openpgp_card::Card<Transaction<'_>>) -> Limits {
        let hashed = tx.kdf_do().is_ok_and(|kdf| kdf.kdf_algo() != 0);
        let max = match tx.pw_status_bytes() {
            Ok(pw) if !hashed => Some(usize::from(pw.pw1_max_len())).filter(|&m| m >= MIN_LEN),
            _ => None,
        };
        Limits { max }
    }

    /// Why `pin` cannot be right, if it cannot. Lengths are bytes of UTF-8, as the card counts
    /// them; the message says characters too where they differ.
    pub fn check(&self, pin: &str) -> Result<(), String> {
        let len = pin.len();
        let long = match pin.chars().count() {
            chars if chars == len => format!("{len} characters"),
            chars => format!("{chars} characters ({len} bytes)"),
        };
        if len == 0 {
            return Err("no PIN was typed".into());
        }
        if len < MIN_LEN {
            return Err(format!("it is {long} long, and an OpenPGP card's user PIN has at least {MIN_LEN} bytes"));
        }
        match self.max {
            Some(max) if len > max => {
                Err(format!("it is {long} long, and this card's user PIN has at most {max} bytes"))
            }
            _ => Ok(()),
        }
    }
}

/// Asks for the user PIN until one is given that could be right (at most three times): a PIN
/// that cannot be right is never sent to the card.
pub(crate) fn ask(
    prompt: &mut dyn Prompt,
    request: &SecretRequest,
    limits: Limits,
    card: &str,
) -> Result<Zeroizing<String>, CardError> {
    let mut why = String::new();
    for _ in 0..ATTEMPTS {
        let pin =
            prompt.secret(request).map_err(|e| CardError::NoPin { card: card.to_string(), why: e.to_string() })?;
        match limits.check(&pin) {
            Ok(()) => return Ok(pin),
            Err(reason) => {
                prompt.notice(&format!(
                    "That PIN cannot be right for {card}: {reason}. It was not sent to the card: no try was spent."
                ));
                why = reason;
            }
        }
    }
    Err(CardError::ImpossiblePin { card: card.to_string(), why })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_that_cannot_be_right_are_told_apart() {
        let limits = Limits { max: Some(127) };
        assert_eq!(limits.check(""), Err("no PIN was typed".into()));
        assert!(limits.check("12345").unwrap_err().contains("5 characters long"));
        assert_eq!(limits.check("123456"), Ok(()));
        assert_eq!(limits.check(&"1".repeat(127)), Ok(()));
        assert!(
            limits
                .check(&"1".repeat(128))
                .unwrap_err()
                .contains("128 characters long, and this card's user PIN has at most 127 bytes")
        );
        // Bytes are what the card counts: two characters of four bytes are too short.
        assert_eq!(
            limits.check("äö").unwrap_err(),
            "it is 2 characters (4 bytes) long, and an OpenPGP card's user PIN has at least 6 bytes"
        );
        // A hashing card limits the hash, not what is typed.
        assert_eq!(Limits { max: None }.check(&"1".repeat(200)), Ok(()));
    }

    #[test]
    fn an_impossible_pin_is_asked_again_and_never_returned() {
        let mut p = crate::prompt::Scripted::new(["12345", "", "123456"]);
        let request = SecretRequest::UserPin { card: "c".into(), tries_left: 3, purpose: None };
        let pin = ask(&mut p, &request, Limits { max: Some(127) }, "c").unwrap();
        assert_eq!(pin.as_str(), "123456");
        let mut p = crate::prompt::Scripted::new(["1", "12", "123"]);
        match ask(&mut p, &request, Limits { max: Some(127) }, "c") {
            Err(CardError::ImpossiblePin { why, .. }) => assert!(why.contains("3 characters"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
}
