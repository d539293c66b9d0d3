//! Advice that names a command-line flag, added at the CLI edge: the library's errors say what
//! happened and what to do in their own terms, and name no flag (`rage`'s and `sq`'s way). A hint
//! is given only where the command at hand has the flag.

use symbolon::card::CardError;
use symbolon::combine::CombineError;
use symbolon::new_set::RequestError;
use symbolon::recipients::RecipientError;
use symbolon::recovery::RecoveryError;
use symbolon::sources::SourceError;

/// Which of the flags hints name the command has.
#[derive(Clone, Copy, Debug, Default)]
pub struct Flags {
    pub key_file: bool,
    pub allow_last_pin_try: bool,
    pub manifest: bool,
    pub threshold: bool,
    /// The new set's flags (`split`, `rekey`).
    pub new_set: bool,
    /// `card cert`'s `--name` and `--card`.
    pub card_cert: bool,
}

/// The hints for `error` (each error of its chain), in order, without repeats.
pub fn hints(error: &anyhow::Error, flags: Flags) -> Vec<String> {
    let mut out = Vec::new();
    for cause in error.chain() {
        let hint = if let Some(card) = cause.downcast_ref::<CardError>() {
            card_hint(card, flags)
        } else if let Some(combine) = cause.downcast_ref::<CombineError>() {
            combine_hint(combine, flags)
        } else if let Some(RecoveryError::Combine(combine)) = cause.downcast_ref::<RecoveryError>() {
            // A transparent wrapper: its inner error is not a link of the chain.
            combine_hint(combine, flags)
        } else if let Some(SourceError::StdinIsTerminal) = cause.downcast_ref::<SourceError>().filter(|_| flags.new_set)
        {
            Some("give the secret with --secret-file FILE".into())
        } else if let Some(request) = cause.downcast_ref::<RequestError>().filter(|_| flags.new_set) {
            request_hint(request)
        } else if let Some(recipient) = cause.downcast_ref::<RecipientError>().filter(|_| flags.new_set) {
            recipient_hint(recipient)
        } else {
            None
        };
        if let Some(hint) = hint.filter(|h| !out.contains(h)) {
            out.push(hint);
        }
    }
    out
}

fn card_hint(e: &CardError, flags: Flags) -> Option<String> {
    match e {
        CardError::NoService { .. } | CardError::NoReaders | CardError::NoCards { .. } if flags.key_file => {
            Some("a custodian's key kept in a file is given with --key-file FILE".into())
        }
        CardError::NoCardholderName { .. } if flags.card_cert => {
            Some("give the user ID with --name \"Name <email>\"".into())
        }
        CardError::SeveralCards { .. } if flags.card_cert => Some("say which with --card IDENT".into()),
        CardError::LastTry { .. } if flags.allow_last_pin_try => {
            Some("to spend the last try, sure of the PIN: run again with --allow-last-pin-try".into())
        }
        _ => None,
    }
}

fn combine_hint(e: &CombineError, flags: Flags) -> Option<String> {
    match e {
        CombineError::StillEncrypted { .. } if flags.key_file => {
            Some("give the custodian's key with --key-file FILE".into())
        }
        CombineError::CommitmentMismatch { .. } if flags.manifest => {
            Some("give the set's manifest with --manifest FILE".into())
        }
        CombineError::SingleKeyAmbiguous if flags.threshold => Some("for a 1-of-1 set: --threshold 1".into()),
        _ => None,
    }
}

fn request_hint(e: &RequestError) -> Option<String> {
    Some(
        match e {
            RequestError::NoCustodians => {
                "give one --recipient per share (or Vault's --pgp-keys), or pass --plaintext to write unencrypted shares"
            }
            RequestError::CustodianCount { .. } => "name one --recipient per share or change --shares",
            RequestError::EncryptedHex => "use --format vault",
            RequestError::VaultFormatNeedsVaultScheme => "add --scheme vault, or use --format symbolon",
            RequestError::BinaryVault => "drop --binary",
            RequestError::Recipient(e) => return recipient_hint(e),
            _ => return None,
        }
        .into(),
    )
}

fn recipient_hint(e: &RecipientError) -> Option<String> {
    match e {
        RecipientError::SameName { stem, .. } => Some(format!("name one of them, e.g. --recipient {stem}2=FILE")),
        _ => None,
    }
}
