//! The staged rekey ceremony, for custodians who come at different times (Vault's model):
//! `rekey init` fixes the plan under a nonce, `rekey submit --nonce N SHARE` records one old
//! share (decrypted on its custodian's card, then encrypted to the operator's certificate), the
//! submit that reaches the old threshold completes the rekey, `rekey status` and `rekey cancel`.
//! The state lives in `symbolon::ceremony`; no expiry, and it survives a reboot.

use super::combine::Inputs;
use super::io;
use super::prompt::TerminalPrompt;
use super::split::NewSet;
use anyhow::{Context, Result, bail};
use clap::Parser;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use symbolon::candidate::{Candidate, Piece};
use symbolon::ceremony::{self, PlanRecord};
use symbolon::combine;
use symbolon::manifest::Manifest;
use symbolon::openpgp::Custodian;
use symbolon::prompt::Prompt;
use zeroize::Zeroizing;

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
    airgap: super::ceremony::Airgap,
    #[command(flatten)]
    state: StateArgs,
    /// The operator's certificate (ideally of the operator's own card): old shares recorded
    /// between sessions are encrypted to it, and it opens them when the ceremony completes.
    #[arg(long = "operator-cert", value_name = "FILE", required = true)]
    operator_cert: Option<PathBuf>,
    /// The old set's manifest.json.
    #[arg(long = "old-manifest", value_name = "FILE", required = true)]
    old_manifest: Option<PathBuf>,
    /// Do not ask to confirm the plan.
    #[arg(long)]
    yes: bool,
    #[command(flatten)]
    new: NewSet,
}

/// `init`'s arguments, parsed again from what the ceremony recorded.
#[derive(Parser)]
#[command(no_binary_name = true)]
struct Recorded {
    #[command(flatten)]
    init: InitArgs,
}

#[derive(clap::Args)]
pub struct SubmitArgs {
    #[command(flatten)]
    airgap: super::ceremony::Airgap,
    #[command(flatten)]
    state: StateArgs,
    /// The ceremony's nonce, as `rekey init` printed it.
    #[arg(long, value_name = "NONCE")]
    nonce: String,
    /// The old share to record (and how to decrypt it).
    #[command(flatten)]
    old: Inputs,
    /// The operator's secret key file, if the operator's key is not on a card (used when this
    /// submit completes the ceremony).
    #[arg(long = "operator-key-file", value_name = "FILE")]
    operator_key_files: Vec<PathBuf>,
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
    #[arg(long, value_name = "NONCE")]
    nonce: String,
}

fn hash(text: &str) -> String {
    hex::encode(&Sha256::digest(text.as_bytes())[..8])
}

fn operator(path: &Path) -> Result<Custodian> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let origin = path.display().to_string();
    let certs = symbolon::openpgp::certs::read_certs(&origin, &bytes)?;
    Ok(Custodian::new("operator", certs.into_iter().map(|c| (origin.clone(), c)).collect())?)
}

/// The plan of `init`, as text: the new set, and the operator key the state is encrypted to.
fn plan_of(init: &InitArgs) -> Result<(String, super::split::Prepared, Manifest, Custodian)> {
    let manifest_path = init.old_manifest.as_deref().context("--old-manifest is required")?;
    let old = io::read_manifest(manifest_path)?;
    let target = old.target.parse().ok();
    let prepared = super::split::prepare(&init.new, target.map(|t| (old.label.as_str(), t)))?;
    let op = operator(init.operator_cert.as_deref().context("--operator-cert is required")?)?;
    let mut text = super::rekey::plan_text(&init.new, None, Some(&old), &prepared);
    let fprs: Vec<String> = op.fingerprints().iter().map(|f| f.to_hex()).collect();
    text.push_str(&format!("  recorded old shares are encrypted to the operator key {}\n", fprs.join(", ")));
    Ok((text, prepared, old, op))
}

pub fn init(args: InitArgs) -> Result<()> {
    args.airgap.check()?;
    let (text, _, _, op) = plan_of(&args)?;
    let plan_hash = hash(&text);
    println!("Staged {text}Plan hash: {plan_hash}");
    if !args.yes {
        let answer = TerminalPrompt.line(&format!("Type the plan hash ({plan_hash}) to start the ceremony: "))?;
        if answer.trim() != plan_hash {
            bail!("the plan was not confirmed: no ceremony was started");
        }
    }
    // What init was given (after `init`), to rebuild and re-check the plan at every submit.
    let argv: Vec<String> = std::env::args().skip_while(|a| a != "init").skip(1).collect();
    let old_manifest = std::fs::read_to_string(args.old_manifest.as_deref().context("--old-manifest")?)?;
    let record = PlanRecord {
        schema: ceremony::SCHEMA.into(),
        schema_version: 1,
        nonce: ceremony::new_nonce()?,
        created: symbolon::time::utc_timestamp(symbolon::time::now()),
        plan_text: text,
        plan_hash: plan_hash.clone(),
        cwd: std::env::current_dir()?,
        args: argv,
        operator_cert: String::from_utf8_lossy(&std::fs::read(
            args.operator_cert.as_deref().context("--operator-cert")?,
        )?)
        .into_owned(),
        old_manifest,
    };
    drop(op);
    let root = args.state.root();
    let c = ceremony::create(&root, &record)?;
    println!("Ceremony started. Nonce: {}", c.plan.nonce);
    println!(
        "Each old custodian, in any session: symbolon rekey submit --nonce {} OLD_SHARE (state in {})",
        c.plan.nonce,
        root.display()
    );
    Ok(())
}

pub fn submit(args: SubmitArgs) -> Result<()> {
    args.airgap.check()?;
    let root = args.state.root();
    let c = ceremony::open(&root, &args.nonce)?;
    // The plan is rebuilt from what init recorded; a changed certificate, manifest or directory
    // under the same nonce is refused.
    let recorded = Recorded::try_parse_from(&c.plan.args).context("the ceremony's recorded arguments do not parse")?;
    // Its paths are relative to where init ran; the share and key files of this submit are
    // relative to here.
    let here = std::env::current_dir()?;
    std::env::set_current_dir(&c.plan.cwd)
        .with_context(|| format!("the ceremony was started in {}, which is gone", c.plan.cwd.display()))?;
    let planned = plan_of(&recorded.init);
    std::env::set_current_dir(&here)?;
    let (text, mut prepared, old, op) = planned?;
    if prepared.out_dir.is_relative() {
        prepared.out_dir = c.plan.cwd.join(&prepared.out_dir);
    }
    if hash(&text) != c.plan.plan_hash || old.set_id != serde_json::from_str::<Manifest>(&c.plan.old_manifest)?.set_id {
        bail!(
            "the plan of ceremony {} changed since init (a certificate, the old manifest or the new directory is not \
             what was confirmed): nothing was recorded. Cancel it and start a new ceremony",
            args.nonce
        );
    }
    // The share: decrypted on its custodian's card, checked against the old set.
    let read = args.old.read()?;
    if read.len() != 1 {
        bail!("submit takes one old share at a time ({} given)", read.len());
    }
    let opened = args.old.open(read, Some(&old))?;
    let Some(candidate) = opened.into_iter().next() else { bail!("the share could not be read") };
    let (index, text) = check_old(&candidate, &old)?;
    let message =
        symbolon::openpgp::encrypt::encrypt(&op, text.as_bytes(), symbolon::openpgp::encrypt::Output::Binary)?;
    c.record(index, &message)?;
    let have = c.recorded()?;
    let k = usize::from(old.threshold);
    let custodian = old.shares.iter().find(|s| s.index == index).and_then(|s| s.custodian.clone());
    println!(
        "Recorded old share {index}{} (encrypted to the operator key): {} of {k} needed.",
        custodian.map_or(String::new(), |c| format!(" of {c}")),
        have.len()
    );
    if have.len() < k {
        println!("Ceremony {} waits for {} more old share(s).", args.nonce, k - have.len());
        return Ok(());
    }
    // The threshold is reached: open the recorded shares with the operator's key, rekey, and
    // destroy the state.
    eprintln!("The threshold is reached: the operator's key opens the recorded shares.");
    let candidates: Vec<Candidate> = have
        .into_iter()
        .map(|(i, bytes)| Candidate {
            origin: format!("recorded old share {i}"),
            piece: Piece::Encrypted { message: bytes, target: None },
        })
        .collect();
    let mut keys = io::read_key_files(&args.operator_key_files)?;
    let cards = symbolon::card::decrypt::Options::new(false, None);
    let opened = symbolon::recovery::open_with(candidates, &mut keys, &cards, &mut TerminalPrompt)?;
    let ctx = combine::Context { threshold: Some(k), manifest: Some(&old) };
    let recovered = combine::combine(opened, &ctx)?;
    let previous = recovered.set.as_ref().map(|s| s.id.to_string()).or(Some(old.set_id.clone()));
    let out = prepared.out_dir.clone();
    super::split::write(
        prepared,
        recovered.secret,
        super::split::Origin { generated: false, previous_set_id: previous },
    )?;
    c.destroy()?;
    println!("Ceremony {} is complete and its state destroyed.", args.nonce);
    println!(
        "Next: every new custodian verifies their share: symbolon verify --manifest {}/manifest.json.",
        out.display()
    );
    Ok(())
}

/// The old share's index and its text form, after checking it belongs to the old set.
fn check_old(candidate: &Candidate, old: &Manifest) -> Result<(u8, Zeroizing<String>)> {
    let index = combine::locate(&candidate.piece, old)
        .map_err(|e| anyhow::anyhow!("{} is not a share of the old set: {e}", candidate.origin))?;
    match &candidate.piece {
        Piece::Share(share) => Ok((index, share.to_text())),
        Piece::VaultKey { bytes, .. } => Ok((index, symbolon::vault_keys::hex_line(bytes.expose()))),
        Piece::Encrypted { .. } => bail!("{} is still encrypted", candidate.origin),
    }
}

pub fn status(args: StatusArgs) -> Result<()> {
    let root = args.state.root();
    let Some(nonce) = &args.nonce else {
        let all = ceremony::list(&root);
        if all.is_empty() {
            println!("No ceremony in progress in {}.", root.display());
        }
        for c in all {
            let done = c.recorded().map(|r| r.len()).unwrap_or(0);
            println!(
                "{}  started {}  plan {}  {done} old share(s) recorded",
                c.plan.nonce, c.plan.created, c.plan.plan_hash
            );
        }
        return Ok(());
    };
    let c = ceremony::open(&root, nonce)?;
    let old: Manifest = serde_json::from_str(&c.plan.old_manifest)?;
    let have = c.recorded()?;
    print!("Ceremony {} (started {})\n{}", c.plan.nonce, c.plan.created, c.plan.plan_text);
    println!("Plan hash: {}", c.plan.plan_hash);
    println!("Old shares recorded: {} of {} needed", have.len(), old.threshold);
    for (i, _) in &have {
        let who = old.shares.iter().find(|s| s.index == *i).and_then(|s| s.custodian.clone()).unwrap_or_default();
        println!("  share {i:>3}  {who}");
    }
    Ok(())
}

pub fn cancel(args: CancelArgs) -> Result<()> {
    let c = ceremony::open(&args.state.root(), &args.nonce)?;
    c.destroy()?;
    println!("Ceremony {} cancelled: its plan and every recorded share are destroyed.", args.nonce);
    Ok(())
}
