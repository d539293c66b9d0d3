//! `symbolon verify`: the new custodians decrypt their new shares on their cards, one after
//! another, and each share is checked against its commitment in the manifest. When a threshold
//! of shares verified in the session, they are also combined and checked against the set's
//! commitment (nothing secret is printed). A record of who verified, and when, is written next to
//! the manifest.

use super::io;
use super::prompt::TerminalPrompt;
use anyhow::{Result, bail};
use std::path::PathBuf;
use symbolon::sanitize;
use symbolon::verification::{self, Options, Report, SetCheck, Verdict};

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
    card: super::options::CardArgs,
    /// Do not wait for cards to be swapped: a share whose card is not inserted is skipped at
    /// once. By default symbolon names the card it needs and waits for it (on a terminal, Enter
    /// skips it)
    #[arg(long, conflicts_with = "wait")]
    no_wait: bool,
    /// Wait for cards even with no terminal to tell anyone (without a terminal, a share whose
    /// card is not inserted is otherwise skipped at once).
    #[arg(long)]
    wait: bool,
    #[command(flatten)]
    airgap: super::options::Airgap,
}

pub fn run(args: Args) -> Result<()> {
    args.airgap.check()?;
    let manifest = io::read_manifest(&args.manifest)?;
    let dir = args.manifest.parent().map(PathBuf::from).unwrap_or_default();
    let mut keys = io::read_key_files(&args.key_files)?;
    let wait = super::prompt::wait_for_cards(args.wait, args.no_wait);
    let cards = symbolon::card::decrypt::Options { wait, ..args.card.options(Some(&manifest)) };
    let options = Options { only: args.only.clone(), wait, cards };
    let report = verification::verify(&manifest, &dir, &mut keys, &options, &mut TerminalPrompt)?;
    render(&report);
    // What to do about the shares that failed, naming this command's flags.
    let flags = super::hint::Flags { key_file: true, allow_last_pin_try: true, wait: true, ..Default::default() };
    let mut hints: Vec<String> = Vec::new();
    for (_, failure) in &report.failures {
        for hint in super::hint::hints(failure, flags) {
            if !hints.contains(&hint) {
                hints.push(hint);
            }
        }
    }
    for hint in hints {
        tell!("hint: {}", sanitize(&hint));
    }
    let record = verification::write_record(&dir, &report)?;
    tell!("Recorded in {}.", record.display());
    verdict(&report, args.quorum)
}

fn render(report: &Report) {
    show!("Verification of set {} ({}-of-{}):", report.set_id.short(), report.threshold, report.share_count);
    for s in &report.shares {
        let who = s.custodian.as_deref().map_or("(plaintext)".into(), sanitize);
        match &s.reason {
            None => show!("  share {:>3}  {who:<16} verified", s.index),
            Some(why) => show!("  share {:>3}  {who:<16} NOT verified: {}", s.index, sanitize(why)),
        }
    }
    let ok = report.verified();
    match report.set_check {
        SetCheck::Commitment => {
            show!("  {ok} verified shares reconstruct the secret that matches the set's commitment (not shown).")
        }
        SetCheck::EachKey => show!(
            "  Each verified key matches its commitment in the manifest; Vault's bare keys carry no set commitment, so the secret they reconstruct was not checked against one."
        ),
        SetCheck::None => {}
    }
    match report.on_polynomial {
        Some(on) if on == ok => {
            show!("  All {on} verified shares lie on the same polynomials (each checked against the others).")
        }
        Some(on) => show!(
            "  Only {on} of the {} shares that matched their commitments lie on the same polynomials: the others are named above.",
            on + report
                .shares
                .iter()
                .filter(|s| s.reason.as_deref().is_some_and(|r| r.contains("does not lie on")))
                .count()
        ),
        None => {}
    }
    if let Some(why) = &report.set_failure {
        show!("  The verified shares do not make a set: {}", sanitize(why));
    }
}

/// What the run establishes, and the exit status that goes with it.
fn verdict(report: &Report, quorum: bool) -> Result<()> {
    let n = report.share_count;
    match report.verdict(quorum) {
        Verdict::SetVerified if !report.encrypted => {
            show!(
                "The set is verified: every one of its {n} shares matches its commitment{} (plaintext shares: nothing to decrypt).",
                if report.on_polynomial.is_some() { ", and all lie on the same polynomials" } else { "" }
            );
        }
        Verdict::SetVerified => {
            show!(
                "The set is verified: every one of its {n} shares is encrypted to its custodian's keys alone, decrypts on its custodian's key, matches its commitment{}.",
                if report.on_polynomial.is_some() { ", and all lie on the same polynomials" } else { "" }
            );
        }
        Verdict::QuorumVerified { verified, failed } => {
            show!(
                "A threshold is verified (--quorum): {verified} of {n} shares {}match their commitments{}.",
                if report.encrypted { "decrypt and " } else { "" },
                match report.set_check {
                    SetCheck::Commitment => ", and together they reconstruct the committed secret",
                    _ => "",
                }
            );
            show!(
                "This proves that these {verified} shares recover the secret; it proves nothing of the other {}.",
                symbolon::wording::counted(usize::from(n) - verified, "share", "shares")
            );
            if failed > 0 {
                tell!(
                    "note: {} not verified; the set is NOT verified as a whole",
                    symbolon::wording::counted(failed, "share", "shares")
                );
            }
        }
        Verdict::SubsetVerified { verified, of } => show!(
            "{verified} of {of} shares verified (only those asked for with --share); the set is NOT verified yet: verify the others too."
        ),
        Verdict::NotVerified { verified, failed, asked } if quorum => bail!(
            "only {verified} of {} verified, {} needed for --quorum{}: the set is NOT verified",
            symbolon::wording::counted(asked, "share", "shares"),
            report.threshold,
            if failed == 0 { " (and nothing to check them against)" } else { "" }
        ),
        Verdict::NotVerified { failed, asked, .. } => bail!(
            "{failed} of {} NOT verified: the set is not verified; keep the old shares until every new \
             custodian has verified (or pass --quorum to accept a threshold)",
            symbolon::wording::counted(asked, "share", "shares")
        ),
    }
    Ok(())
}
