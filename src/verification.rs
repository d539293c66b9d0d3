//! Verifying a (new) set: its custodians decrypt their shares on their cards (or key files), one
//! after another, and each share is checked against its commitment in the manifest. The rules of
//! what may be claimed live here, next to the record they write:
//!
//! - a share is **verified** when its file's hash is the manifest's (where the manifest has one),
//!   it is encrypted to exactly the keys the manifest lists for it (no other recipient, no
//!   password), it decrypts on its custodian's key, and it is the share the manifest lists under
//!   its index, matching its commitment there;
//! - the **set** is verified only when EVERY share of it verified in this run AND all of them lie
//!   on the polynomials they reconstruct: a share that matches its commitment but lies off them
//!   (a faulty machine at split time) is named and FAILED;
//! - with a quorum, a threshold of verified shares is reconstructed and checked against what the
//!   set offers: its commitment (format v1), or, for Vault's bare keys, only each key against its
//!   manifest commitment; exactly that is said, and recorded;
//! - a run over some shares only (`--share`) says how many of the set's shares it verified, and
//!   that the set is not verified yet.

use crate::candidate::{Candidate, Piece};
use crate::card::decrypt::Options as CardOptions;
use crate::combine::{self, NotInManifest, Verification};
use crate::manifest::Manifest;
use crate::openpgp::decrypt::SecretKeys;
use crate::output::{OutputError, Privacy, write_new_file};
use crate::prompt::{Prompt, Question, Waited};
use crate::share::SetId;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// How to run a verification.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Only these shares (by index); empty: every share of the set.
    pub only: Vec<u8>,
    /// On a failure, ask whether to retry (once the right card is inserted) or skip.
    pub wait: bool,
    pub cards: CardOptions,
}

/// What happened to one share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShareOutcome {
    pub index: u8,
    pub custodian: Option<String>,
    pub verified: bool,
    /// Why it was not verified.
    pub reason: Option<String>,
}

/// What the shares verified together were checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SetCheck {
    /// A threshold of verified shares reconstructs the secret the set's commitment commits to.
    Commitment,
    /// Bare keys (Vault's format): each verified key matches its commitment in the manifest; the
    /// set has no commitment to check the reconstruction against.
    EachKey,
    /// Not made: fewer than the threshold verified, or nothing to check against.
    None,
}

/// The outcome of a verification run.
#[derive(Debug)]
pub struct Report {
    /// Why each share that failed did (index, error), for advice on what to do.
    pub failures: Vec<(u8, ShareFailure)>,
    pub set_id: SetId,
    pub threshold: u8,
    pub share_count: u8,
    pub shares: Vec<ShareOutcome>,
    pub set_check: SetCheck,
    /// Whether the set's shares are encrypted to custodians (else there was nothing to decrypt).
    pub encrypted: bool,
    /// How many verified shares were checked to lie on one set of polynomials, when more than the
    /// threshold were (with exactly the threshold, any shares do).
    pub on_polynomial: Option<usize>,
    /// Why the verified shares could not be combined at all, if they could not.
    pub set_failure: Option<String>,
}

/// What the run establishes about the set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every share of the set verified.
    SetVerified,
    /// A threshold verified and was checked as [`Report::set_check`] says; `failed` did not verify.
    QuorumVerified { verified: usize, failed: usize },
    /// Every share asked for verified, but they are not all of the set's.
    SubsetVerified { verified: usize, of: usize },
    /// Shares failed: the set is not verified.
    NotVerified { verified: usize, failed: usize, asked: usize },
}

impl Report {
    pub fn verified(&self) -> usize {
        self.shares.iter().filter(|s| s.verified).count()
    }

    /// The verdict, without (`quorum` false) or with a threshold accepted.
    pub fn verdict(&self, quorum: bool) -> Verdict {
        let (verified, asked) = (self.verified(), self.shares.len());
        let failed = asked - verified;
        if self.set_failure.is_some() {
            return Verdict::NotVerified { verified, failed: failed.max(1), asked };
        }
        if quorum && failed == 0 && asked == usize::from(self.share_count) {
            return Verdict::SetVerified;
        }
        if quorum {
            if verified >= usize::from(self.threshold) && self.set_check != SetCheck::None {
                return Verdict::QuorumVerified { verified, failed };
            }
            return Verdict::NotVerified { verified, failed, asked };
        }
        if failed > 0 {
            Verdict::NotVerified { verified, failed, asked }
        } else if asked < usize::from(self.share_count) {
            Verdict::SubsetVerified { verified, of: usize::from(self.share_count) }
        } else {
            Verdict::SetVerified
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VerificationError {
    #[error("the manifest lists no share {}: the set's shares are 1 to {count}", list(.asked))]
    NoSuchShare { asked: Vec<u8>, count: u8 },
    #[error(transparent)]
    Combine(#[from] combine::CombineError),
    #[error(transparent)]
    Output(#[from] OutputError),
}

/// Verifies the shares of `manifest`, whose files are in `dir`, through `prompt`.
pub fn verify(
    manifest: &Manifest,
    dir: &Path,
    keys: &mut SecretKeys,
    options: &Options,
    prompt: &mut dyn Prompt,
) -> Result<Report, VerificationError> {
    let entries: Vec<_> =
        manifest.shares.iter().filter(|e| options.only.is_empty() || options.only.contains(&e.index)).collect();
    let unknown: Vec<u8> = options.only.iter().copied().filter(|i| manifest.entry(*i).is_none()).collect();
    if entries.is_empty() || !unknown.is_empty() {
        return Err(VerificationError::NoSuchShare { asked: unknown, count: manifest.set.count });
    }
    let mut shares = Vec::new();
    let mut failures = Vec::new();
    let mut verified: Vec<(u8, Candidate)> = Vec::new();
    // One card session: a custodian holding several shares types the PIN once; a PIN is kept
    // only while a share still to be verified is encrypted to its card.
    let mut cards = crate::card::decrypt::Cards::new(options.cards.clone());
    for (n, entry) in entries.iter().enumerate() {
        cards.keep_pins_for(&entries[n..].iter().flat_map(|e| e.key_handles()).collect::<Vec<_>>());
        let who = entry
            .custodian
            .as_deref()
            .map_or(", a plaintext share".into(), |c| format!(" of custodian {}", crate::sanitize(c)));
        prompt.notice(&format!("[{}/{}] share {}{who} ({})", n + 1, entries.len(), entry.index, entry.file));
        let mut waits = crate::recovery::CardWaits::default();
        let result = loop {
            // Looked at before the attempt, so that a card inserted meanwhile ends the wait.
            let watch = options.cards.wait.then(crate::card::events::Watch::look);
            match (verify_one(&dir.join(&entry.file), entry.index, manifest, keys, &mut cards, prompt), watch.as_ref())
            {
                (Ok(candidate), _) => {
                    verified.push((entry.index, candidate));
                    break Ok(());
                }
                (Err(ShareFailure::Input(crate::input::InputError::Decrypt { origin, source })), Some(watch))
                    if source.card_absent() =>
                {
                    // The custodian inserts the card (symbolon sees it and goes on), or it is
                    // skipped: the share is then not verified.
                    let card = format!("the card for share {}{who}", entry.index);
                    let waited = waits.wait(prompt, &source, card, Some("skip it (it is then not verified)"), watch);
                    let why = ShareFailure::Input(crate::input::InputError::Decrypt { origin, source });
                    match waited {
                        Ok(Waited::Changed) => continue,
                        Ok(Waited::Skip) => {
                            prompt.notice("  skipped: its card is not here, so the share is not verified");
                            break Err(why);
                        }
                        Err(e) => {
                            prompt.notice(&format!("  not verified: {e}"));
                            break Err(why);
                        }
                    }
                }
                (Err(why), _) => {
                    if why.not_tried() {
                        prompt.notice(&format!("  skipped: {why}"));
                    } else {
                        prompt.notice(&format!("  FAILED: {why}"));
                    }
                    // The person may fix what failed and try again, or skip.
                    let question = Question::RetryOrSkip { what: "Insert the right card".into() };
                    if options.wait && prompt.confirm(&question).unwrap_or(false) {
                        continue;
                    }
                    break Err(why);
                }
            }
        };
        if result.is_ok() {
            let decrypts = if entry.custodian.is_some() { "decrypts and " } else { "" };
            prompt.notice(&format!("  OK: share {} {decrypts}matches its commitment in the manifest.", entry.index));
        }
        shares.push(ShareOutcome {
            index: entry.index,
            custodian: entry.custodian.clone(),
            verified: result.is_ok(),
            reason: result.as_ref().err().map(ToString::to_string),
        });
        if let Err(why) = result {
            failures.push((entry.index, why));
        }
    }
    // Nothing more to decrypt: no PIN is kept.
    cards.keep_pins_for(&[]);
    let whole = whole(&verified, manifest);
    // A share that matched its commitment but lies off the polynomials is not verified.
    for (index, why) in &whole.off {
        if let Some(outcome) = shares.iter_mut().find(|s| s.index == *index) {
            outcome.verified = false;
            outcome.reason = Some(why.to_string());
        }
        prompt.notice(&format!("  FAILED: share {index}: {why}"));
    }
    failures.extend(whole.off);
    Ok(Report {
        failures,
        set_id: manifest.set.id,
        threshold: manifest.set.threshold,
        share_count: manifest.set.count,
        shares,
        set_check: whole.set_check,
        encrypted: manifest.is_encrypted(),
        on_polynomial: whole.on_polynomial,
        set_failure: whole.failure,
    })
}

/// What the verified shares establish together.
struct Whole {
    set_check: SetCheck,
    /// Shares that matched their commitments but lie off the polynomials the others define.
    off: Vec<(u8, ShareFailure)>,
    on_polynomial: Option<usize>,
    failure: Option<String>,
}

/// Combines the verified shares: against the set's commitment (or each key's), and every one of
/// them against the polynomials the others define (decoding: a share off them is located).
fn whole(verified: &[(u8, Candidate)], manifest: &Manifest) -> Whole {
    let k = usize::from(manifest.set.threshold);
    let mut out = Whole { set_check: SetCheck::None, off: Vec::new(), on_polynomial: None, failure: None };
    if verified.len() < k {
        return out;
    }
    let index_of = |origin: &String| verified.iter().find(|(_, c)| &c.origin == origin).map(|(i, _)| *i);
    let candidates = || verified.iter().map(|(_, c)| c.clone()).collect::<Vec<_>>();
    let ctx = combine::Context { threshold: Some(k), manifest: Some(manifest) };
    let mut off: Vec<u8> = Vec::new();
    let bare = verified.iter().any(|(_, c)| matches!(c.piece, Piece::VaultKey { .. }));
    match combine::combine(candidates(), &ctx) {
        Ok(r) => {
            out.set_check = match r.verification {
                Verification::SetCommitment => SetCheck::Commitment,
                Verification::Manifest => SetCheck::EachKey,
                Verification::Consistency { .. } | Verification::Unverified => SetCheck::None,
            };
            // Bare keys: which key lies off is found by decoding them all, below (combine checks
            // the others only against its first k).
            let unattributed = if bare { &[][..] } else { &r.unattributed[..] };
            off.extend(r.bad.iter().chain(unattributed).filter_map(index_of));
        }
        Err(e) => out.failure = Some(e.to_string()),
    }
    // Bare keys vouched for one by one are combined from any k of them: they are all decoded
    // here, with no manifest, so that each is checked against the polynomial the others define.
    if out.failure.is_none() && bare && verified.len() > k {
        let ctx = combine::Context { threshold: Some(k), manifest: None };
        match combine::combine(candidates(), &ctx) {
            Ok(r) => off.extend(r.bad.iter().chain(&r.unattributed).filter_map(index_of)),
            Err(e) => out.failure = Some(e.to_string()),
        }
    }
    off.sort_unstable();
    off.dedup();
    if out.failure.is_none() && verified.len() > k {
        out.on_polynomial = Some(verified.len() - off.len());
    }
    out.off = off.into_iter().map(|index| (index, ShareFailure::OffPolynomial { index })).collect();
    out
}

/// Why one share did not verify.
#[derive(Debug, thiserror::Error)]
pub enum ShareFailure {
    #[error("{origin} cannot be read: {source}")]
    Unreadable { origin: String, source: std::io::Error },
    #[error(transparent)]
    Input(#[from] crate::input::InputError),
    #[error(transparent)]
    Open(#[from] crate::recovery::RecoveryError),
    #[error("{origin} holds {count} shares, expected one")]
    NotOne { origin: String, count: usize },
    #[error("{}, but it is share {found}, not share {index}: the file is misnamed", read_as(*.encrypted))]
    Misnamed { found: u8, index: u8, encrypted: bool },
    #[error("{}, but {why}", read_as(*.encrypted))]
    NotInManifest { why: NotInManifest, encrypted: bool },
    #[error("its file's SHA-256 is not the manifest's: the file was changed or replaced after the set was written")]
    FileHash,
    #[error("the file is not encrypted, though the manifest says the set's shares are: it was replaced")]
    NotEncrypted,
    #[error(
        "it is encrypted to {}, not exactly to the keys the manifest lists for it ({}): someone else could read it",
        list_or_none(.found), list_or_none(.expected)
    )]
    Recipients { found: Vec<String>, expected: Vec<String> },
    #[error(
        "share {index} matches its commitment, but it does not lie on the polynomials the set's other shares define: the set was made wrong (a faulty machine or memory at split time). Keep the old shares and make the set again"
    )]
    OffPolynomial { index: u8 },
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() { "no key".into() } else { items.join(", ") }
}

impl ShareFailure {
    /// Whether the share was not looked at because its key cannot be used here (its card is not
    /// inserted, or is at its last PIN try): nothing was tried, the share is not shown bad.
    pub fn not_tried(&self) -> bool {
        matches!(self, ShareFailure::Input(crate::input::InputError::Decrypt { source, .. }) if source.untried())
    }
}

/// Decrypts one share (key files first, then the cards) and checks it against the manifest.
fn verify_one(
    path: &Path,
    index: u8,
    manifest: &Manifest,
    keys: &mut SecretKeys,
    cards: &mut crate::card::decrypt::Cards,
    prompt: &mut dyn Prompt,
) -> Result<Candidate, ShareFailure> {
    let origin = path.display().to_string();
    // A plaintext share file is the share itself: its bytes are wiped when done.
    let bytes = crate::secret::SecretBytes::new(
        std::fs::read(path).map_err(|source| ShareFailure::Unreadable { origin: origin.clone(), source })?,
    );
    let entry = manifest.entry(index);
    // The file the manifest describes, byte for byte (where it publishes the file's hash).
    if let Some(expected) = entry.and_then(|e| e.sha256) {
        let got = crate::commitment::sha256_wiped(&[bytes.expose()]);
        if !crate::secret::ct_eq(&got, &expected) {
            return Err(ShareFailure::FileHash);
        }
    }
    let parsed = crate::input::parse_bytes(&origin, bytes.expose())?;
    let encrypted = parsed.candidates.iter().any(|c| matches!(c.piece, Piece::Encrypted { .. }));
    if manifest.is_encrypted() && !encrypted {
        return Err(ShareFailure::NotEncrypted);
    }
    // Encrypted to exactly the keys the manifest lists, checked before any PIN is asked.
    if let Some(entry) = entry.filter(|e| !e.encryption_keys.is_empty()) {
        for candidate in &parsed.candidates {
            if let Piece::Encrypted { message, .. } = &candidate.piece {
                exact_recipients(message, &entry.encryption_keys)?;
            }
        }
    }
    let mut opened = crate::recovery::open_on(parsed.candidates, keys, cards, prompt)?;
    if opened.len() != 1 {
        return Err(ShareFailure::NotOne { origin, count: opened.len() });
    }
    let candidate = opened.remove(0);
    match combine::locate(&candidate.piece, manifest) {
        Ok(found) if found == index => Ok(candidate),
        Ok(found) => Err(ShareFailure::Misnamed { found, index, encrypted }),
        Err(why) => Err(ShareFailure::NotInManifest { why, encrypted }),
    }
}

/// The message is encrypted to exactly `expected` (each of them, and no other key or password).
fn exact_recipients(message: &[u8], expected: &[sequoia_openpgp::Fingerprint]) -> Result<(), ShareFailure> {
    use sequoia_openpgp::KeyHandle;
    let shown = |found: &[String]| ShareFailure::Recipients {
        found: found.to_vec(),
        expected: expected.iter().map(|f| f.to_hex()).collect(),
    };
    let bytes = crate::openpgp::dearmor(message).unwrap_or_else(|_| message.to_vec());
    let (keys, passwords) = crate::openpgp::decrypt::all_recipients(&bytes).map_err(|_| shown(&[]))?;
    let mut found: Vec<String> = keys.iter().map(ToString::to_string).collect();
    if passwords > 0 {
        found.push(format!("{passwords} password(s)"));
    }
    let wanted: Vec<KeyHandle> = expected.iter().cloned().map(KeyHandle::from).collect();
    let extra = keys.iter().any(|k| !wanted.iter().any(|w| w.aliases(k)));
    let missing = wanted.iter().any(|w| !keys.iter().any(|k| w.aliases(k)));
    if extra || missing || passwords > 0 { Err(shown(&found)) } else { Ok(()) }
}

fn list(indexes: &[u8]) -> String {
    indexes.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

fn read_as(encrypted: bool) -> &'static str {
    if encrypted { "it decrypts" } else { "it is a well-formed share" }
}

/// What `decrypt --check` establishes about one decrypted share, with nothing secret in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShareCheck {
    /// A symbolon share; `in_manifest`: it matches its commitment in the manifest given.
    Share { index: u8, set_short: String, threshold: String, in_manifest: bool },
    /// A Vault key that matches the manifest given as key `index`.
    VaultKeyInManifest { index: u8, set_short: String },
    /// A Vault key, not checked against any manifest.
    VaultKey { len: usize },
}

/// Why a decrypted share does not check.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("the share decrypts, but {0}")]
    Share(NotInManifest),
    #[error("the key decrypts, but {0}")]
    Key(NotInManifest),
    #[error("the share holds another encrypted message")]
    Nested,
}

/// Checks a decrypted share: well-formed, and against the manifest when one is given.
pub fn check_share(piece: &Piece, manifest: Option<&Manifest>) -> Result<ShareCheck, CheckError> {
    match (piece, manifest) {
        (Piece::Share(share), m) => {
            if let Some(m) = m {
                combine::locate(piece, m).map_err(CheckError::Share)?;
            }
            Ok(ShareCheck::Share {
                index: share.index,
                set_short: share.set.id.short(),
                threshold: share.set.describe_threshold(),
                in_manifest: m.is_some(),
            })
        }
        (Piece::VaultKey { .. }, Some(m)) => {
            let index = combine::locate(piece, m).map_err(CheckError::Key)?;
            Ok(ShareCheck::VaultKeyInManifest { index, set_short: m.set.id.short() })
        }
        (Piece::VaultKey { bytes, .. }, None) => Ok(ShareCheck::VaultKey { len: bytes.len() }),
        (Piece::Encrypted { .. }, _) => Err(CheckError::Nested),
    }
}

/// The record written next to the manifest (public): who verified which share, when, and what
/// the run established.
#[derive(Debug, Serialize)]
pub struct Record<'a> {
    pub schema: &'static str,
    pub schema_version: u32,
    pub set_id: String,
    pub time: String,
    pub shares_in_set: u8,
    /// True only when the reconstruction was checked against the set's commitment.
    pub set_commitment_checked: bool,
    pub set_check: SetCheck,
    pub set_verified: bool,
    pub shares: &'a [ShareOutcome],
}

/// Writes `verification-<time>.json` next to the manifest; returns its path.
pub fn write_record(dir: &Path, report: &Report) -> Result<PathBuf, OutputError> {
    let now = crate::time::now();
    let record = Record {
        schema: "symbolon-verification",
        schema_version: 2,
        set_id: report.set_id.to_string(),
        time: crate::time::utc_timestamp(now),
        shares_in_set: report.share_count,
        set_commitment_checked: report.set_check == SetCheck::Commitment,
        set_check: report.set_check,
        set_verified: report.verdict(false) == Verdict::SetVerified,
        shares: &report.shares,
    };
    // Serializing this plain struct cannot fail.
    let json = serde_json::to_string_pretty(&record).unwrap_or_default();
    let stamp = crate::time::utc_timestamp(now).replace(':', "");
    // Two sessions in one second get their own records.
    let mut n = 1;
    loop {
        let name = if n == 1 { format!("verification-{stamp}.json") } else { format!("verification-{stamp}-{n}.json") };
        let path = dir.join(name);
        match write_new_file(&path, json.as_bytes(), Privacy::Public) {
            Err(OutputError::Exists { .. }) if n < 100 => n += 1,
            result => return result.map(|()| path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::new_set::{NewSet, Origin, QrImages};
    use crate::openpgp::Custodian;
    use crate::prompt::Scripted;
    use crate::secret::SecretBytes;
    use crate::share::{Label, Share, Target};
    use crate::split::SplitPlan;
    use sequoia_openpgp::cert::prelude::*;
    use sequoia_openpgp::serialize::SerializeInto;

    /// A 2-of-3 set encrypted to alice, bob and carol, written to a new directory; the secret
    /// keys of alice and carol.
    fn encrypted_set(tag: &str, with_keys: &[&str]) -> (PathBuf, Manifest, SecretKeys, Vec<Custodian>) {
        let mut keys = SecretKeys::default();
        let mut custodians = Vec::new();
        for name in ["alice", "bob", "carol"] {
            let (cert, _) = CertBuilder::general_purpose(Some(format!("{name} <{name}@example.org>")))
                .set_cipher_suite(CipherSuite::Cv25519)
                .generate()
                .unwrap();
            if with_keys.contains(&name) {
                keys.add(&format!("{name}.key"), &cert.as_tsk().to_vec().unwrap()).unwrap();
            }
            custodians.push(Custodian::new(name, vec![(format!("{name}.asc"), cert)]).unwrap());
        }
        let out_dir = std::env::temp_dir().join(format!("symbolon-verification-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out_dir);
        let new = NewSet {
            plan: SplitPlan {
                scheme: crate::shamir::Scheme::Native,
                threshold: 2,
                shares: 3,
                target: Target::Generic,
                label: Label::new("t").unwrap(),
                created: None,
            },
            format: crate::manifest::ShareFormat::SymbolonV1,
            custodians: custodians.clone(),
            binary: false,
            qr: QrImages { png: false, svg: false, asked: false },
            paper: None,
            out_dir: out_dir.clone(),
        };
        crate::new_set::write(new, SecretBytes::copy_from(b"verified secret"), Origin::default()).unwrap();
        let manifest = Manifest::from_json(&std::fs::read_to_string(out_dir.join("manifest.json")).unwrap()).unwrap();
        (out_dir, manifest, keys, custodians)
    }

    /// Rewrites share `index`'s file with `contents`, and its manifest entry's hash (and, given,
    /// commitment) to match: what a faulty split would have written.
    fn rewrite(dir: &Path, manifest: &mut Manifest, index: u8, contents: &[u8], commitment: Option<[u8; 32]>) {
        let entry = manifest.shares.iter_mut().find(|e| e.index == index).unwrap();
        std::fs::write(dir.join(&entry.file), contents).unwrap();
        entry.sha256 = Some(crate::commitment::sha256_wiped(&[contents]));
        if let Some(c) = commitment {
            entry.commitment = c;
        }
        std::fs::write(dir.join("manifest.json"), manifest.to_json()).unwrap();
    }

    /// Opens share `index` of the set with `keys`.
    fn open_share(dir: &Path, manifest: &Manifest, index: u8, keys: &mut SecretKeys) -> Share {
        let file = &manifest.entry(index).unwrap().file;
        let parsed = crate::input::parse_bytes(file, &std::fs::read(dir.join(file)).unwrap()).unwrap();
        let mut cards = crate::card::decrypt::Cards::new(CardOptions::default());
        let mut opened =
            crate::recovery::open_on(parsed.candidates, keys, &mut cards, &mut Scripted::default()).unwrap();
        match opened.remove(0).piece {
            Piece::Share(share) => share,
            _ => panic!("a share"),
        }
    }

    #[test]
    fn a_share_off_the_polynomial_with_a_matching_commitment_is_not_verified() {
        let (dir, mut manifest, mut keys, people) = encrypted_set("off", &["alice", "bob", "carol"]);
        let report = verify(&manifest, &dir, &mut keys, &Options::default(), &mut Scripted::default()).unwrap();
        assert_eq!(report.verdict(false), Verdict::SetVerified);
        assert_eq!(report.on_polynomial, Some(3));
        // Share 3 made wrong: the last byte of its payload (a y byte) differs, and its commitment
        // and file hash were made for the wrong share, as a faulty machine would have written them.
        let mut share = open_share(&dir, &manifest, 3, &mut keys);
        let last = share.payload.len() - 1;
        share.payload.expose_mut()[last] ^= 1;
        let message = crate::openpgp::encrypt::encrypt(
            &people[2],
            share.to_text().as_bytes(),
            crate::openpgp::encrypt::Output::Armored,
        )
        .unwrap();
        rewrite(&dir, &mut manifest, 3, &message, Some(share.commitment()));
        let mut prompt = Scripted::default();
        let report = verify(&manifest, &dir, &mut keys, &Options::default(), &mut prompt).unwrap();
        let verified: Vec<bool> = report.shares.iter().map(|s| s.verified).collect();
        assert_eq!(verified, [true, true, false], "{prompt:?}");
        assert!(report.shares[2].reason.as_deref().unwrap().contains("does not lie on the polynomials"), "{report:?}");
        assert_eq!(report.verdict(false), Verdict::NotVerified { verified: 2, failed: 1, asked: 3 });
        assert!(prompt.notices.iter().any(|n| n.starts_with("  FAILED: share 3: share 3 matches its commitment")));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_share_with_an_extra_recipient_or_another_file_is_not_verified() {
        let (dir, mut manifest, mut keys, people) = encrypted_set("extra", &["alice", "bob", "carol"]);
        // Share 1 encrypted to alice AND an escrow key; the manifest's file hash updated to match.
        let share = open_share(&dir, &manifest, 1, &mut keys);
        let (escrow, _) = CertBuilder::general_purpose(Some("escrow")).generate().unwrap();
        let mut both = people[0].clone();
        both = Custodian::new(
            &both.name,
            vec![("alice.asc".into(), both.certs()[0].clone()), ("escrow.asc".into(), escrow)],
        )
        .unwrap();
        let message = crate::openpgp::encrypt::encrypt(
            &both,
            share.to_text().as_bytes(),
            crate::openpgp::encrypt::Output::Armored,
        )
        .unwrap();
        rewrite(&dir, &mut manifest, 1, &message, None);
        // Share 2's file replaced by another encryption of the same share (hash not updated).
        let share2 = open_share(&dir, &manifest, 2, &mut keys);
        let again = crate::openpgp::encrypt::encrypt(
            &people[1],
            share2.to_text().as_bytes(),
            crate::openpgp::encrypt::Output::Armored,
        )
        .unwrap();
        std::fs::write(dir.join(&manifest.entry(2).unwrap().file), again).unwrap();
        let mut prompt = Scripted::default();
        let report = verify(&manifest, &dir, &mut keys, &Options::default(), &mut prompt).unwrap();
        let verified: Vec<bool> = report.shares.iter().map(|s| s.verified).collect();
        assert_eq!(verified, [false, false, true], "{report:?}");
        let reason = report.shares[0].reason.as_deref().unwrap();
        assert!(reason.starts_with("it is encrypted to ") && reason.contains("someone else could read it"), "{reason}");
        assert!(report.shares[1].reason.as_deref().unwrap().starts_with("its file's SHA-256 is not the manifest's"));
        assert_ne!(report.verdict(false), Verdict::SetVerified);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_share_that_fails_is_retried_then_skipped_and_the_set_is_not_verified() {
        let (dir, manifest, mut keys, _) = encrypted_set("skip", &["alice", "carol"]);
        let options = Options { wait: true, ..Options::default() };
        // Bob's key is not given: retry once (Enter), then skip.
        let mut prompt = Scripted::new(["", "skip"]);
        let report = verify(&manifest, &dir, &mut keys, &options, &mut prompt).unwrap();
        let verified: Vec<bool> = report.shares.iter().map(|s| s.verified).collect();
        assert_eq!(verified, [true, false, true]);
        assert!(report.shares[1].reason.as_deref().unwrap().contains("none of the given keys can decrypt this share"));
        assert_eq!(prompt.asked.iter().filter(|a| a.starts_with("RetryOrSkip")).count(), 2, "{prompt:?}");
        assert_eq!(report.set_check, SetCheck::Commitment);
        assert_eq!(report.verdict(false), Verdict::NotVerified { verified: 2, failed: 1, asked: 3 });
        assert_eq!(report.verdict(true), Verdict::QuorumVerified { verified: 2, failed: 1 });
        let record = write_record(&dir, &report).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&record).unwrap()).unwrap();
        assert_eq!(
            (json["set_verified"].as_bool(), json["set_commitment_checked"].as_bool()),
            (Some(false), Some(true))
        );
        // One share asked for and verified: a subset, never "the set is verified".
        let options = Options { only: vec![1], wait: false, ..Options::default() };
        let report = verify(&manifest, &dir, &mut keys, &options, &mut Scripted::default()).unwrap();
        assert_eq!(report.verdict(false), Verdict::SubsetVerified { verified: 1, of: 3 });
        assert_eq!(report.set_check, SetCheck::None);
        assert_eq!(report.verdict(true), Verdict::NotVerified { verified: 1, failed: 0, asked: 1 });
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
