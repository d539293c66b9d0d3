//! The staged rekey ceremony, for custodians who come at different times (Vault's model):
//! `rekey init` fixes the plan under a nonce, `rekey submit --nonce N SHARE` records one old
//! share (decrypted on its custodian's card, then encrypted to the operator's certificate), the
//! submit that reaches the old threshold completes the rekey, `rekey status` and `rekey cancel`.
//! The state lives in `symbolon::ceremony`; no expiry, and it survives a reboot.

use crate::cli::io;
use crate::cli::new_set::NewSetArgs;
use crate::cli::prompt::TerminalPrompt;
use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use symbolon::ceremony::{self, PlanRecord};
use symbolon::openpgp::decrypt::SecretKeys;
use symbolon::prompt::Prompt as _;
use symbolon::rekey_plan::Plan;
use symbolon::rekey_staged::{self, Staged};

#[derive(clap::Args, Clone)]
pub struct StateArgs {
    /// Where ceremonies are kept (default: $XDG_STATE_HOME/symbolon/ceremonies, or
    /// ~/.local/state/symbolon/ceremonies).
    #[arg(long = "state-dir", value_name = "DIR")]
    state_dir: Option<PathBuf>,
}

impl StateArgs {
    fn root(&self) -> PathBuf {
        self.state_dir.clone().unwrap_or_else(ceremony::default_root)
    }
}

#[derive(clap::Args)]
pub struct InitArgs {
    #[command(flatten)]
    airgap: crate::cli::options::Airgap,
    #[command(flatten)]
    state: StateArgs,
    /// The operator's certificate, exactly one (FILE#FINGERPRINT picks one from a keyring), ideally
    /// of a token kept for this ceremony: old shares recorded between sessions are encrypted to it,
    /// and until the ceremony completes its key alone opens them.
    #[arg(long = "operator-cert", value_name = "FILE", required = true)]
    operator_cert: Option<PathBuf>,
    /// The old set's manifest.json.
    #[arg(long = "old-manifest", value_name = "FILE", required = true)]
    old_manifest: Option<PathBuf>,
    /// Do not ask to confirm the plan.
    #[arg(long)]
    yes: bool,
    /// DANGEROUS: complete even when the old secret cannot be verified (the old manifest has no
    /// commitment for bare keys and exactly the threshold is recorded). Test the new set before
    /// destroying any old key. The plan and the new manifest record it.
    #[arg(long = "accept-unverified-secret")]
    accept_unverified: bool,
    /// Vouch that the secret is uniformly random (e.g. Vault's own unseal key): the new manifest
    /// then commits to each bare Vault key. Never for a passphrase.
    #[arg(long = "secret-is-random")]
    secret_is_random: bool,
    #[command(flatten)]
    new: NewSetArgs,
}

#[derive(clap::Args)]
pub struct SubmitArgs {
    #[command(flatten)]
    airgap: crate::cli::options::Airgap,
    #[command(flatten)]
    state: StateArgs,
    /// The ceremony's nonce, as `rekey init` printed it.
    #[arg(long, value_name = "NONCE")]
    nonce: String,
    /// The plan hash the operator gave you at init (for scripts; on a terminal symbolon asks you
    /// to type it). A plan whose hash differs is refused before any share is read.
    #[arg(long = "plan-hash", value_name = "HASH")]
    plan_hash: Option<String>,
    /// The ONE old share to record (a file). Without it, a ceremony that already holds its
    /// threshold completes.
    #[arg(value_name = "SHARE")]
    share: Option<String>,
    /// The old share from photographs or scans of its QR code(s) instead of a file.
    #[arg(long = "from-image", value_name = "IMAGE", conflicts_with_all = ["share", "from_text"])]
    from_images: Vec<PathBuf>,
    /// The old share typed back from its paper sheet (the numbered text lines).
    #[arg(long = "from-text", value_name = "FILE", conflicts_with = "share")]
    from_text: Option<PathBuf>,
    /// The custodian's secret key file, if their key is not on a card.
    #[arg(long = "key-file", value_name = "FILE")]
    key_files: Vec<PathBuf>,
    #[command(flatten)]
    card: crate::cli::options::CardArgs,
    /// The operator's secret key file, if the operator's key is not on a card (used when this
    /// submit completes the ceremony).
    #[arg(long = "operator-key-file", value_name = "FILE")]
    operator_key_files: Vec<PathBuf>,
}

impl SubmitArgs {
    /// The old share given, read and recognised (not decrypted); `None` when none was given.
    fn read(&self) -> Result<Option<symbolon::recovery::Inputs>> {
        let parsed = match (&self.share, &self.from_text) {
            (Some(share), _) => io::read_shares(std::slice::from_ref(share), false)?,
            (None, Some(text)) => io::read_typed(std::slice::from_ref(text))?,
            (None, None) if !self.from_images.is_empty() => io::read_images(&self.from_images)?,
            (None, None) => return Ok(None),
        };
        Ok(Some(symbolon::recovery::Inputs::new(parsed)?))
    }
}

#[derive(clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    state: StateArgs,
    /// The ceremony; without it, every ceremony in progress is listed.
    #[arg(long, value_name = "NONCE")]
    nonce: Option<String>,
}

#[derive(clap::Args)]
pub struct CancelArgs {
    #[command(flatten)]
    state: StateArgs,
    /// The ceremony to destroy, as `rekey init` printed it (`rekey status` lists them).
    #[arg(long, value_name = "NONCE")]
    nonce: String,
}

pub fn init(args: InitArgs) -> Result<()> {
    args.airgap.check()?;
    let manifest_path = args.old_manifest.as_deref().context("--old-manifest is required")?;
    let (bytes, old) = io::read_manifest_bytes(manifest_path)?;
    let target = Some(old.target());
    let prepared = crate::cli::new_set::prepare(&args.new, target.map(|t| (old.set.label.as_str(), t)))?;
    symbolon::rekey::check_target(target, args.new.target)?;
    // A staged ceremony records exactly the old threshold: bare keys the old manifest commits to
    // nothing for could never be verified, and the completion would refuse after every custodian
    // came. Said now.
    if old.share_format.is_bare() && !old.has_bare_commitments() && !args.accept_unverified {
        bail!(
            "the old set's manifest commits to none of its bare keys ({}), and a staged ceremony records exactly the old threshold: the old secret could not be verified, so the ceremony could never complete. No ceremony was started. Rekey in one session with one old key more than the threshold, or, only if you will test-unseal with the new set before destroying any old key, start the ceremony with --accept-unverified-secret",
            symbolon::sanitize(old.bare_commitments_omitted.as_deref().unwrap_or("no reason recorded"))
        );
    }
    let op = args.operator_cert.as_deref().context("--operator-cert is required")?;
    let op = symbolon::recipients::operator(&op.to_string_lossy())?;
    let mut plan = Plan::new(
        &prepared,
        args.new.target.or(target),
        Some(args.new.label.as_deref().unwrap_or(old.set.label.as_str())),
        Some(&bytes),
        Vec::new(),
        Some(&op),
        Some(ceremony::new_nonce()?),
    )?;
    plan.accept_unverified = args.accept_unverified;
    plan.secret_vouched_random = args.secret_is_random;
    super::confirm(&plan, args.yes, "start the ceremony", "no ceremony was started")?;
    // Custodians run submit from any directory: the state directory is named absolutely.
    let root = std::path::absolute(args.state.root())?;
    let hash = plan.hash();
    let c = ceremony::create(&root, &PlanRecord::new(plan))?;
    show!("Ceremony started. Nonce: {}", c.plan.nonce);
    show!("Plan hash: {hash}");
    show!(
        "Give each old custodian the nonce and this plan hash yourself (in person or by phone, never through \
         this machine): submit asks them to type the hash, and refuses a plan that is not this one."
    );
    show!(
        "Until the ceremony completes, whoever holds the operator's encryption key {} alone can open every old \
         share recorded: keep it on a token kept for this ceremony, and reset that token when the ceremony is complete.",
        symbolon::openpgp::certs::hex_all(op.encryption_keys()).join(" or ")
    );
    show!(
        "Each old custodian, in any session: symbolon rekey submit --state-dir {} --nonce {} OLD_SHARE",
        symbolon::sanitize(&root.display().to_string()),
        c.plan.nonce
    );
    Ok(())
}

pub fn submit(args: SubmitArgs) -> Result<()> {
    args.airgap.check()?;
    // The state is checked (owner, mode, digests), then anchored: the plan is the one whose hash
    // the custodian was given, or nothing is read.
    let unanchored = rekey_staged::open(&args.state.root(), &args.nonce)?;
    let typed = match &args.plan_hash {
        Some(given) => zeroize::Zeroizing::new(given.clone()),
        None => {
            let ask = format!(
                "Type the plan hash of ceremony {} as the operator gave it to you (32 hex digits): ",
                unanchored.nonce()
            );
            match TerminalPrompt.line(&ask) {
                Err(symbolon::prompt::PromptError::NoTerminal) => bail!(
                    "the plan hash is needed, and there is no terminal to type it on: give it with --plan-hash (the hash the operator gave you at init). Nothing was read, no PIN was asked"
                ),
                other => other?,
            }
        }
    };
    let staged = unanchored.anchor(&typed)?;
    show!("Ceremony {}: the plan hash matches ({}).", staged.nonce(), staged.plan_hash());
    let read = args.read()?;
    if staged.ready()? {
        tell!(
            "The ceremony already holds {} of the {} old shares needed: completing it{}.",
            staged.have()?,
            staged.needed(),
            if read.is_some() { " (the share given is not needed)" } else { "" }
        );
        return complete(staged, &args);
    }
    let Some(read) = read else {
        bail!("no old share given: the ceremony holds {} of the {} it needs", staged.have()?, staged.needed());
    };
    // Everything the completion needs is checked before the share that reaches the threshold is
    // read: no custodian's share is recorded for a completion that cannot happen.
    staged.check_one(&read)?;
    staged.check_not_recorded(&read)?;
    let mut operator_keys = io::read_key_files(&args.operator_key_files)?;
    if staged.have()? + 1 >= staged.needed() {
        staged.check_operator(&operator_keys)?;
    }
    // The share: decrypted on its custodian's card, checked against the old set, recorded.
    let mut keys = io::read_key_files(&args.key_files)?;
    let opened = read.open(&mut keys, &args.card.options(Some(&staged.old)), &mut TerminalPrompt)?;
    drop(keys);
    let r = staged.submit(opened)?;
    show!(
        "Recorded old share {}{} (encrypted to the operator key): {} of {} needed.",
        r.index,
        r.custodian.map_or(String::new(), |c| format!(" of {}", symbolon::sanitize(&c))),
        r.have,
        r.needed
    );
    if r.have < r.needed {
        show!(
            "Ceremony {} waits for {} more.",
            args.nonce,
            symbolon::wording::counted(r.needed - r.have, "old share", "old shares")
        );
        return Ok(());
    }
    complete_with(staged, &args, &mut operator_keys)
}

/// The threshold is reached: the operator's key opens the recorded shares (the last-try guard as
/// the operator asked), the new set is written from the plan, and the state is destroyed.
fn complete(staged: Staged, args: &SubmitArgs) -> Result<()> {
    complete_with(staged, args, &mut io::read_key_files(&args.operator_key_files)?)
}

fn complete_with(staged: Staged, args: &SubmitArgs, keys: &mut SecretKeys) -> Result<()> {
    tell!("The threshold is reached: the operator's key opens the recorded shares.");
    let out = staged.out_dir();
    let mut recovered = staged.recover(keys, &args.card.options(None), &mut TerminalPrompt)?;
    crate::cli::recovery::report(&recovered, None);
    let done = staged.finish(&mut recovered)?;
    crate::cli::new_set::render(&done.summary);
    if let Err(e) = done.destroyed {
        bail!(
            "the new set was written, but the state of ceremony {} could not be destroyed ({e}): cancel it with symbolon rekey cancel --state-dir {} --nonce {}",
            done.nonce,
            args.state.root().display(),
            done.nonce
        );
    }
    show!("Ceremony {} is complete and its state destroyed.", done.nonce);
    show!(
        "The operator's key no longer needs to open anything: reset the operator's token now \
         (symbolon card reset --card IDENT), unless it holds keys you still need."
    );
    show!(
        "Next: every new custodian verifies their share: symbolon verify --manifest {}.",
        out.join(symbolon::manifest::FILE_NAME).display()
    );
    Ok(())
}

pub fn status(args: StatusArgs) -> Result<()> {
    let root = args.state.root();
    let Some(nonce) = &args.nonce else {
        let all = ceremony::list(&root);
        if all.is_empty() {
            show!("No ceremony in progress in {}.", root.display());
        }
        for (nonce, opened) in all {
            match opened {
                Ok(c) => {
                    let done = c.recorded().map(|r| r.len()).unwrap_or(0);
                    show!(
                        "{nonce}  started {}  {} recorded",
                        c.plan.created,
                        symbolon::wording::counted(done, "old share", "old shares")
                    );
                }
                Err(e) => show!("{nonce}  {e}"),
            }
        }
        return Ok(());
    };
    let c = ceremony::open(&root, nonce)?;
    let old = c.plan.plan.old_manifest()?.context("the ceremony's plan has no old manifest")?;
    let have = c.recorded()?;
    show_raw!("Ceremony {} (started {})\n{}", c.plan.nonce, c.plan.created, c.plan.plan.render());
    // The hash is not shown: a custodian types the one the operator gave them, never one read
    // off the machine that keeps the state.
    match c.plan.plan.check(&c.plan.digests, &c.plan.plan_hash) {
        Ok(()) => {
            show!("The plan agrees with its stored digests (only the plan hash the operator gave out anchors it).")
        }
        Err(e) => show!("WARNING: {e}"),
    }
    show!("Old shares recorded: {} of {} needed", have.len(), old.set.threshold);
    for (i, _) in &have {
        let who = old.shares.iter().find(|s| s.index == *i).and_then(|s| s.custodian.clone()).unwrap_or_default();
        show!("  share {i:>3}  {}", symbolon::sanitize(&who));
    }
    Ok(())
}

pub fn cancel(args: CancelArgs) -> Result<()> {
    ceremony::cancel(&args.state.root(), &args.nonce)?;
    show!("Ceremony {} cancelled: its plan and every recorded share are destroyed.", args.nonce);
    Ok(())
}
