//! The shares to recover a secret from (shared by `combine` and `rekey`): the clap arguments, the
//! library's recovery session on them, and the report of what was recovered.

use super::io;
use super::prompt::TerminalPrompt;
use anyhow::{Result, bail};
use std::path::PathBuf;
use symbolon::combine::{self, Verification};
use symbolon::manifest::Manifest;
use symbolon::recovery;

/// The shares of a set to recover and how to decrypt them .
#[derive(clap::Args)]
pub struct Inputs {
    /// Shares: files (symbolon shares, Vault key files, Vault's init/rekey output as text or JSON) or key text.
    #[arg(value_name = "SHARE")]
    share_files: Vec<String>,
    /// Also read shares from standard input.
    #[arg(long)]
    stdin: bool,
    /// Also read shares from photographs or scans of their QR codes (PNG, JPEG); repeat for
    /// several images. The codes of one share may be spread over several images.
    #[arg(long = "from-image", value_name = "IMAGE")]
    from_images: Vec<PathBuf>,
    /// Also read shares typed back from their paper sheets (the numbered text lines).
    #[arg(long = "from-text", value_name = "FILE")]
    from_texts: Vec<PathBuf>,
    /// Secret key to decrypt encrypted shares with (repeat for several custodians' keys); shares
    /// for which no key file is given are decrypted on the custodians' smartcards.
    #[arg(long = "key-file", value_name = "FILE")]
    pub key_files: Vec<PathBuf>,
    #[command(flatten)]
    pub card: super::options::CardArgs,
    /// Do not wait for a card that is not inserted: its share is skipped for a spare, or the
    /// command fails at once (for scripts). By default symbolon names the card it needs and
    /// waits for it to be inserted (on a terminal, Enter skips to a spare share)
    #[arg(long, conflicts_with = "wait")]
    pub no_wait: bool,
    /// Wait for cards (and pcscd) even with no terminal to tell anyone: without a terminal,
    /// symbolon otherwise says what is missing and exits.
    #[arg(long)]
    pub wait: bool,
}

/// How the secret was recovered and checked, for the person at the keyboard.
pub fn report(r: &combine::Recovered, out: Option<&PathBuf>) {
    let what = match &r.set {
        Some(set) => format!(
            "set {} ({}-of-{}, {} scheme, target {})",
            set.id.short(),
            set.threshold,
            set.count,
            set.scheme,
            set.target
        ),
        None => format!("a set of Vault keys{}", r.target.map_or(String::new(), |t| format!(" (target {t})"))),
    };
    tell!("Recovered the secret of {what} from: {}.", r.used.join(", "));
    if !r.agreeing.is_empty() {
        tell!("Also consistent with it: {}.", r.agreeing.join(", "));
    }
    match r.verification {
        Verification::SetCommitment => {
            tell!("Verified: the secret matches the set's commitment.")
        }
        Verification::Manifest => {
            tell!("Verified: every key used matches its commitment in the manifest.")
        }
        Verification::Consistency { agreeing } => {
            tell!("Checked: {agreeing} keys lie on one polynomial (no commitment was available to check against).")
        }
        Verification::Unverified => tell!(
            "warning: NOT verified: bare keys carry no commitment. Give the set's manifest, or one key more than the threshold, to check the result."
        ),
    }
    if let Some(c) = &r.cross_check {
        tell!("{}", cross_check(c));
    }
    for bad in &r.bad {
        tell!("warning: BAD SHARE: {bad} does not belong to this secret (wrong, corrupt or altered); it was not used.");
    }
    for good in &r.manifest_wrong {
        tell!(
            "warning: {good} and the manifest disagree: its commitment in the manifest does not match it, but the set's commitment supports the share (it lies on the verified secret's polynomials). The share is good; the manifest's entry for it was altered or is damaged."
        );
    }
    if !r.unattributed.is_empty() {
        tell!(
            "warning: {} disagree with the shares used, and the evidence does not decide which shares are wrong; check them against the manifest (--manifest).",
            r.unattributed.join(", ")
        );
    }
    for (origin, why) in &r.not_opened {
        tell!("note: {origin} was not counted, as it could not be opened: {why}.");
    }
    for repeated in &r.repeated {
        tell!("note: {repeated} repeats another input and was ignored.");
    }
    if let Some(path) = out {
        tell!("The secret was written to {} (mode 0600).", path.display());
    }
}

/// What checking the shares against each other established, and what it could still have found.
fn cross_check(c: &combine::CrossCheck) -> String {
    let (found, more) = match c.wrong {
        0 => (format!("all {} shares lie", c.shares), ""),
        w => (format!("{} of the {} shares lie", c.shares - w, c.shares), " more"),
    };
    let others = match c.wrong {
        0 => String::new(),
        1 => "; the other is wrong (named below)".into(),
        w => format!("; the other {w} are wrong (named below)"),
    };
    let noun = if c.detect_more == 1 { "wrong share" } else { "wrong shares" };
    let named = match c.locate_more {
        0 => "but not which".to_string(),
        l => format!("and up to {l}{more} named"),
    };
    if c.detect_more == 0 {
        return format!(
            "Cross-checked: {found} on the recovered polynomials ({} needed){others}. No redundancy is left to detect a further wrong share.",
            c.needed
        );
    }
    format!(
        "Cross-checked: {found} on the recovered polynomials ({} needed){others}. Up to {}{more} {noun} would have been detected, {named}.",
        c.needed, c.detect_more,
    )
}

impl Inputs {
    /// Reads and recognises every input; nothing is decrypted yet.
    pub fn read(&self) -> Result<recovery::Inputs> {
        if self.share_files.is_empty() && !self.stdin && self.from_images.is_empty() && self.from_texts.is_empty() {
            bail!("no shares given: name share files (or pass --stdin or --from-image)");
        }
        let mut parsed = io::read_shares(&self.share_files, self.stdin)?;
        parsed.extend(io::read_images(&self.from_images)?);
        parsed.extend(io::read_typed(&self.from_texts)?);
        Ok(recovery::Inputs::new(parsed)?)
    }

    /// The library's recovery session on these inputs: checked before any PIN, then decrypted
    /// share by share and combined, verified.
    pub fn recover(
        &self,
        read: recovery::Inputs,
        manifest: Option<&Manifest>,
        threshold: Option<usize>,
    ) -> Result<combine::Recovered> {
        self.recover_prepared(recovery::prepare(read, threshold, manifest)?, manifest)
    }

    /// Decrypts and combines a session already checked by `recovery::prepare`.
    pub fn recover_prepared(
        &self,
        session: recovery::Session<'_>,
        manifest: Option<&Manifest>,
    ) -> Result<combine::Recovered> {
        let mut keys = io::read_key_files(&self.key_files)?;
        Ok(session.recover(&mut keys, &self.card_options(manifest), &mut TerminalPrompt)?)
    }

    /// How to use the cards: the custodians named by the manifest, waiting unless --no-wait.
    pub fn card_options(&self, manifest: Option<&Manifest>) -> symbolon::card::decrypt::Options {
        let wait = super::prompt::wait_for_cards(self.wait, self.no_wait);
        symbolon::card::decrypt::Options { wait, ..self.card.options(manifest) }
    }
}
