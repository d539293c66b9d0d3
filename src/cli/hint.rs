//! Advice that names a command-line flag, added at the CLI edge: the library's errors say what
//! happened and what to do in their own terms, and name no flag (`rage`'s and `sq`'s way). A hint
//! is given only where the command at hand has the flag.

use std::error::Error;
use symbolon::card::CardError;
use symbolon::combine::CombineError;
use symbolon::new_set::RequestError;
use symbolon::recipients::RecipientError;
use symbolon::recovery::RecoveryError;
use symbolon::rekey::RekeyError;
use symbolon::rekey_staged::StagedError;
use symbolon::sources::SourceError;
use symbolon::verification::{ShareFailure, VerificationError};

/// Which of the flags hints name the command has.
#[derive(Clone, Copy, Debug, Default)]
pub struct Flags {
    pub key_file: bool,
    /// `rekey submit`'s key file for the operator (used when the ceremony completes).
    pub operator_key_file: bool,
    pub allow_last_pin_try: bool,
    pub manifest: bool,
    /// The flag that gives a manifest (`--manifest`, rekey's `--old-manifest`).
    pub manifest_flag: Option<&'static str>,
    /// `--from-image`.
    pub from_image: bool,
    /// The flag that gives a bare keys' threshold (`--threshold`, rekey's `--old-threshold`).
    pub threshold: Option<&'static str>,
    /// The new set's flags (`split`, `rekey`).
    pub new_set: bool,
    /// `split --secret-file`.
    pub secret_file: bool,
    /// `card cert`'s `--name` and `--card`.
    pub card_cert: bool,
    /// `card setup`, `card pin`, `card reset`: `--card`, `--allow-last-pin-try`, and setup's
    /// `--reset` or reset's `--confirm`.
    pub card_admin: Option<&'static str>,
    /// `--wait`: wait for cards and pcscd with nobody at a terminal.
    pub wait: bool,
}

/// The hints for `error`, in order, without repeats.
pub fn hints(error: &(dyn Error + 'static), flags: Flags) -> Vec<String> {
    let mut links = Vec::new();
    expand(error, &mut links);
    // Keys for a staged ceremony's completion are the operator's, given with their own flag.
    let completing = links.iter().any(|e| matches!(e.downcast_ref::<StagedError>(), Some(StagedError::Recovery(_))));
    let staged_unverified =
        links.iter().any(|e| matches!(e.downcast_ref::<StagedError>(), Some(StagedError::Unverified(_))));
    let key_flag = if completing && flags.operator_key_file { Some("--operator-key-file") } else { None }
        .or(flags.key_file.then_some("--key-file"));
    let mut out = Vec::new();
    for cause in links {
        let hint = if let Some(card) = cause.downcast_ref::<CardError>() {
            card_hint(card, flags, key_flag)
        } else if let Some(combine) = cause.downcast_ref::<CombineError>() {
            combine_hint(combine, flags, key_flag)
        } else if let Some(symbolon::ceremony::CeremonyError::NoSuch { root, .. }) = cause.downcast_ref() {
            Some(format!(
                "the ceremonies in progress there: symbolon rekey status --state-dir {}",
                symbolon::sanitize(&root.display().to_string())
            ))
        } else if let Some(unverified) = cause.downcast_ref::<symbolon::rekey::UnverifiedSecret>() {
            let manifest_given = matches!(unverified, symbolon::rekey::UnverifiedSecret::ManifestHasNone);
            Some(if staged_unverified {
                "to go on all the same, only if you will test-unseal with the new set before destroying any old key: cancel this ceremony and start a new one with rekey init --accept-unverified-secret".into()
            } else if manifest_given {
                "to go on all the same, only if you will test-unseal with the new set before destroying any old key: --accept-unverified-secret".into()
            } else {
                format!(
                    "give the old set's manifest with {} FILE, or, only if you will test-unseal with the new set before destroying any old key, go on all the same with --accept-unverified-secret",
                    flags.manifest_flag.unwrap_or("--old-manifest")
                )
            })
        } else if let Some(RekeyError::Prompt(symbolon::prompt::PromptError::NoTerminal)) = cause.downcast_ref() {
            Some("without a terminal, pass --yes to proceed without typing the plan hash (the plan and its hash are still printed)".into())
        } else if let Some(StagedError::OperatorKeyAbsent { .. } | StagedError::OperatorKeyCannotTell { .. }) =
            cause.downcast_ref::<StagedError>().filter(|_| flags.operator_key_file)
        {
            Some("the operator's key kept in a file is given with --operator-key-file FILE".into())
        } else if let Some(e) = cause.downcast_ref::<symbolon::input::InputError>() {
            input_hint(e, flags)
        } else if let Some(SourceError::StdinIsTerminal) = cause.downcast_ref::<SourceError>() {
            flags
                .secret_file
                .then(|| "give the secret with --secret-file FILE instead of --stdin, which reads only a pipe".into())
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
        let missing = matches!(
            cause.downcast_ref::<CardError>(),
            Some(CardError::NoService { .. } | CardError::NoReaders | CardError::NoCards { .. })
        );
        if missing && flags.wait && !super::prompt::attended() {
            let hint = "nobody is at a terminal here, so symbolon did not wait for the card (or pcscd): to wait all the same, run again with --wait".to_string();
            if !out.contains(&hint) {
                out.push(hint);
            }
        }
    }
    out
}

/// `e` and its causes, looking through the library's transparent wrappers (whose inner error is
/// not a link of the `source()` chain).
fn expand<'a>(e: &'a (dyn Error + 'static), out: &mut Vec<&'a (dyn Error + 'static)>) {
    out.push(e);
    match transparent_inner(e) {
        Some(inner) => expand(inner, out),
        None => {
            if let Some(source) = e.source() {
                expand(source, out);
            }
        }
    }
}

fn transparent_inner<'a>(e: &'a (dyn Error + 'static)) -> Option<&'a (dyn Error + 'static)> {
    if let Some(e) = e.downcast_ref::<RecoveryError>() {
        return match e {
            RecoveryError::Combine(inner) => Some(inner),
            RecoveryError::Input(inner) => Some(inner),
            _ => None,
        };
    }
    if let Some(e) = e.downcast_ref::<RekeyError>() {
        return match e {
            RekeyError::Recovery(inner) => Some(inner),
            RekeyError::NewSet(inner) => Some(inner),
            RekeyError::Unverified(inner) => Some(inner),
            _ => None,
        };
    }
    if let Some(e) = e.downcast_ref::<StagedError>() {
        return match e {
            StagedError::Recovery(inner) => Some(inner),
            StagedError::Ceremony(inner) => Some(inner),
            StagedError::NewSet(inner) => Some(inner),
            StagedError::Unverified(inner) => Some(inner),
            _ => None,
        };
    }
    if let Some(VerificationError::Combine(inner)) = e.downcast_ref::<VerificationError>() {
        return Some(inner);
    }
    if let Some(e) = e.downcast_ref::<ShareFailure>() {
        return match e {
            ShareFailure::Input(inner) => Some(inner),
            ShareFailure::Open(inner) => Some(inner),
            _ => None,
        };
    }
    if let Some(RequestError::Recipient(inner)) = e.downcast_ref::<RequestError>() {
        return Some(inner);
    }
    if let Some(e) = e.downcast_ref::<SourceError>() {
        return match e {
            SourceError::Input(inner) => Some(inner),
            SourceError::Key(inner) => Some(inner),
            _ => None,
        };
    }
    None
}

fn card_hint(e: &CardError, flags: Flags, key_flag: Option<&str>) -> Option<String> {
    match (e, key_flag) {
        (CardError::NoService { .. } | CardError::NoReaders | CardError::NoCards { .. }, Some(flag)) => {
            let whose = if flag == "--key-file" { "a custodian's key" } else { "the operator's key" };
            Some(format!("{whose} kept in a file is given with {flag} FILE"))
        }
        (CardError::NoCardholderName { .. }, _) if flags.card_cert => {
            Some("give the user ID with --name \"Name <email>\"".into())
        }
        (CardError::SeveralCards { .. }, _) if flags.card_cert => Some("say which with --card IDENT".into()),
        (CardError::LastTryNeverSpent { .. }, _) if flags.card_cert => Some(
            "to reset the counter, enter the right PIN where the last try may be spent: symbolon decrypt SHARE --check --allow-last-pin-try"
                .into(),
        ),
        (CardError::SeveralCards { .. }, _) if flags.card_admin.is_some() => Some("say which with --card IDENT".into()),
        (CardError::SecretLastTry { .. }, _) if flags.card_admin.is_some() => {
            Some("to spend the last try, sure of it: run again with --allow-last-pin-try".into())
        }
        (CardError::HasKeys { .. }, _) if flags.card_admin == Some("--reset") => Some(
            "to erase its keys and set it up anew, type its ident back (as `symbolon card list` shows it): --reset IDENT"
                .into(),
        ),
        (CardError::ResetNotConfirmed { .. }, _) if flags.card_admin.is_some() => Some(format!(
            "type the ident back exactly as `symbolon card list` shows it: {} IDENT",
            flags.card_admin.unwrap_or("--confirm")
        )),
        (CardError::LastTry { .. }, _) if flags.allow_last_pin_try => {
            Some("to spend the last try, sure of the PIN: run again with --allow-last-pin-try".into())
        }
        _ => None,
    }
}

fn combine_hint(e: &CombineError, flags: Flags, key_flag: Option<&str>) -> Option<String> {
    match (e, key_flag) {
        (CombineError::StillEncrypted { .. }, Some(flag)) => Some(format!("give the custodian's key with {flag} FILE")),
        (CombineError::CommitmentMismatch { .. }, _) if flags.manifest => {
            Some("give the set's manifest with --manifest FILE".into())
        }
        (CombineError::SingleKeyAmbiguous, _) => flags.threshold.map(|f| format!("for a 1-of-1 set: {f} 1")),
        (CombineError::ThresholdUnknown { .. }, _) => flags.threshold.map(|f| {
            if flags.manifest {
                format!("give it with {f} K, or the manifest with --manifest FILE")
            } else {
                format!("give it with {f} K")
            }
        }),
        _ => None,
    }
}

fn input_hint(e: &symbolon::input::InputError, flags: Flags) -> Option<String> {
    use symbolon::input::InputError;
    match e {
        InputError::IsManifest { .. } => flags.manifest_flag.map(|f| format!("give the manifest with {f} FILE")),
        InputError::IsImage { kind: "PNG" | "JPEG", .. } if flags.from_image => {
            Some("give images with --from-image IMAGE".into())
        }
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
