//! The one-shot rekey: the SAME secret, recovered from a threshold of old shares, re-split into a
//! new set. Rekey is not rotation: the secret does not change, and neither does what it unlocks.
//!
//! The rules, in order: the plan ([`crate::rekey_plan::Plan`]) was built and the old shares
//! counted before anything secret is asked ([`crate::recovery::prepare`]); the operator confirms
//! the plan's hash through the prompt; the old shares are decrypted and the secret verified
//! ([`crate::recovery`]); the new set keeps the old set's target (a different one is refused) and,
//! unless given, its label; it is written with the old set's id as `previous_set_id`
//! ([`crate::new_set`]). A threshold change on Vault's scheme is reported: Vault waits for its
//! configured threshold.

use crate::combine::{Recovered, Verification};
use crate::new_set::{NewSet, NewSetError, Origin, Summary};
use crate::openpgp::decrypt::SecretKeys;
use crate::prompt::{Prompt, PromptError, Question};
use crate::recovery::{RecoveryError, Session};
use crate::rekey_plan::Plan;
use crate::secret::SecretBytes;
use crate::shamir::Scheme;
use crate::share::Target;

#[derive(Debug, thiserror::Error)]
pub enum RekeyError {
    #[error("the plan was not confirmed: nothing was decrypted, nothing was written")]
    NotConfirmed,
    #[error("the plan could not be confirmed ({0}): nothing was decrypted, nothing was written")]
    Prompt(PromptError),
    #[error(
        "the old set's target is {old} but the new set's would be {new}: a rekey keeps what the secret unlocks; rotating to another secret is a different operation"
    )]
    TargetChanged { old: Target, new: Target },
    #[error(transparent)]
    Recovery(#[from] RecoveryError),
    #[error(transparent)]
    Unverified(#[from] UnverifiedSecret),
    #[error(transparent)]
    NewSet(#[from] NewSetError),
}

/// The old secret could not be checked, and the operator did not accept that in the plan.
#[derive(Debug, thiserror::Error)]
pub enum UnverifiedSecret {
    #[error(
        "the old secret was recovered but cannot be verified (no commitment to check it against, and no key beyond the threshold): one altered key would give a wrong secret, which the new set would keep for good once the old keys are destroyed. Nothing was written. Give the old set's manifest, or one more old key than the threshold, so that it is checked"
    )]
    NoManifest,
    #[error(
        "the old secret was recovered but cannot be verified: the old manifest has no commitments for its bare keys, and no key beyond the threshold was given. One altered key would give a wrong secret, which the new set would keep for good once the old keys are destroyed. Nothing was written. Give one more old key than the threshold, so that it is checked"
    )]
    ManifestHasNone,
}

/// Whether a re-split secret is known to be uniformly random from the old set: its manifest says
/// so AND the old keys matched that manifest's bare commitments, which only a manifest made for
/// these keys holds (the flag alone is an unsigned word anyone who edits the file can set).
/// Otherwise the operator vouches for it (`--secret-is-random`), or it is not known.
pub fn inherits_random(old: Option<&crate::manifest::Manifest>, recovered: &Recovered) -> bool {
    old.is_some_and(|m| m.secret_random) && recovered.verification == Verification::Manifest
}

/// Whether the recovered secret was verified: against a commitment (the set's, or each key's in
/// the manifest), or by keys beyond the threshold on one polynomial. An unverified secret is
/// re-split only when the plan says the operator accepted it; `Ok(true)` then.
/// `manifest`: the old set's manifest was given.
pub fn check_verified(recovered: &Recovered, accepted: bool, manifest: bool) -> Result<bool, UnverifiedSecret> {
    match recovered.verification {
        Verification::SetCommitment | Verification::Manifest | Verification::Consistency { .. } => Ok(false),
        Verification::Unverified if accepted => Ok(true),
        Verification::Unverified if manifest => Err(UnverifiedSecret::ManifestHasNone),
        Verification::Unverified => Err(UnverifiedSecret::NoManifest),
    }
}

/// A rekey ready to run: nothing secret asked yet.
#[derive(Debug)]
pub struct Rekey<'a> {
    /// The old shares, counted and checked ([`crate::recovery::prepare`]).
    pub session: Session<'a>,
    /// What the operator confirms.
    pub plan: Plan,
    /// The new set as prepared (custodians validated).
    pub new_set: NewSet,
    /// The target the operator gave, if any (else the old set's).
    pub target: Option<Target>,
    /// Whether the operator gave a label (else the old set's).
    pub label_given: bool,
}

/// What a rekey did.
#[derive(Debug)]
pub struct Rekeyed {
    /// How the old secret was recovered and verified. Its `secret` is empty: the secret went into
    /// the new set and was wiped.
    pub recovered: Recovered,
    /// What was written.
    pub summary: Summary,
    /// `(old, new)` when a Vault-scheme set's threshold changes: Vault waits for its configured
    /// threshold (the old one) before it combines keys.
    pub vault_threshold_change: Option<(usize, usize)>,
}

/// The old set's target against the new one, where both are known before anything is decrypted.
pub fn check_target(old: Option<Target>, new: Option<Target>) -> Result<(), RekeyError> {
    match (old, new) {
        (Some(old), Some(new)) if old != new => Err(RekeyError::TargetChanged { old, new }),
        _ => Ok(()),
    }
}

/// Runs the rekey: the plan confirmed through `prompt` (unless `confirmed`), the old shares opened
/// with `keys` and the cards (`recovered_report` is shown how the secret was recovered and
/// checked), the new set written.
pub fn run(
    rekey: Rekey<'_>,
    confirmed: bool,
    keys: &mut SecretKeys,
    cards: &crate::card::decrypt::Options,
    prompt: &mut dyn Prompt,
    recovered_report: &mut dyn FnMut(&Recovered),
) -> Result<Rekeyed, RekeyError> {
    let Rekey { session, plan, mut new_set, target, label_given } = rekey;
    if !confirmed {
        let question = Question::PlanHash { hash: plan.hash(), action: "proceed".into() };
        if !prompt.confirm(&question).map_err(RekeyError::Prompt)? {
            return Err(RekeyError::NotConfirmed);
        }
    }
    let old_threshold = session.needed();
    let mut recovered = session.recover(keys, cards, prompt)?;
    // How the secret was recovered and checked is said before anything is written.
    recovered_report(&recovered);
    let unverified = check_verified(&recovered, plan.accept_unverified, plan.old_manifest.is_some())?;
    let old_target = recovered.set.as_ref().map(|s| s.target).or(recovered.target);
    check_target(old_target, target)?;
    // Label and target follow the old set unless given.
    if let (None, Some(old)) = (target, old_target) {
        new_set.plan.target = old;
    }
    if let (false, Some(set)) = (label_given, &recovered.set) {
        new_set.plan.label = set.label.clone();
    }
    let old_k = recovered.set.as_ref().map(|s| usize::from(s.threshold)).or(old_threshold);
    let new_k = new_set.plan.threshold;
    let vault_threshold_change =
        old_k.filter(|k| new_set.plan.scheme == Scheme::Vault && *k != new_k).map(|k| (k, new_k));
    let previous_set_id = recovered.set.as_ref().map(|s| s.id);
    let secret = std::mem::replace(&mut recovered.secret, SecretBytes::zeroed(0));
    let previous_random = inherits_random(plan.old_manifest().ok().flatten().as_ref(), &recovered);
    let origin = Origin {
        previous_set_id,
        previous_unverified: unverified,
        previous_random,
        vouched_random: plan.secret_vouched_random,
        ..Origin::default()
    };
    let summary = crate::new_set::write(new_set, secret, origin)?;
    Ok(Rekeyed { recovered, summary, vault_threshold_change })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::manifest::{Manifest, ShareFormat};
    use crate::new_set::QrImages;
    use crate::openpgp::Custodian;
    use crate::prompt::Scripted;
    use crate::share::Label;
    use crate::split::SplitPlan;
    use sequoia_openpgp::cert::prelude::*;
    use sequoia_openpgp::serialize::SerializeInto;

    pub(crate) fn person(name: &str, keys: Option<&mut SecretKeys>) -> Custodian {
        let (cert, _) = CertBuilder::general_purpose(Some(format!("{name} <{name}@example.org>")))
            .set_cipher_suite(CipherSuite::Cv25519)
            .set_password(Some(format!("{name}-pass").into()))
            .generate()
            .unwrap();
        if let Some(keys) = keys {
            keys.add(&format!("{name}.key"), &cert.as_tsk().to_vec().unwrap()).unwrap();
        }
        Custodian::new(name, vec![(format!("{name}.asc"), cert)]).unwrap()
    }

    pub(crate) fn new_set(custodians: Vec<Custodian>, k: usize, out_dir: std::path::PathBuf) -> NewSet {
        NewSet {
            plan: SplitPlan {
                scheme: Scheme::Native,
                threshold: k,
                shares: custodians.len(),
                target: Target::Generic,
                label: Label::new("").unwrap(),
                created: None,
            },
            format: ShareFormat::SymbolonV1,
            custodians,
            binary: false,
            qr: QrImages { png: false, svg: false, asked: false },
            paper: None,
            out_dir,
        }
    }

    /// A whole one-shot rekey through the scripted prompt: a mistyped hash stops it before any
    /// passphrase and writes nothing; then the hash, two passphrases, and a 2-of-2 set made of the
    /// same secret, with the old label, target and id.
    #[test]
    fn a_one_shot_rekey_through_the_prompt() {
        let root = std::env::temp_dir().join(format!("symbolon-rekey-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let mut keys = SecretKeys::default();
        let old_people = vec![person("alice", Some(&mut keys)), person("bob", Some(&mut keys)), person("carol", None)];
        let mut old = new_set(old_people, 2, root.join("old"));
        old.plan.target = Target::Unseal;
        old.plan.label = Label::new("prod unseal").unwrap();
        crate::new_set::write(old, SecretBytes::copy_from(b"the same secret"), Origin::default()).unwrap();
        let manifest_bytes = std::fs::read(root.join("old/manifest.json")).unwrap();
        let manifest = Manifest::from_json(std::str::from_utf8(&manifest_bytes).unwrap()).unwrap();
        let inputs = |files: &[&str]| {
            let parsed = files
                .iter()
                .map(|f| {
                    let path = root.join("old").join(f);
                    crate::input::parse_bytes(f, &std::fs::read(path).unwrap()).unwrap()
                })
                .collect();
            crate::recovery::prepare(crate::recovery::Inputs::new(parsed).unwrap(), None, Some(&manifest)).unwrap()
        };
        let make = |session| {
            let new = new_set(vec![person("dave", None), person("erin", None)], 2, root.join("new"));
            let plan =
                Plan::new(&new, None, None, Some(&manifest_bytes), vec!["01-alice.asc".into()], None, None).unwrap();
            Rekey { session, plan, new_set: new, target: None, label_given: false }
        };
        let cards = crate::card::decrypt::Options::default();

        let rekey = make(inputs(&["01-alice.asc", "02-bob.asc"]));
        let mut prompt = Scripted::new(["not the hash"]);
        let err = run(rekey, false, &mut keys, &cards, &mut prompt, &mut |_| {}).unwrap_err();
        assert!(matches!(err, RekeyError::NotConfirmed), "{err}");
        assert_eq!(prompt.asked.len(), 1, "no passphrase before the plan is confirmed: {prompt:?}");
        assert!(!root.join("new").exists());

        let rekey = make(inputs(&["01-alice.asc", "02-bob.asc"]));
        let hash = rekey.plan.hash().to_string();
        let mut prompt = Scripted::new([hash.as_str(), "alice-pass", "bob-pass"]);
        let done = run(rekey, false, &mut keys, &cards, &mut prompt, &mut |_| {}).unwrap();
        assert_eq!(prompt.asked.len(), 3, "{prompt:?}");
        assert!(done.recovered.secret.is_empty() && done.vault_threshold_change.is_none());
        assert!(done.summary.encrypted);
        assert_eq!(done.summary.origin.previous_set_id, Some(manifest.set.id));
        assert_eq!((done.summary.set.target, done.summary.set.label.as_str()), (Target::Unseal, "prod unseal"));
        assert_ne!(done.summary.set.id, manifest.set.id);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn the_target_cannot_change() {
        assert!(check_target(Some(Target::Unseal), None).is_ok());
        let err = check_target(Some(Target::Unseal), Some(Target::Recovery)).unwrap_err();
        assert!(err.to_string().starts_with("the old set's target is unseal but the new set's would be recovery"));
    }
}
