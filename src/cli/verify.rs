//! `symbolon verify`: the new custodians decrypt their new shares on their cards, one after
//! another, and each share is checked against its commitment in the manifest. When a threshold
//! of shares verified in the session, they are also combined and checked against the set's
//! commitment (nothing secret is printed). A record of who verified, and when, is written next to
//! the manifest.

use super::io;
use super::prompt::TerminalPrompt;
use anyhow::{Result, bail};
use std::path::PathBuf;
use symbolon::candidate::Candidate;
use symbolon::combine;
use symbolon::manifest::Manifest;
use symbolon::output::{Privacy, write_new_file};
use symbolon::prompt::Prompt;

#[derive(clap::Args)]
pub struct Args {
    /// The set's manifest.json (its directory holds the share files).
    #[arg(long, value_name = "FILE")]
    manifest: PathBuf,
    /// Verify only these shares (by index); default: every share of the set.
    #[arg(long = "share", value_name = "INDEX")]
    only: Vec<u8>,
    /// Succeed once a threshold of shares verified (default: EVERY share must verify).
    #[arg(long)]
    quorum: bool,
    /// Secret key files of custodians whose key is not on a card.
    #[arg(long = "key-file", value_name = "FILE")]
    key_files: Vec<PathBuf>,
    #[command(flatten)]
    card: super::ceremony::CardArgs,
    /// Do not wait for cards to be swapped: a share whose card is not inserted fails at once.
    #[arg(long)]
    no_wait: bool,
    #[command(flatten)]
    airgap: super::ceremony::Airgap,
}

struct Outcome {
    index: u8,
    custodian: String,
    result: Result<(), String>,
}

pub fn run(args: Args) -> Result<()> {
    args.airgap.check()?;
    let manifest = io::read_manifest(&args.manifest)?;
    let dir = args.manifest.parent().map(PathBuf::from).unwrap_or_default();
    let mut keys = io::read_key_files(&args.key_files)?;
    let mut outcomes = Vec::new();
    let mut verified: Vec<Candidate> = Vec::new();
    let entries: Vec<_> =
        manifest.shares.iter().filter(|e| args.only.is_empty() || args.only.contains(&e.index)).collect();
    if entries.is_empty() {
        bail!("the manifest lists no share {:?}", args.only);
    }
    for (n, entry) in entries.iter().enumerate() {
        let custodian = entry.custodian.clone().unwrap_or_else(|| "unnamed".into());
        eprintln!("[{}/{}] share {} of custodian {custodian} ({})", n + 1, entries.len(), entry.index, entry.file);
        let result = loop {
            match verify_one(&dir.join(&entry.file), entry.index, &manifest, &mut keys, &args) {
                Ok(candidate) => {
                    verified.push(candidate);
                    break Ok(());
                }
                Err(e) => {
                    let why = super::describe(&e);
                    eprintln!("  FAILED: {why}");
                    if args.no_wait {
                        break Err(why);
                    }
                    // Let the custodian insert the right card and try again, or skip.
                    let question = symbolon::prompt::Question::RetryOrSkip { what: "Insert the right card".into() };
                    match TerminalPrompt.confirm(&question) {
                        Ok(true) => continue,
                        _ => break Err(why),
                    }
                }
            }
        };
        if result.is_ok() {
            eprintln!("  OK: share {} decrypts on its custodian's key and matches its commitment.", entry.index);
        }
        outcomes.push(Outcome { index: entry.index, custodian, result });
    }

    let ok = outcomes.iter().filter(|o| o.result.is_ok()).count();
    let k = usize::from(manifest.threshold);
    let mut set_checked = false;
    if ok >= k {
        let ctx = combine::Context { threshold: Some(k), manifest: Some(&manifest) };
        let recovered = combine::combine(verified, &ctx)?;
        drop(recovered);
        set_checked = true;
    }
    println!("Verification of set {} ({}-of-{}):", manifest.set_id_short, manifest.threshold, manifest.share_count);
    for o in &outcomes {
        match &o.result {
            Ok(()) => println!("  share {:>3}  {:<16} verified", o.index, o.custodian),
            Err(why) => println!("  share {:>3}  {:<16} NOT verified: {why}", o.index, o.custodian),
        }
    }
    if set_checked {
        println!("  The {ok} verified shares reconstruct the secret that matches the set's commitment (not shown).");
    }
    write_record(&dir, &manifest, &outcomes, set_checked)?;
    let failed = outcomes.len() - ok;
    if args.quorum {
        if !set_checked {
            bail!("only {ok} share(s) verified, {k} needed: the set is NOT verified");
        }
        if failed > 0 {
            eprintln!("note: {failed} share(s) not verified; the threshold is met (--quorum)");
        }
    } else if failed > 0 {
        bail!(
            "{failed} of {} share(s) NOT verified: the set is not verified; keep the old shares until every new \
             custodian has verified (or pass --quorum to accept a threshold)",
            outcomes.len()
        );
    }
    println!("The new set is verified{}.", if args.quorum && failed > 0 { " (a threshold of shares)" } else { "" });
    Ok(())
}

/// Decrypts one share (key files first, then the cards) and checks it against the manifest.
fn verify_one(
    path: &std::path::Path,
    index: u8,
    manifest: &Manifest,
    keys: &mut symbolon::openpgp::decrypt::SecretKeys,
    args: &Args,
) -> Result<Candidate> {
    let parsed = io::read_shares(&[path.to_string_lossy().into_owned()], false)?;
    let candidates: Vec<Candidate> = parsed.into_iter().flat_map(|p| p.candidates).collect();
    let mut opened = symbolon::recovery::open_with(
        candidates,
        keys,
        &args.card.options(Some(manifest)),
        &mut super::prompt::TerminalPrompt,
    )?;
    if opened.len() != 1 {
        bail!("{} holds {} shares, expected one", path.display(), opened.len());
    }
    let candidate = opened.remove(0);
    match combine::locate(&candidate.piece, manifest) {
        Ok(found) if found == index => Ok(candidate),
        Ok(found) => bail!("it decrypts, but it is share {found}, not share {index}: the file is misnamed"),
        Err(e) => bail!("it decrypts, but {e}"),
    }
}

/// `verification-<time>.json` next to the manifest: who verified which share, and when (public).
fn write_record(dir: &std::path::Path, manifest: &Manifest, outcomes: &[Outcome], set_checked: bool) -> Result<()> {
    let now = symbolon::time::now();
    let record = serde_json::json!({
        "schema": "symbolon-verification",
        "schema_version": 1,
        "set_id": manifest.set_id,
        "time": symbolon::time::utc_timestamp(now),
        "set_commitment_checked": set_checked,
        "shares": outcomes.iter().map(|o| serde_json::json!({
            "index": o.index,
            "custodian": o.custodian,
            "verified": o.result.is_ok(),
            "reason": o.result.as_ref().err(),
        })).collect::<Vec<_>>(),
    });
    let stamp = symbolon::time::utc_timestamp(now).replace(':', "");
    // Two sessions in one second get their own records.
    let path = (1..)
        .map(|n| {
            dir.join(if n == 1 {
                format!("verification-{stamp}.json")
            } else {
                format!("verification-{stamp}-{n}.json")
            })
        })
        .find(|p| p.symlink_metadata().is_err())
        .unwrap_or_else(|| dir.join(format!("verification-{stamp}.json")));
    write_new_file(&path, serde_json::to_string_pretty(&record)?.as_bytes(), Privacy::Public)?;
    eprintln!("Recorded in {}.", path.display());
    Ok(())
}
