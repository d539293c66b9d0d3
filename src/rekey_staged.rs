//! The staged rekey, for custodians who come at different times (Vault's model): the rules of
//! `submit` and of the completion. `init` stores the plan ([`crate::rekey_plan::Plan`]) under a
//! nonce ([`crate::ceremony`]); each `submit` checks the stored plan part by part, checks that the
//! share given belongs to the old set, and records it encrypted to the operator's certificate; the
//! submit that reaches the old threshold — or any later one, if a completion failed — completes:
//! the operator's key opens the recorded shares in the same recovery session as `combine`'s, the
//! new set is written from the plan alone, and the state is destroyed.

use crate::candidate::{Candidate, Piece};
use crate::card::ReaderContent;
use crate::card::decrypt::Options as CardOptions;
use crate::ceremony::{Ceremony, CeremonyError};
use crate::combine::{self, NotInManifest, Recovered};
use crate::input::Parsed;
use crate::manifest::Manifest;
use crate::new_set::{NewSetError, Origin, Summary};
use crate::openpgp::Custodian;
use crate::openpgp::certs::hex_all;
use crate::openpgp::decrypt::SecretKeys;
use crate::openpgp::encrypt::{self, EncryptError, Output};
use crate::prompt::Prompt;
use crate::recovery::{self, RecoveryError};
use crate::rekey_plan::PlanError;
use crate::secret::SecretBytes;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum StagedError {
    #[error(transparent)]
    Ceremony(#[from] CeremonyError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(
        "this share is encrypted to the key of custodian {custodian}, whose share {index} of the old set is already recorded in ceremony {nonce}: no other share of theirs is needed. Nothing was decrypted, no PIN was asked"
    )]
    CustodianRecorded { index: u8, custodian: String, nonce: String },
    #[error(
        "the plan hash typed is not the hash of ceremony {nonce}'s plan: it was mistyped, or the plan was changed since the operator started the ceremony. Nothing was read, no PIN was asked. Check the hash with the operator (in person or by phone, never from this machine); if you typed it right, do not submit: tell the operator"
    )]
    HashMismatch { nonce: String },
    #[error("the ceremony's plan has no {0}: cancel it and run init again")]
    Incomplete(&'static str),
    #[error("submit takes one old share at a time ({0} given)")]
    NotOne(usize),
    #[error("{origin} is not a share of the old set: {why}")]
    NotOfOldSet { origin: String, why: NotInManifest },
    #[error("{0} is still encrypted")]
    StillEncrypted(String),
    #[error("the share could not be recorded: {0}")]
    Encrypt(#[from] EncryptError),
    #[error(transparent)]
    Recovery(#[from] RecoveryError),
    #[error(transparent)]
    Unverified(#[from] crate::rekey::UnverifiedSecret),
    #[error(transparent)]
    NewSet(#[from] NewSetError),
    #[error("the new set cannot be written where the plan says: {0}; nothing was recorded")]
    NewDirectory(#[source] crate::output::OutputError),
    #[error(
        "the operator's key ({keys}) is neither in a key file given nor on an inserted card, and this share would reach the threshold: the ceremony records it only when it can complete. Nothing was recorded: insert the operator's card, or give the operator's key file, and submit the share again"
    )]
    OperatorKeyAbsent { keys: String },
    #[error(
        "the operator's key ({keys}) is in no key file given, and whether a card holds it cannot be told ({why}); this share would reach the threshold, and the ceremony records it only when it can complete. Nothing was recorded: give the operator's key file, or make the operator's card readable, and submit the share again"
    )]
    OperatorKeyCannotTell { keys: String, why: String },
}

/// An open ceremony whose plan was checked against what the operator confirmed.
#[derive(Debug)]
pub struct Staged {
    ceremony: Ceremony,
    pub old: Manifest,
    operator: Custodian,
}

/// One old share recorded.
#[derive(Debug)]
pub struct Recorded {
    pub index: u8,
    pub custodian: Option<String>,
    pub have: usize,
    pub needed: usize,
}

/// A completed ceremony: what was written, and whether its state is gone.
#[derive(Debug)]
pub struct Completed {
    pub nonce: String,
    pub summary: Summary,
    /// The state's removal; when it failed, the new set was written all the same.
    pub destroyed: Result<(), CeremonyError>,
}

/// A ceremony opened from its state, not yet anchored: nothing in it is trusted until the hash a
/// person was given matches ([`Unanchored::anchor`]).
#[derive(Debug)]
pub struct Unanchored {
    ceremony: Ceremony,
}

/// Opens ceremony `nonce` (its state the user's own, writable by nobody else) and checks its plan
/// against the digests beside it, so that damage is named by its part.
pub fn open(root: &Path, nonce: &str) -> Result<Unanchored, StagedError> {
    let ceremony = crate::ceremony::open(root, nonce)?;
    let record = &ceremony.plan;
    record.plan.check(&record.digests, &record.plan_hash)?;
    Ok(Unanchored { ceremony })
}

impl Unanchored {
    pub fn nonce(&self) -> &str {
        &self.ceremony.plan.nonce
    }

    /// The plan is the one whose hash `typed` is (compared in constant time with the hash of the
    /// plan as stored, nonce and time included): only then is anything in it used. Refused before
    /// any share is read or PIN asked.
    pub fn anchor(self, typed: &str) -> Result<Staged, StagedError> {
        let record = &self.ceremony.plan;
        if !record.plan.hash().matches(typed) {
            return Err(StagedError::HashMismatch { nonce: record.nonce.clone() });
        }
        let old = record.plan.old_manifest()?.ok_or(StagedError::Incomplete("old manifest"))?;
        let operator = record.plan.operator()?.ok_or(StagedError::Incomplete("operator"))?;
        let staged = Staged { ceremony: self.ceremony, old, operator };
        // What the completion needs of the new set (its certificates, a new directory) is checked
        // at every submit, before any share is read.
        crate::output::refuse_existing(&staged.new_set()?.out_dir).map_err(StagedError::NewDirectory)?;
        Ok(staged)
    }
}

impl Staged {
    pub fn nonce(&self) -> &str {
        &self.ceremony.plan.nonce
    }

    /// The hash of the plan as anchored.
    pub fn plan_hash(&self) -> crate::rekey_plan::PlanHash {
        self.ceremony.plan.plan.hash()
    }

    /// The old threshold.
    pub fn needed(&self) -> usize {
        usize::from(self.old.set.threshold)
    }

    /// How many old shares are recorded.
    pub fn have(&self) -> Result<usize, StagedError> {
        Ok(self.ceremony.recorded()?.len())
    }

    /// Whether the threshold is already recorded (a completion failed before, e.g. the operator's
    /// card was absent): the ceremony completes without any custodian.
    pub fn ready(&self) -> Result<bool, StagedError> {
        Ok(self.have()? >= self.needed())
    }

    /// The new set as the plan fixed it (its certificates validated again).
    fn new_set(&self) -> Result<crate::new_set::NewSet, StagedError> {
        Ok(self.ceremony.plan.plan.new_set(Some((self.old.target(), self.old.set.label.as_str())))?)
    }

    /// Whether the operator's key can open the records now: one of the key files given holds it,
    /// or an inserted card does. Checked before the share that reaches the threshold is read,
    /// so that no custodian's share is recorded for a completion that cannot happen.
    pub fn check_operator(&self, keys: &SecretKeys) -> Result<(), StagedError> {
        let wanted = self.operator.encryption_keys();
        if keys.holds_any(&wanted) {
            return Ok(());
        }
        let hex = hex_all(&wanted);
        // The cards could not be looked at (no pcscd, no reader): said as such, not as "absent".
        let readers = crate::card::list()
            .map_err(|why| StagedError::OperatorKeyCannotTell { keys: hex.join(", "), why: why.to_string() })?;
        let on_card = readers.iter().any(|r| match &r.content {
            ReaderContent::OpenPgp(info) => info.decryption.fingerprint.as_ref().is_some_and(|f| hex.contains(f)),
            _ => false,
        });
        if on_card { Ok(()) } else { Err(StagedError::OperatorKeyAbsent { keys: hex.join(", ") }) }
    }

    /// Submit takes one old share at a time: checked before anything is decrypted.
    pub fn check_one(&self, read: &recovery::Inputs) -> Result<(), StagedError> {
        match read.len() {
            1 => Ok(()),
            n => Err(StagedError::NotOne(n)),
        }
    }

    /// Refuses a share already recorded before its custodian is asked for anything: the index of
    /// an encrypted share is the old manifest's for the keys it is encrypted to.
    pub fn check_not_recorded(&self, read: &recovery::Inputs) -> Result<(), StagedError> {
        for candidate in read.candidates() {
            let nonce = self.ceremony.plan.nonce.clone();
            match &candidate.piece {
                // A share of the old set (its set id says so) whose index is recorded.
                Piece::Share(share) if share.set.id == self.old.set.id && self.ceremony.is_recorded(share.index) => {
                    return Err(StagedError::Ceremony(CeremonyError::AlreadySubmitted { index: share.index, nonce }));
                }
                Piece::Encrypted { message, .. } => {
                    // Whose it is, by the keys it is encrypted to, when exactly one old share is
                    // encrypted to them; that custodian's share is already recorded.
                    let recipients = crate::openpgp::decrypt::recipients(message).unwrap_or_default();
                    let whose = self.old.entries_for_recipients(&recipients);
                    if let [entry] = whose.as_slice()
                        && self.ceremony.is_recorded(entry.index)
                    {
                        return Err(StagedError::CustodianRecorded {
                            index: entry.index,
                            custodian: entry.custodian.as_deref().map_or("unnamed".into(), crate::sanitize),
                            nonce,
                        });
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Records the one old share in `opened` (already decrypted by its custodian), after checking
    /// it belongs to the old set, encrypted to the operator's certificate.
    pub fn submit(&self, opened: Vec<Candidate>) -> Result<Recorded, StagedError> {
        let [candidate] = <[Candidate; 1]>::try_from(opened).map_err(|v| StagedError::NotOne(v.len()))?;
        let index = combine::locate(&candidate.piece, &self.old)
            .map_err(|why| StagedError::NotOfOldSet { origin: candidate.origin.clone(), why })?;
        let text = candidate.piece.text_form().ok_or_else(|| StagedError::StillEncrypted(candidate.origin.clone()))?;
        let message = encrypt::encrypt(&self.operator, text.as_bytes(), Output::Binary)?;
        self.ceremony.record(index, &message)?;
        Ok(Recorded {
            index,
            custodian: self.old.entry(index).and_then(|e| e.custodian.clone()),
            have: self.have()?,
            needed: self.needed(),
        })
    }

    /// The threshold is reached: the operator's key (`keys`, or the operator's card) opens the
    /// recorded shares in the recovery session, and the secret is recovered and verified.
    pub fn recover(
        &self,
        keys: &mut SecretKeys,
        cards: &CardOptions,
        prompt: &mut dyn Prompt,
    ) -> Result<Recovered, StagedError> {
        let k = self.needed();
        let candidates: Vec<Candidate> = self
            .ceremony
            .recorded()?
            .into_iter()
            .map(|(i, bytes)| Candidate {
                origin: format!("recorded old share {i}"),
                piece: Piece::Encrypted { message: bytes, target: None },
            })
            .collect();
        let inputs = recovery::Inputs::new(vec![Parsed { candidates, threshold: Some(k) }])?;
        Ok(recovery::prepare_recorded(inputs, Some(k), Some(&self.old))?.recover(keys, cards, prompt)?)
    }

    /// Writes the new set from the plan with the recovered secret (wiped from `recovered`), and
    /// destroys the state.
    pub fn finish(self, recovered: &mut Recovered) -> Result<Completed, StagedError> {
        let previous = recovered.set.as_ref().map_or(self.old.set.id, |s| s.id);
        let unverified = crate::rekey::check_verified(recovered, self.ceremony.plan.plan.accept_unverified, true)?;
        let new_set = self.new_set()?;
        let origin = Origin {
            previous_set_id: Some(previous),
            previous_unverified: unverified,
            previous_random: crate::rekey::inherits_random(Some(&self.old), recovered),
            vouched_random: self.ceremony.plan.plan.secret_vouched_random,
            ..Origin::default()
        };
        let secret = std::mem::replace(&mut recovered.secret, SecretBytes::zeroed(0));
        let summary = crate::new_set::write(new_set, secret, origin)?;
        let nonce = self.ceremony.plan.nonce.clone();
        let destroyed = self.ceremony.destroy();
        Ok(Completed { nonce, summary, destroyed })
    }

    /// Where the new set goes, as `init` fixed it.
    pub fn out_dir(&self) -> PathBuf {
        PathBuf::from(&self.ceremony.plan.plan.new_set.out_dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ceremony::PlanRecord;
    use crate::new_set::Origin;
    use crate::prompt::Scripted;
    use crate::rekey::tests::{new_set, person};
    use crate::rekey_plan::Plan;

    /// A whole staged rekey through the scripted prompt, with key files for the custodians and the
    /// operator: one share per submit, a share of another set refused, a share given twice
    /// refused, the completion on the operator's key, and the state gone.
    #[test]
    fn a_staged_rekey_through_the_prompt() {
        let root = std::env::temp_dir().join(format!("symbolon-staged-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let mut keys = SecretKeys::default();
        let old_people = vec![person("alice", Some(&mut keys)), person("bob", Some(&mut keys)), person("carol", None)];
        crate::new_set::write(
            new_set(old_people, 2, root.join("old")),
            SecretBytes::copy_from(b"kept"),
            Origin::default(),
        )
        .unwrap();
        let other = vec![person("alice", Some(&mut keys))];
        crate::new_set::write(
            new_set(other, 1, root.join("other")),
            SecretBytes::copy_from(b"else"),
            Origin::default(),
        )
        .unwrap();
        let manifest_bytes = std::fs::read(root.join("old/manifest.json")).unwrap();
        let old = Manifest::from_json(std::str::from_utf8(&manifest_bytes).unwrap()).unwrap();
        let mut operator_keys = SecretKeys::default();
        let operator = person("operator", Some(&mut operator_keys));
        let new = new_set(vec![person("dave", None), person("erin", None)], 2, root.join("new"));
        let nonce = crate::ceremony::new_nonce().unwrap();
        let plan = Plan::new(&new, None, None, Some(&manifest_bytes), Vec::new(), Some(&operator), Some(nonce.clone()))
            .unwrap();
        let hash = plan.hash().to_string();
        let state = root.join("state");
        crate::ceremony::create(&state, &PlanRecord::new(plan)).unwrap();
        let cards = CardOptions::default();
        let opened = |file: &str, pass: &str, keys: &mut SecretKeys| {
            let parsed = crate::input::parse_bytes(file, &std::fs::read(root.join(file)).unwrap()).unwrap();
            let inputs = recovery::Inputs::new(vec![parsed]).unwrap();
            inputs.open(keys, &cards, &mut Scripted::new([pass])).unwrap()
        };

        // A hash that is not the plan's is refused.
        let other = "0000 1111 2222 3333 4444 5555 6666 7777";
        assert!(matches!(open(&state, &nonce).unwrap().anchor(other).unwrap_err(), StagedError::HashMismatch { .. }));
        let staged = open(&state, &nonce).unwrap().anchor(&hash).unwrap();
        assert!(!staged.ready().unwrap());
        let err = staged.submit(opened("other/01-alice.asc", "alice-pass", &mut keys)).unwrap_err();
        assert!(matches!(err, StagedError::NotOfOldSet { .. }), "{err}");
        let r = staged.submit(opened("old/01-alice.asc", "alice-pass", &mut keys)).unwrap();
        assert_eq!((r.index, r.custodian.as_deref(), r.have, r.needed), (1, Some("alice"), 1, 2));
        let err = staged.submit(opened("old/01-alice.asc", "alice-pass", &mut keys)).unwrap_err();
        assert!(matches!(err, StagedError::Ceremony(CeremonyError::AlreadySubmitted { index: 1, .. })), "{err}");

        // Another session: the ceremony is opened again from its state alone.
        let staged = open(&state, &nonce).unwrap().anchor(&hash).unwrap();
        // The share that reaches the threshold is taken only when the operator's key is at hand
        // (no card here: the key file).
        // Without a reachable pcscd, whether a card holds it cannot be told, and that is what is
        // said; with one (the suite's virtual readers), no card holds it.
        let err = staged.check_operator(&keys).unwrap_err();
        if crate::card::list().is_ok() {
            assert!(matches!(err, StagedError::OperatorKeyAbsent { .. }), "{err}");
        } else {
            assert!(matches!(err, StagedError::OperatorKeyCannotTell { .. }), "{err}");
        }
        staged.check_operator(&operator_keys).unwrap();
        // A new directory that appeared since init is refused at the next submit, before any share.
        std::fs::create_dir(root.join("new")).unwrap();
        assert!(matches!(open(&state, &nonce).unwrap().anchor(&hash).unwrap_err(), StagedError::NewDirectory(_)));
        std::fs::remove_dir(root.join("new")).unwrap();
        let r = staged.submit(opened("old/02-bob.asc", "bob-pass", &mut keys)).unwrap();
        assert_eq!((r.have, r.needed), (2, 2));
        assert!(staged.ready().unwrap());
        let mut prompt = Scripted::new(["operator-pass", "operator-pass"]);
        let mut recovered = staged.recover(&mut operator_keys, &cards, &mut prompt).unwrap();
        assert!(prompt.asked.iter().all(|a| a.contains("operator")), "only the operator's key: {prompt:?}");
        let done = staged.finish(&mut recovered).unwrap();
        assert_eq!(done.nonce, nonce);
        assert!(done.destroyed.is_ok() && done.summary.encrypted && recovered.secret.is_empty());
        assert_eq!(done.summary.origin.previous_set_id, Some(old.set.id));
        assert!(!state.join(&nonce).exists());
        assert!(matches!(open(&state, &nonce).unwrap_err(), StagedError::Ceremony(CeremonyError::NoSuch { .. })));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
