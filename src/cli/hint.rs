//! Advice that names a command-line flag, added at the CLI edge: the library's errors say what
//! happened and what to do in their own terms, and name no flag (`rage`'s and `sq`'s way). A hint
//! is given only where the command at hand has the flag.

use symbolon::card::CardError;
use symbolon::combine::CombineError;
use symbolon::recovery::RecoveryError;

/// Which of the flags hints name the command has.
#[derive(Clone, Copy, Debug, Default)]
pub struct Flags {
    pub key_file: bool,
    pub allow_last_pin_try: bool,
    pub manifest: bool,
    pub threshold: bool,
}

/// The hints for `error` (each error of its chain), in order, without repeats.
pub fn hints(error: &anyhow::Error, flags: Flags) -> Vec<&'static str> {
    let mut out = Vec::new();
    for cause in error.chain() {
        let hint = if let Some(card) = cause.downcast_ref::<CardError>() {
            card_hint(card, flags)
        } else if let Some(combine) = cause.downcast_ref::<CombineError>() {
            combine_hint(combine, flags)
        } else if let Some(RecoveryError::Combine(combine)) = cause.downcast_ref::<RecoveryError>() {
            // A transparent wrapper: its inner error is not a link of the chain.
            combine_hint(combine, flags)
        } else {
            None
        };
        if let Some(hint) = hint.filter(|h| !out.contains(h)) {
            out.push(hint);
        }
    }
    out
}

fn card_hint(e: &CardError, flags: Flags) -> Option<&'static str> {
    match e {
        CardError::NoService { .. } | CardError::NoReaders | CardError::NoCards { .. } if flags.key_file => {
            Some("a custodian's key kept in a file is given with --key-file FILE")
        }
        CardError::LastTry { .. } if flags.allow_last_pin_try => {
            Some("to spend the last try, sure of the PIN: run again with --allow-last-pin-try")
        }
        _ => None,
    }
}

fn combine_hint(e: &CombineError, flags: Flags) -> Option<&'static str> {
    match e {
        CombineError::StillEncrypted { .. } if flags.key_file => Some("give the custodian's key with --key-file FILE"),
        CombineError::CommitmentMismatch { .. } if flags.manifest => {
            Some("give the set's manifest with --manifest FILE")
        }
        CombineError::SingleKeyAmbiguous if flags.threshold => Some("for a 1-of-1 set: --threshold 1"),
        _ => None,
    }
}
