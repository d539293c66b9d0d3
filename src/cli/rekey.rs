//! `symbolon rekey`: the one-shot ceremony. The SAME secret is recovered from a threshold of old
//! shares (each decrypted on its custodian's card) and re-split into a new set (new count,
//! threshold, custodians). Rekey is not rotation: the secret does not change.

use super::combine::Inputs;
use super::io;
use super::prompt::TerminalPrompt;
use anyhow::{Result, bail};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use symbolon::prompt::Prompt;

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
    Init(Box<super::rekey_staged::InitArgs>),
    /// Record one old share (decrypted on its custodian's card); the one that reaches the old
    /// threshold completes the rekey.
    Submit(Box<super::rekey_staged::SubmitArgs>),
    /// Show a ceremony's plan and progress, or list the ceremonies in progress.
    Status(super::rekey_staged::StatusArgs),
    /// Destroy a ceremony and everything recorded in it.
    Cancel(super::rekey_staged::CancelArgs),
}

pub fn dispatch(command: Command) -> Result<()> {
    match command.stage {
        None => run(command.oneshot),
        Some(Stage::Init(args)) => super::rekey_staged::init(*args),
        Some(Stage::Submit(args)) => super::rekey_staged::submit(*args),
        Some(Stage::Status(args)) => super::rekey_staged::status(args),
        Some(Stage::Cancel(args)) => super::rekey_staged::cancel(args),
    }
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    airgap: super::ceremony::Airgap,
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
    /// The NEW set.
    #[command(flatten)]
    new: super::split::NewSet,
}

pub fn run(args: Args) -> Result<()> {
    args.airgap.check()?;
    let old_manifest = args.old_manifest.as_deref().map(io::read_manifest).transpose()?;
    // The whole plan is checked before any PIN: new k/n, custodian count, certificates, the new
    // directory; the old shares read and counted.
    let inherited = old_manifest.as_ref().map(|m| (m.label.as_str(), m.target.parse()));
    let inherited = match inherited {
        Some((label, Ok(target))) => Some((label, target)),
        _ => None,
    };
    let prepared = super::split::prepare(&args.new, inherited)?;
    if let Some(m) = &old_manifest
        && let Some(t) = args.new.target
        && m.target != t.to_string()
    {
        bail!(
            "the old set's target is {} but --target {t} was given: a rekey keeps what the secret unlocks; \
             rotating to another secret is a different operation",
            m.target
        );
    }
    let read = args.old.read()?;
    let plan = plan_text(&args.new, Some(&read), old_manifest.as_ref(), &prepared);
    let hash = hex::encode(&Sha256::digest(plan.as_bytes())[..8]);
    println!("{plan}");
    println!("Plan hash: {hash}");
    if !args.yes {
        let answer = TerminalPrompt.line(&format!("Type the plan hash ({hash}) to proceed: "))?;
        if answer.trim() != hash {
            bail!("the plan was not confirmed: nothing was decrypted, nothing was written");
        }
    }
    let stated = read.stated();
    let recovered = args.old.recover(read, old_manifest.as_ref(), args.old_threshold)?;
    let previous = recovered.set.as_ref().map(|s| s.id.to_string());
    if let (Some(set), Some(given)) = (&recovered.set, args.new.target)
        && set.target != given
    {
        bail!(
            "the old set's target is {} but --target {given} was given: a rekey keeps what the secret unlocks",
            set.target
        );
    }
    super::combine::report(&recovered, None);
    // Label and target follow the old set unless given.
    let mut prepared = prepared;
    if args.new.target.is_none()
        && let Some(target) = recovered.set.as_ref().map(|s| s.target).or(recovered.target)
    {
        prepared.plan.target = target;
    }
    if args.new.label.is_none()
        && let Some(set) = &recovered.set
    {
        prepared.plan.label = set.label.clone();
    }
    if let Some(old_k) = recovered.set.as_ref().map(|s| usize::from(s.threshold)).or(args.old_threshold).or(stated)
        && args.new.scheme == symbolon::shamir::Scheme::Vault
        && Some(old_k) != args.new.threshold
    {
        eprintln!(
            "warning: the threshold changes from {old_k} to {}: Vault waits for the threshold in its seal              configuration ({old_k} if this is Vault's key) before combining keys, so `vault operator unseal`              needs that number to match; only `vault operator rekey` (online) changes it",
            prepared.plan.threshold
        );
    }
    let secret = recovered.secret;
    let out = prepared.out_dir.clone();
    super::split::write(prepared, secret, super::split::Origin { generated: false, previous_set_id: previous })?;
    println!(
        "Next: every new custodian verifies their share: symbolon verify --manifest {}/manifest.json. Destroy the old \
         shares only after that.",
        out.display()
    );
    Ok(())
}

/// What will happen, for the operator to confirm (and to hash).
pub fn plan_text(
    new_args: &super::split::NewSet,
    read: Option<&symbolon::recovery::Inputs>,
    old: Option<&symbolon::manifest::Manifest>,
    new: &super::split::Prepared,
) -> String {
    let mut t = String::from("Rekey plan (the secret stays the same; only the shares change):\n");
    match old {
        Some(m) => t.push_str(&format!(
            "  old set   {} ({}-of-{}, {} scheme, target {}, label \"{}\")\n",
            m.set_id_short, m.threshold, m.share_count, m.scheme, m.target, m.label
        )),
        None => t.push_str("  old set   (as the old shares describe it; no old manifest given)\n"),
    }
    if let Some(read) = read {
        t.push_str(&format!("  old shares offered ({}):\n", read.len()));
        for origin in read.origins() {
            t.push_str(&format!("    {origin}\n"));
        }
    }
    let p = &new.plan;
    t.push_str(&format!(
        "  new set   {}-of-{}, {} scheme, target {}{}\n",
        p.threshold,
        p.shares,
        p.scheme,
        if new_args.target.is_some() || old.is_some() { p.target.to_string() } else { "as the old set".into() },
        if new_args.label.is_some() || old.is_some() {
            format!(", label \"{}\"", p.label)
        } else {
            ", label as the old set".into()
        }
    ));
    t.push_str("  new custodians:\n");
    for (i, c) in new.custodians.iter().enumerate() {
        let fprs: Vec<String> = c.fingerprints().iter().map(|f| f.to_hex()).collect();
        t.push_str(&format!("    {:>3}  {:<12} {}\n", i + 1, c.name, fprs.join(", ")));
    }
    t.push_str(&format!("  new directory {}\n", new.out_dir.display()));
    t
}
