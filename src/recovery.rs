//! Recovering a secret from shares: the one session that `combine` and `rekey` (one-shot and
//! staged) go through between reading their inputs and reporting. Every rule of it lives here:
//!
//! - the threshold given by the user and the one the inputs state (Vault's output states it)
//!   must agree ([`prepare`]);
//! - too few shares for a known threshold are refused before any passphrase or PIN is asked;
//! - encrypted shares are opened one at a time, with the key files first, then the inserted
//!   cards, looked for again for every share (custodians swap cards in between);
//! - a share whose key is not here (no key file holds it, its custodian's card is not inserted)
//!   is skipped while another share can stand in for it;
//! - once the threshold is reached, no more PINs are asked;
//! - the opened shares are combined and verified by [`crate::combine`].
//!
//! Progress goes through the [`Prompt`]'s notices; the library prints nothing itself.

use crate::candidate::{Candidate, Piece};
use crate::card::decrypt::{Cards, Options as CardOptions};
use crate::combine::{self, CombineError, Recovered};
use crate::input::{InputError, Parsed};
use crate::manifest::Manifest;
use crate::openpgp::decrypt::{KeySource, SecretKeys};
use crate::prompt::{CardWait, Prompt, PromptError, Waited};

#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    #[error("no shares given")]
    NoShares,
    #[error("the inputs state different thresholds ({first} and {second}): they are not from one set")]
    StatedThresholdsDiffer { first: usize, second: usize },
    #[error(
        "too few shares: {given} given, {needed} needed; add {} more (nothing was decrypted, no PIN was asked)",
        needed - given
    )]
    TooFew { given: usize, needed: usize },
    #[error(
        "none of the shares given is of set {set}, which the manifest describes (their set ids or the keys they are encrypted to are not the manifest's): the manifest is another set's, or the shares are. Nothing was decrypted, no PIN was asked; give the manifest of the shares' own set"
    )]
    ManifestOfOtherSet { set: String },
    #[error(
        "{shares}: not of set {set}, which the manifest describes (set id, or keys encrypted to, not the manifest's). Nothing was decrypted, no PIN was asked; leave out the shares of other sets (a share its custodian re-encrypted to another key: decrypt it first, and give the plaintext share)"
    )]
    NotOfManifestSet { set: String, shares: String },
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Combine(#[from] CombineError),
    #[error("{source}. Not counted, as they could not be opened: {}", not_opened.join("; "))]
    NotOpened {
        #[source]
        source: CombineError,
        not_opened: Vec<String>,
    },
    /// Waiting for a card ended without it (the person stopped it, or pcscd failed).
    #[error("{0}")]
    Waiting(#[source] PromptError),
}

/// The shares read from every input, not decrypted yet.
#[derive(Debug)]
pub struct Inputs {
    candidates: Vec<Candidate>,
    stated: Option<usize>,
}

impl Inputs {
    /// Gathers what was read from each input; the inputs that state a threshold must agree.
    pub fn new(parsed: Vec<Parsed>) -> Result<Inputs, RecoveryError> {
        let mut stated: Option<usize> = None;
        let mut candidates = Vec::new();
        for p in parsed {
            if let Some(t) = p.threshold {
                if let Some(first) = stated.filter(|s| *s != t) {
                    return Err(RecoveryError::StatedThresholdsDiffer { first, second: t });
                }
                stated = Some(t);
            }
            candidates.extend(p.candidates);
        }
        if candidates.is_empty() {
            return Err(RecoveryError::NoShares);
        }
        Ok(Inputs { candidates, stated })
    }

    /// What was read, before decryption.
    pub fn candidates(&self) -> &[Candidate] {
        &self.candidates
    }

    /// How many inputs there are (before decryption; repeats included).
    pub fn len(&self) -> usize {
        self.candidates.len()
    }

    /// Always false: [`Inputs::new`] refuses an empty list.
    pub fn is_empty(&self) -> bool {
        self.candidates.is_empty()
    }

    /// The threshold the inputs state themselves (Vault's output does).
    pub fn stated(&self) -> Option<usize> {
        self.stated
    }

    /// Where each input came from, in order.
    pub fn origins(&self) -> impl Iterator<Item = &str> {
        self.candidates.iter().map(|c| c.origin.as_str())
    }

    /// Decrypts every encrypted input (key files first, then cards), without combining.
    pub fn open(
        self,
        keys: &mut SecretKeys,
        cards: &CardOptions,
        prompt: &mut dyn Prompt,
    ) -> Result<Vec<Candidate>, RecoveryError> {
        Ok(open_with(self.candidates, keys, cards, prompt)?)
    }
}

/// Decrypts `candidates` with the key files (when there are any), then the inserted cards; the
/// ones that are not encrypted pass through.
pub fn open_with(
    candidates: Vec<Candidate>,
    keys: &mut SecretKeys,
    cards: &CardOptions,
    prompt: &mut dyn Prompt,
) -> Result<Vec<Candidate>, InputError> {
    open_on(candidates, keys, &mut Cards::new(cards.clone()), prompt)
}

/// As [`open_with`], on cards that stay one session for several calls: a card's PIN is asked
/// once, however many of the shares are encrypted to it.
pub(crate) fn open_on(
    candidates: Vec<Candidate>,
    keys: &mut SecretKeys,
    cards: &mut Cards,
    prompt: &mut dyn Prompt,
) -> Result<Vec<Candidate>, InputError> {
    let mut sources: Vec<&mut dyn KeySource> = Vec::new();
    if !keys.is_empty() {
        sources.push(keys);
    }
    sources.push(cards);
    crate::input::open_encrypted(candidates, &mut sources, prompt)
}

/// A recovery whose inputs were counted and whose threshold is settled: nothing secret has been
/// asked for yet.
#[derive(Debug)]
pub struct Session<'a> {
    candidates: Vec<Candidate>,
    /// The threshold for bare Vault keys (given or stated).
    threshold: Option<usize>,
    /// How many shares recovery needs, when known (the threshold, or the manifest's).
    needed: Option<usize>,
    manifest: Option<&'a Manifest>,
}

/// Checks what needs no secret: the given threshold against the stated one, and, for encrypted
/// shares, that there are enough of them to reach a known threshold.
pub fn prepare<'a>(
    inputs: Inputs,
    threshold: Option<usize>,
    manifest: Option<&'a Manifest>,
) -> Result<Session<'a>, RecoveryError> {
    prepare_with(inputs, threshold, manifest, true)
}

/// [`prepare`] for shares a staged ceremony recorded: they are encrypted to the operator, not to
/// the custodians the manifest lists, so only their number is checked before decryption (their
/// set, after).
pub fn prepare_recorded<'a>(
    inputs: Inputs,
    threshold: Option<usize>,
    manifest: Option<&'a Manifest>,
) -> Result<Session<'a>, RecoveryError> {
    prepare_with(inputs, threshold, manifest, false)
}

fn prepare_with<'a>(
    inputs: Inputs,
    threshold: Option<usize>,
    manifest: Option<&'a Manifest>,
    check_recipients: bool,
) -> Result<Session<'a>, RecoveryError> {
    let Inputs { candidates, stated } = inputs;
    let threshold = match (threshold, stated) {
        (Some(given), Some(stated)) if given != stated => {
            return Err(CombineError::ThresholdConflict { given, stated }.into());
        }
        (given, stated) => given.or(stated),
    };
    let needed = threshold.or(manifest.map(|m| usize::from(m.set.threshold)));
    // The set first (a manifest of another set makes its threshold meaningless), then the count.
    if let Some(m) = manifest.filter(|_| check_recipients) {
        check_set(&candidates, m)?;
    }
    // Counted here where it saves a PIN or a plan confirmation: encrypted shares, or shares given
    // with their manifest (combine names plain keys and shares precisely itself).
    let encrypted = candidates.iter().any(|c| matches!(c.piece, Piece::Encrypted { .. }));
    if let Some(needed) = needed
        && (encrypted || manifest.is_some())
        && candidates.len() < needed
    {
        return Err(RecoveryError::TooFew { given: candidates.len(), needed });
    }
    Ok(Session { candidates, threshold, needed, manifest })
}

/// Before any PIN: the shares given must be of the manifest's set, as far as can be told
/// without decrypting (a plaintext share's set id; an encrypted share's recipients against the
/// keys the manifest lists). A share that cannot be told (bare Vault keys, hidden recipients) is
/// left to the checks after decryption.
fn check_set(candidates: &[Candidate], manifest: &Manifest) -> Result<(), RecoveryError> {
    let wildcard = sequoia_openpgp::KeyHandle::from(sequoia_openpgp::KeyID::wildcard());
    let mut other = Vec::new();
    for c in candidates {
        let of_other_set = match &c.piece {
            Piece::Share(share) => share.set.id != manifest.set.id,
            // A plaintext set's manifest lists no keys: a share someone encrypted later cannot
            // be told before it is decrypted.
            Piece::Encrypted { .. } if !manifest.is_encrypted() => false,
            Piece::Encrypted { message, .. } => match crate::openpgp::decrypt::recipients(message) {
                Ok(recipients) if recipients.iter().all(|r| *r == wildcard) => false,
                Ok(recipients) => manifest.entry_for_recipients(&recipients).is_none(),
                // Unreadable: decryption says why.
                Err(_) => false,
            },
            Piece::VaultKey { .. } => false,
        };
        if of_other_set {
            other.push(c.origin.clone());
        }
    }
    match other.len() {
        0 => Ok(()),
        n if n == candidates.len() => Err(RecoveryError::ManifestOfOtherSet { set: manifest.set.id.short() }),
        _ => Err(RecoveryError::NotOfManifestSet { set: manifest.set.id.short(), shares: other.join(", ") }),
    }
}

impl Session<'_> {
    /// How many shares recovery needs, when known.
    pub fn needed(&self) -> Option<usize> {
        self.needed
    }

    /// Opens the encrypted shares one at a time (see the module's rules), then combines and
    /// verifies.
    pub fn recover(
        self,
        keys: &mut SecretKeys,
        cards: &CardOptions,
        prompt: &mut dyn Prompt,
    ) -> Result<Recovered, RecoveryError> {
        let Session { candidates, threshold, needed, manifest } = self;
        let context = combine::Context { threshold, manifest };
        if !candidates.iter().any(|c| matches!(c.piece, Piece::Encrypted { .. })) {
            return Ok(combine::combine(candidates, &context)?);
        }
        let mut opener = Opener::new(candidates, manifest, cards);
        let mut wanted = needed;
        loop {
            opener.open_until(&mut wanted, keys, prompt)?;
            // The threshold is reached: no PIN is kept while combining (should one more share be
            // needed, its card's PIN is asked again).
            opener.cards.keep_pins_for(&[]);
            match combine::combine(opener.opened.clone(), &context) {
                Ok(mut recovered) => {
                    opener.not_needed(prompt);
                    recovered.not_opened = std::mem::take(&mut opener.not_opened);
                    return Ok(recovered);
                }
                // A share opened is wrong, or too few good ones were opened: one more input may make
                // up for it.
                Err(e) if more_shares_help(&e) && !opener.pending.is_empty() => {
                    prompt.notice(&format!("  {e}"));
                    prompt.notice("  Opening one more share.");
                    wanted = Some(opener.good.max(wanted.unwrap_or(0)) + 1);
                }
                Err(e) if opener.not_opened.is_empty() => return Err(e.into()),
                Err(e) => {
                    let not_opened = opener.not_opened.iter().map(|(o, why)| format!("{o} ({why})")).collect();
                    return Err(RecoveryError::NotOpened { source: e, not_opened });
                }
            }
        }
    }
}

/// What a person waited on is asked to do: insert the card, release it, or start pcscd.
const CARD_ASK: &str = "insert it (symbolon goes on when it is inserted)";
const BUSY_ASK: &str = "insert it, or, if it is in the reader another program holds, release it \
    (gpg's scdaemon: gpgconf --kill scdaemon); symbolon goes on when it can reach it";
const DAEMON_ASK: &str = "pcscd is not running: start it (systemctl start pcscd), and symbolon goes on when it is back";

/// The waits for one input's card, said once: the reason it is missing is repeated only when it
/// changed, and the wait announced again only when what to do (or what Enter does) changed.
#[derive(Default)]
pub(crate) struct CardWaits {
    reason: Option<String>,
    announced: Option<(&'static str, Option<&'static str>)>,
}

impl CardWaits {
    /// Says why the card is missing (`source`), then waits on `watch` for it.
    pub(crate) fn wait(
        &mut self,
        prompt: &mut dyn Prompt,
        source: &crate::openpgp::decrypt::DecryptError,
        card: String,
        skip: Option<&'static str>,
        watch: &crate::card::events::Watch,
    ) -> Result<Waited, PromptError> {
        use crate::openpgp::decrypt::Miss;
        let reason = source.to_string();
        if self.reason.as_deref() != Some(reason.as_str()) {
            prompt.notice(&format!("  {reason}"));
        }
        self.reason = Some(reason);
        // Without pcscd no other share's card can be reached either: nothing to skip to.
        let (ask, skip) = match source.miss() {
            Some(Miss::NoDaemon) => (DAEMON_ASK, None),
            Some(Miss::Busy) => (BUSY_ASK, skip),
            _ => (CARD_ASK, skip),
        };
        let again = self.announced == Some((ask, skip));
        self.announced = Some((ask, skip));
        prompt.wait_for_card(&CardWait { card, ask, skip, again, waiter: watch })
    }
}

/// Opens encrypted inputs one at a time, as many as recovery needs (see the module's rules).
struct Opener<'m> {
    /// The inputs not looked at yet, with their number ("input 2 of 3") and recipients.
    pending: std::collections::VecDeque<(usize, Candidate, Vec<sequoia_openpgp::KeyHandle>)>,
    total: usize,
    manifest: Option<&'m Manifest>,
    /// One card session for all the inputs: a card's PIN is kept only while an input still to be
    /// opened is encrypted to it.
    cards: Cards,
    waits: bool,
    opened: Vec<Candidate>,
    /// How many of `opened` count towards the threshold (the manifest does not dispute them).
    good: usize,
    /// The inputs that could not be opened, with the reason.
    not_opened: Vec<(String, String)>,
}

impl<'m> Opener<'m> {
    fn new(candidates: Vec<Candidate>, manifest: Option<&'m Manifest>, cards: &CardOptions) -> Opener<'m> {
        let total = candidates.len();
        let pending = candidates
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                let recipients = match &c.piece {
                    Piece::Encrypted { message, .. } => {
                        crate::openpgp::decrypt::recipients(message).unwrap_or_default()
                    }
                    _ => Vec::new(),
                };
                (i + 1, c, recipients)
            })
            .collect();
        Opener {
            pending,
            total,
            manifest,
            cards: Cards::new(cards.clone()),
            waits: cards.wait,
            opened: Vec::with_capacity(total),
            good: 0,
            not_opened: Vec::new(),
        }
    }

    /// "(share 2, custodian bob, per the manifest)": which share an encrypted input holds is
    /// known only from the manifest (by the keys it is encrypted to) until it is decrypted.
    fn which(&self, recipients: &[sequoia_openpgp::KeyHandle]) -> String {
        match self.manifest.and_then(|m| m.entry_for_recipients(recipients)) {
            Some(e) => format!(
                " (share {}, custodian {}, per the manifest)",
                e.index,
                e.custodian.as_deref().map_or("unnamed".into(), crate::sanitize)
            ),
            None => String::new(),
        }
    }

    /// Opens inputs until `wanted` of them count (all of them when `wanted` is not known; it is
    /// learnt from the first share that states its set's threshold).
    fn open_until(
        &mut self,
        wanted: &mut Option<usize>,
        keys: &mut SecretKeys,
        prompt: &mut dyn Prompt,
    ) -> Result<(), RecoveryError> {
        while wanted.is_none_or(|k| self.good < k) {
            let Some((number, candidate, recipients)) = self.pending.pop_front() else { break };
            let still: Vec<_> =
                std::iter::once(&recipients).chain(self.pending.iter().map(|(_, _, r)| r)).flatten().cloned().collect();
            self.cards.keep_pins_for(&still);
            let encrypted = matches!(candidate.piece, Piece::Encrypted { .. });
            let opened = if encrypted {
                let whose = self.which(&recipients);
                prompt.notice(&format!("Input {number} of {}: {}{whose}", self.total, candidate.origin));
                self.open_one(candidate, &whose, *wanted, keys, prompt)?
            } else {
                Some(candidate)
            };
            let Some(c) = opened else { continue };
            if wanted.is_none()
                && let Piece::Share(share) = &c.piece
            {
                *wanted = Some(usize::from(share.set.threshold));
            }
            // A share the manifest disputes does not count (combine still weighs it).
            let disputed = match (self.manifest, &c.piece) {
                (Some(m), Piece::Share(_)) => combine::locate(&c.piece, m).is_err(),
                (Some(m), Piece::VaultKey { .. }) if m.has_bare_commitments() => combine::locate(&c.piece, m).is_err(),
                _ => false,
            };
            if disputed && encrypted {
                prompt.notice(&format!(
                    "  {} does not match its commitment in the manifest: another share is needed",
                    c.origin
                ));
            }
            self.good += usize::from(!disputed);
            self.opened.push(c);
        }
        Ok(())
    }

    /// Opens one encrypted input: `None` when it cannot be (the reason is kept and said) and
    /// another input may stand in for it.
    fn open_one(
        &mut self,
        candidate: Candidate,
        whose: &str,
        wanted: Option<usize>,
        keys: &mut SecretKeys,
        prompt: &mut dyn Prompt,
    ) -> Result<Option<Candidate>, RecoveryError> {
        let Candidate { origin, piece: Piece::Encrypted { message, target } } = candidate else {
            return Ok(Some(candidate));
        };
        // Another input can stand in while the ones left can still make up the threshold (or
        // while it is not known yet).
        let can_skip = wanted.is_none_or(|k| self.good + self.pending.len() >= k);
        // Until it is opened, skipped, or fails: a card not inserted is waited for (the shares
        // already opened are kept), or skipped for a spare.
        let mut waits = CardWaits::default();
        loop {
            // Looked at before the attempt, so that a card inserted meanwhile ends the wait.
            let watch = self.waits.then(crate::card::events::Watch::look);
            let attempt =
                Candidate { origin: origin.clone(), piece: Piece::Encrypted { message: message.clone(), target } };
            let error = match open_on(vec![attempt], keys, &mut self.cards, prompt) {
                Ok(mut c) => return Ok(c.pop()),
                Err(e) => e,
            };
            let why = match &error {
                InputError::Decrypt { source, .. } => source.to_string(),
                other => other.to_string(),
            };
            match (&error, watch.as_ref()) {
                (InputError::Decrypt { source, .. }, Some(watch)) if source.card_absent() => {
                    let skip =
                        (can_skip && wanted.is_some()).then_some("go on without it (another share stands in for it)");
                    let card = format!("the card for {origin}{whose}");
                    match waits.wait(prompt, source, card, skip, watch).map_err(RecoveryError::Waiting)? {
                        Waited::Changed => continue,
                        Waited::Skip => {
                            prompt.notice(&format!("Skipped {origin}: another share stands in for it"));
                            self.not_opened.push((origin, "its card was not inserted".into()));
                        }
                    }
                }
                _ if can_skip && stands_in(&error) => {
                    let stand_in =
                        if wanted.is_some() { "another share can stand in for it" } else { "counted as missing" };
                    prompt.notice(&format!("Skipped {origin}: {why} ({stand_in})"));
                    self.not_opened.push((origin, why));
                }
                _ => return Err(error.into()),
            }
            return Ok(None);
        }
    }

    /// After a recovery: the inputs never looked at are said to be not needed.
    fn not_needed(&mut self, prompt: &mut dyn Prompt) {
        for (number, candidate, recipients) in std::mem::take(&mut self.pending) {
            prompt.notice(&format!(
                "Input {number} of {}: {}{} not needed (the threshold is reached)",
                self.total,
                candidate.origin,
                self.which(&recipients)
            ));
        }
        // Nothing more to open: no PIN is kept.
        self.cards.keep_pins_for(&[]);
    }
}

/// Whether one more share could let a failed combination succeed: some share given is wrong, or
/// too few good ones were given.
fn more_shares_help(e: &CombineError) -> bool {
    matches!(
        e,
        CombineError::TooFewShares { .. }
            | CombineError::TooFewGood { .. }
            | CombineError::TooFewKeys { .. }
            | CombineError::CommitmentMismatch { .. }
            | CombineError::NoConsistentSubset { .. }
            | CombineError::TooManyWrong { .. }
            | CombineError::KeysDisagree { .. }
            | CombineError::HeaderTie { .. }
            | CombineError::SameXDifferent { .. }
    )
}

/// Whether `e`, met opening one input, leaves the others to stand in for it: its key is not here
/// or not usable, or the message itself is damaged (the share is as good as missing). A prompt
/// the person cancelled, or a failure of the machine, ends the recovery.
fn stands_in(e: &InputError) -> bool {
    use crate::openpgp::decrypt::DecryptError;
    match e {
        InputError::Decrypt { source, .. } => {
            source.can_stand_in()
                || matches!(
                    source,
                    DecryptError::Damaged { .. }
                        | DecryptError::Malformed { .. }
                        | DecryptError::Failed { .. }
                        | DecryptError::WrongPassphrase { .. }
                )
        }
        InputError::NotAShareInside { .. } => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openpgp::Custodian;
    use crate::openpgp::encrypt::{Output, encrypt};
    use crate::prompt::Scripted;
    use crate::secret::SecretBytes;
    use crate::share::{Label, Target};
    use crate::split::{SplitPlan, split_secret};
    use rand::SeedableRng;
    use sequoia_openpgp::cert::prelude::*;
    use sequoia_openpgp::serialize::SerializeInto;

    fn set(secret: &[u8], k: usize, n: usize) -> crate::split::ShareSet {
        let plan = SplitPlan {
            scheme: crate::shamir::Scheme::Native,
            threshold: k,
            shares: n,
            target: Target::Generic,
            label: Label::new("test").unwrap(),
            created: Some(1_795_635_853),
        };
        split_secret(&SecretBytes::copy_from(secret), &plan, &mut rand::rngs::StdRng::from_seed([7; 32])).unwrap()
    }

    fn plain(set: &crate::split::ShareSet) -> Vec<Parsed> {
        let text = |i: usize| set.shares[i].to_text();
        (0..set.shares.len()).map(|i| crate::input::parse(&format!("share{}.txt", i + 1), &text(i)).unwrap()).collect()
    }

    #[test]
    fn plaintext_shares_recover_without_any_prompt() {
        let set = set(b"a root key", 2, 3);
        let inputs = Inputs::new(plain(&set)).unwrap();
        assert_eq!((inputs.len(), inputs.stated()), (3, None));
        let session = prepare(inputs, None, None).unwrap();
        let mut prompt = Scripted::default();
        let r = session.recover(&mut SecretKeys::default(), &CardOptions::default(), &mut prompt).unwrap();
        assert_eq!(r.secret.expose(), b"a root key");
        assert_eq!(r.verification, combine::Verification::SetCommitment);
        assert!(prompt.asked.is_empty() && prompt.notices.is_empty(), "{prompt:?}");
    }

    #[test]
    fn stated_thresholds_must_agree_and_match_the_given_one() {
        let stated = |t: usize| Parsed { candidates: Vec::new(), threshold: Some(t) };
        let shares = set(b"x", 2, 3);
        let mut parsed = plain(&shares);
        parsed.push(stated(2));
        parsed.push(stated(3));
        let err = Inputs::new(parsed).unwrap_err();
        assert_eq!(err.to_string(), "the inputs state different thresholds (2 and 3): they are not from one set");
        let mut parsed = plain(&shares);
        parsed.push(stated(2));
        let err = prepare(Inputs::new(parsed).unwrap(), Some(3), None).unwrap_err();
        assert!(
            matches!(err, RecoveryError::Combine(CombineError::ThresholdConflict { given: 3, stated: 2 })),
            "{err}"
        );
        assert!(matches!(Inputs::new(Vec::new()), Err(RecoveryError::NoShares)));
    }

    /// A custodian with a fresh key (the passphrase `pass`), and its secret key for `--key-file`.
    fn custodian(name: &str, pass: &str) -> (Custodian, Vec<u8>) {
        let (cert, _) = CertBuilder::general_purpose(Some(format!("{name} <{name}@example.org>")))
            .set_cipher_suite(CipherSuite::Cv25519)
            .set_password(Some(pass.into()))
            .generate()
            .unwrap();
        let key = cert.as_tsk().to_vec().unwrap();
        (Custodian::new(name, vec![(format!("{name}.asc"), cert)]).unwrap(), key)
    }

    /// A whole recovery of encrypted shares through the scripted prompt: too few shares are
    /// refused before anything is asked; the share whose key is not given is skipped (a spare
    /// stands in); each passphrase is asked once, and none once the threshold is reached.
    #[test]
    fn encrypted_shares_recover_through_the_prompt_with_a_spare_for_a_missing_key() {
        let shares = set(b"the CA key", 2, 4);
        let people: Vec<(Custodian, Vec<u8>)> =
            ["alice", "bob", "carol", "dave"].iter().map(|n| custodian(n, &format!("{n}-pass"))).collect();
        let encrypted = |order: &[usize]| -> Vec<Parsed> {
            order
                .iter()
                .map(|&i| {
                    let message =
                        encrypt(&people[i].0, shares.shares[i].to_text().as_bytes(), Output::Armored).unwrap();
                    let origin = format!("0{}-{}.asc", i + 1, people[i].0.name);
                    crate::input::parse_bytes(&origin, &message).unwrap()
                })
                .collect()
        };
        // One share for a threshold of 2: refused, nothing asked.
        let err = prepare(Inputs::new(encrypted(&[0])).unwrap(), Some(2), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "too few shares: 1 given, 2 needed; add 1 more (nothing was decrypted, no PIN was asked)"
        );

        // Alice's key is not given; Bob's and Carol's are; Dave's share comes last.
        let mut keys = SecretKeys::default();
        keys.add("bob.key", &people[1].1).unwrap();
        keys.add("carol.key", &people[2].1).unwrap();
        let session = prepare(Inputs::new(encrypted(&[0, 1, 2, 3])).unwrap(), Some(2), None).unwrap();
        assert_eq!(session.needed(), Some(2));
        let mut prompt = Scripted::new(["bob-pass", "carol-pass"]);
        let r = session.recover(&mut keys, &CardOptions::default(), &mut prompt).unwrap();
        assert_eq!(r.secret.expose(), b"the CA key");
        assert_eq!(r.used, ["02-bob.asc", "03-carol.asc"]);
        assert_eq!(prompt.asked.len(), 2, "{prompt:?}");
        assert!(prompt.asked[0].starts_with("the secret key ") && prompt.asked[0].contains("bob <bob@example.org>"));
        assert!(prompt.asked[1].contains("carol <carol@example.org>"), "{prompt:?}");
        assert_eq!(prompt.notices.len(), 5, "{prompt:?}");
        assert_eq!(prompt.notices[0], "Input 1 of 4: 01-alice.asc");
        assert!(
            prompt.notices[1].starts_with("Skipped 01-alice.asc: none of the given keys can decrypt this share")
                && prompt.notices[1].ends_with("(another share can stand in for it)"),
            "{prompt:?}"
        );
        assert_eq!(
            prompt.notices[2..],
            [
                "Input 2 of 4: 02-bob.asc",
                "Input 3 of 4: 03-carol.asc",
                "Input 4 of 4: 04-dave.asc not needed (the threshold is reached)"
            ]
        );
    }

    /// A share that decrypts but is wrong (altered before it was encrypted): the combination of
    /// the threshold fails, one more share is opened (one more passphrase, no more), and the
    /// wrong one is named.
    #[test]
    fn a_wrong_share_inside_a_message_opens_one_more() {
        let shares = set(b"the CA key", 2, 4);
        let people: Vec<(Custodian, Vec<u8>)> =
            ["alice", "bob", "carol", "dave"].iter().map(|n| custodian(n, "p")).collect();
        let mut first = shares.shares[0].clone();
        first.payload.expose_mut()[3] ^= 0x10;
        let texts =
            [first.to_text(), shares.shares[1].to_text(), shares.shares[2].to_text(), shares.shares[3].to_text()];
        let mut keys = SecretKeys::default();
        let parsed: Vec<Parsed> = (0..4)
            .map(|i| {
                keys.add(&format!("{i}.key"), &people[i].1).unwrap();
                let message = encrypt(&people[i].0, texts[i].as_bytes(), Output::Binary).unwrap();
                crate::input::parse_bytes(&format!("{}.pgp", i + 1), &message).unwrap()
            })
            .collect();
        let session = prepare(Inputs::new(parsed).unwrap(), None, None).unwrap();
        let mut prompt = Scripted::new(["p", "p", "p"]);
        let r = session.recover(&mut keys, &CardOptions::default(), &mut prompt).unwrap();
        assert_eq!(r.secret.expose(), b"the CA key");
        assert_eq!(r.bad, ["1.pgp"]);
        assert_eq!(prompt.asked.len(), 3, "{prompt:?}");
        assert_eq!(prompt.notices.len(), 6, "{prompt:?}");
        assert!(prompt.notices[2].contains("do not reconstruct the secret the set committed to"), "{prompt:?}");
        assert_eq!(
            [&prompt.notices[..2], &prompt.notices[3..]].concat(),
            [
                "Input 1 of 4: 1.pgp",
                "Input 2 of 4: 2.pgp",
                "  Opening one more share.",
                "Input 3 of 4: 3.pgp",
                "Input 4 of 4: 4.pgp not needed (the threshold is reached)"
            ]
        );
    }

    #[test]
    fn without_a_spare_a_missing_key_is_the_error() {
        let shares = set(b"k", 2, 2);
        let people: Vec<(Custodian, Vec<u8>)> = ["alice", "bob"].iter().map(|n| custodian(n, "p")).collect();
        let parsed: Vec<Parsed> = (0..2)
            .map(|i| {
                let message = encrypt(&people[i].0, shares.shares[i].to_text().as_bytes(), Output::Binary).unwrap();
                crate::input::parse_bytes(&format!("{i}.pgp"), &message).unwrap()
            })
            .collect();
        let mut keys = SecretKeys::default();
        keys.add("bob.key", &people[1].1).unwrap();
        let session = prepare(Inputs::new(parsed).unwrap(), Some(2), None).unwrap();
        let err = session.recover(&mut keys, &CardOptions::default(), &mut Scripted::new(["p"])).unwrap_err();
        assert!(err.to_string().starts_with("0.pgp: none of the given keys can decrypt this share"), "{err}");
    }
}
