//! `symbolon rekey`: the one-shot ceremony. The SAME secret is recovered from a threshold of old
//! shares (each decrypted on its custodian's card) and re-split into a new set (new count,
//! threshold, custodians). Rekey is not rotation: the secret does not change.

mod staged;

use super::io;
use super::prompt::TerminalPrompt;
use super::recovery::Inputs;
use anyhow::{Result, bail};
use std::path::PathBuf;
use symbolon::prompt::{Prompt, Question};
use symbolon::rekey::{self, Rekey};
use symbolon::rekey_plan::Plan;

/// `rekey`: one-shot (everyone in the room), or staged with a nonce.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Command {
    #[command(subcommand)]
    stage: Option<Stage>,
    #[command(flatten)]
    oneshot: Args,
}

#[derive(clap::Subcommand)]
enum Stage {
    /// Start a staged ceremony: check and fix the plan under a new nonce (no old share is needed yet).
    Init(Box<staged::InitArgs>),
    /// Record one old share (decrypted on its custodian's card); the one that reaches the old
    /// threshold completes the rekey.
    Submit(Box<staged::SubmitArgs>),
    /// Show a ceremony's plan and progress, or list the ceremonies in progress.
    Status(staged::StatusArgs),
    /// Destroy a ceremony and everything recorded in it.
    Cancel(staged::CancelArgs),
}

impl Command {
    /// The one-shot rekey (which has `--wait`), not one of the staged steps.
    pub fn is_one_shot(&self) -> bool {
        self.stage.is_none()
    }
}

pub fn dispatch(command: Command) -> Result<()> {
    match command.stage {
        None => run(command.oneshot),
        Some(Stage::Init(args)) => staged::init(*args),
        Some(Stage::Submit(args)) => staged::submit(*args),
        Some(Stage::Status(args)) => staged::status(args),
        Some(Stage::Cancel(args)) => staged::cancel(args),
    }
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    airgap: super::options::Airgap,
    /// The OLD shares to recover the secret from, and how to decrypt them.
    #[command(flatten)]
    old: Inputs,
    /// The old set's manifest.json: names the old custodians and checks every old share.
    #[arg(long = "old-manifest", value_name = "FILE")]
    old_manifest: Option<PathBuf>,
    /// The old threshold, for old shares that are bare Vault keys.
    #[arg(long = "old-threshold", value_name = "K")]
    old_threshold: Option<usize>,
    /// Do not ask to confirm the plan (for scripts; the plan and its hash are still printed).
    #[arg(long)]
    yes: bool,
    /// DANGEROUS: re-split the old secret even when it cannot be verified (no manifest, exactly
    /// the threshold of bare keys). One altered key gives a wrong secret: test the new set
    /// (test-unseal) before destroying any old key. The new manifest records it.
    #[arg(long = "accept-unverified-secret")]
    accept_unverified: bool,
    /// Vouch that the secret is uniformly random (e.g. Vault's own unseal key): the new manifest
    /// then commits to each bare Vault key. Never for a passphrase.
    #[arg(long = "secret-is-random")]
    secret_is_random: bool,
    /// The NEW set.
    #[command(flatten)]
    new: super::new_set::NewSetArgs,
}

pub fn run(args: Args) -> Result<()> {
    args.airgap.check()?;
    let old = args.old_manifest.as_deref().map(io::read_manifest_bytes).transpose()?;
    let old_manifest = old.as_ref().map(|(_, m)| m);
    // The whole plan is checked before any PIN: new k/n, custodian count, certificates, the new
    // directory; the old shares read and counted.
    let inherited = old_manifest.map(|m| (m.set.label.as_str(), m.target()));
    let prepared = super::new_set::prepare(&args.new, inherited)?;
    rekey::check_target(inherited.map(|(_, t)| t), args.new.target)?;
    let read = args.old.read()?;
    let offered = read.origins().map(str::to_string).collect();
    // Too few old shares are refused here, before the plan is confirmed.
    let session = symbolon::recovery::prepare(read, args.old_threshold, old_manifest)?;
    let mut plan = Plan::new(
        &prepared,
        args.new.target.or(inherited.map(|(_, t)| t)),
        args.new.label.as_deref().or(inherited.map(|(l, _)| l)),
        old.as_ref().map(|(bytes, _)| bytes.as_slice()),
        offered,
        None,
        None,
    )?;
    plan.accept_unverified = args.accept_unverified;
    plan.secret_vouched_random = args.secret_is_random;
    show!("{}", plan.render());
    show!("Plan hash: {}", plan.hash());
    let job =
        Rekey { session, plan, new_set: prepared, target: args.new.target, label_given: args.new.label.is_some() };
    let mut keys = io::read_key_files(&args.old.key_files)?;
    let cards = args.old.card_options(old_manifest);
    let report = &mut |r: &symbolon::combine::Recovered| super::recovery::report(r, None);
    let done = rekey::run(job, args.yes, &mut keys, &cards, &mut TerminalPrompt, report)?;
    if let Some((old_k, new_k)) = done.vault_threshold_change {
        tell!(
            "warning: the threshold changes from {old_k} to {new_k}: Vault waits for the threshold in its seal \
             configuration ({old_k} if this is Vault's key) before combining keys, so `vault operator unseal` needs \
             that number to match; only `vault operator rekey` (online) changes it"
        );
    }
    super::new_set::render(&done.summary);
    show!(
        "Next: every new custodian verifies their share: symbolon verify --manifest {}. Destroy the old \
         shares only after that.",
        done.summary.path.join(symbolon::manifest::FILE_NAME).display()
    );
    Ok(())
}

/// Prints the plan and its hash, and asks the operator to type the hash (unless `--yes`).
fn confirm(plan: &Plan, yes: bool, to: &str, otherwise: &str) -> Result<()> {
    let hash = plan.hash();
    show!("{}", plan.render());
    show!("Plan hash: {hash}");
    let question = Question::PlanHash { hash, action: to.into() };
    if !yes && !TerminalPrompt.confirm(&question).map_err(symbolon::rekey::RekeyError::Prompt)? {
        bail!("the plan was not confirmed: {otherwise}");
    }
    Ok(())
}
