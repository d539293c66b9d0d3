//! `symbolon combine`

use super::io;
use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use symbolon::combine::{self, Candidate, Verification};
use symbolon::output::{Privacy, write_new_file};
use symbolon::vault_keys;
use zeroize::Zeroizing;

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("dest").required(true).args(["out", "stdout"])))]
pub struct Args {
    #[command(flatten)]
    inputs: Inputs,
    /// The set's manifest.json: checks every share on its own and names the bad ones.
    #[arg(long, value_name = "FILE")]
    manifest: Option<PathBuf>,
    /// The threshold of a set of bare Vault keys (symbolon shares carry their own).
    #[arg(short = 't', long = "threshold", alias = "key-threshold", value_name = "K")]
    threshold: Option<usize>,
    /// Write the secret to this new file (created with mode 0600, never overwritten).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Write the secret to standard output.
    #[arg(long)]
    stdout: bool,
    /// How to write the secret.
    #[arg(long, value_enum, default_value = "raw")]
    encoding: Encoding,
    #[command(flatten)]
    airgap: super::ceremony::Airgap,
}

/// The shares of a set to recover and how to decrypt them (shared by `combine` and `rekey`).
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
    key_files: Vec<PathBuf>,
    #[command(flatten)]
    card: super::ceremony::CardArgs,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Encoding {
    Raw,
    Hex,
    Base64,
}

pub fn run(args: Args) -> Result<()> {
    args.airgap.check()?;
    if args.stdout && args.encoding == Encoding::Raw && std::io::stdout().is_terminal() {
        bail!(
            "refusing to print raw secret bytes to a terminal: use --encoding hex or --encoding base64, or --out FILE"
        );
    }
    if let Some(out) = &args.out
        && out.symlink_metadata().is_ok()
    {
        bail!(symbolon::output::OutputError::Exists { path: out.clone() });
    }
    let manifest = args.manifest.as_deref().map(io::read_manifest).transpose()?;
    let parsed = args.inputs.read()?;
    let recovered = recover(parsed, &args.inputs, manifest.as_ref(), args.threshold)?;

    let secret = recovered.secret.expose();
    let encoded: Zeroizing<Vec<u8>> = Zeroizing::new(match args.encoding {
        Encoding::Raw => secret.to_vec(),
        Encoding::Hex => vault_keys::hex_line(secret).as_bytes().to_vec(),
        Encoding::Base64 => vault_keys::base64_line(secret).as_bytes().to_vec(),
    });
    if let Some(out) = &args.out {
        write_new_file(out, &encoded, Privacy::Secret)?;
    } else {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(&encoded).and_then(|()| stdout.flush()).context("cannot write the secret to stdout")?;
    }
    report(&recovered, args.out.as_ref());
    Ok(())
}

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
    eprintln!("Recovered the secret of {what} from: {}.", r.used.join(", "));
    if !r.agreeing.is_empty() {
        eprintln!("Also consistent with it: {}.", r.agreeing.join(", "));
    }
    match r.verification {
        Verification::SetCommitment => {
            eprintln!("Verified: the secret matches the set's commitment.")
        }
        Verification::Manifest => {
            eprintln!("Verified: every key used matches its commitment in the manifest.")
        }
        Verification::Consistency { agreeing } => {
            eprintln!("Checked: {agreeing} keys lie on one polynomial (no commitment was available to check against).")
        }
        Verification::Unverified => eprintln!(
            "warning: NOT verified: bare keys carry no commitment. Give the set's manifest (--manifest) or more keys than the threshold to check the result."
        ),
    }
    for bad in &r.bad {
        eprintln!(
            "warning: BAD SHARE: {bad} does not belong to this secret (wrong, corrupt or altered); it was not used."
        );
    }
    if !r.unattributed.is_empty() {
        eprintln!(
            "warning: {} disagree with the shares used, and the evidence does not decide which shares are wrong; check them against the manifest (--manifest).",
            r.unattributed.join(", ")
        );
    }
    for repeated in &r.repeated {
        eprintln!("note: {repeated} repeats another input and was ignored.");
    }
    if let Some(path) = out {
        eprintln!("The secret was written to {} (mode 0600).", path.display());
    }
}

/// Shares read but not yet decrypted.
pub struct ReadShares {
    candidates: Vec<Candidate>,
    stated: Option<usize>,
}

impl ReadShares {
    /// How many inputs there are (before decryption; repeats included).
    pub fn len(&self) -> usize {
        self.candidates.len()
    }

    /// The threshold the inputs state themselves (Vault's output does).
    pub fn stated(&self) -> Option<usize> {
        self.stated
    }

    /// The origins of the inputs, for the plan.
    pub fn origins(&self) -> Vec<String> {
        self.candidates.iter().map(|c| c.origin.clone()).collect()
    }
}

impl Inputs {
    /// Reads and recognises every input; nothing is decrypted yet.
    pub fn read(&self) -> Result<ReadShares> {
        if self.share_files.is_empty() && !self.stdin && self.from_images.is_empty() && self.from_texts.is_empty() {
            bail!("no shares given: name share files (or pass --stdin or --from-image)");
        }
        let mut parsed = io::read_shares(&self.share_files, self.stdin)?;
        parsed.extend(io::read_images(&self.from_images)?);
        parsed.extend(io::read_typed(&self.from_texts)?);
        let mut stated = None;
        let mut candidates: Vec<Candidate> = Vec::new();
        for p in parsed {
            if let Some(t) = p.threshold {
                if stated.is_some_and(|s| s != t) {
                    bail!(
                        "the inputs state different thresholds ({} and {t}): they are not from one set",
                        stated.unwrap_or(t)
                    );
                }
                stated = Some(t);
            }
            candidates.extend(p.candidates);
        }
        Ok(ReadShares { candidates, stated })
    }
}

/// Decrypts every input (key files first, then the custodians' cards), without combining.
pub fn open_all(
    read: ReadShares,
    inputs: &Inputs,
    manifest: Option<&symbolon::manifest::Manifest>,
) -> Result<Vec<Candidate>> {
    let mut keys = io::read_key_files(&inputs.key_files)?;
    Ok(super::ceremony::open_with(read.candidates, &mut keys, &mut inputs.card.cards(manifest))?)
}

/// Decrypts (key files first, then the custodians' cards) and combines the shares, verified.
/// Too few shares for a known threshold are refused before any passphrase or PIN is asked.
pub fn recover(
    read: ReadShares,
    inputs: &Inputs,
    manifest: Option<&symbolon::manifest::Manifest>,
    threshold: Option<usize>,
) -> Result<combine::Recovered> {
    let ReadShares { candidates, stated } = read;
    let threshold = match (threshold, stated) {
        (Some(given), Some(s)) if given != s => {
            bail!(combine::CombineError::ThresholdConflict { given, stated: s })
        }
        (given, s) => given.or(s),
    };
    // Before any passphrase or PIN is asked: are there enough inputs to reach the threshold?
    let needed = threshold.or(manifest.map(|m| usize::from(m.threshold)));
    let encrypted = candidates.iter().any(|c| matches!(c.piece, combine::Piece::Encrypted { .. }));
    if let Some(k) = needed
        && encrypted
        && candidates.len() < k
    {
        bail!(
            "too few shares: {} given, {k} needed; add {} more (nothing was decrypted, no PIN was asked)",
            candidates.len(),
            k - candidates.len()
        );
    }
    let candidates = if encrypted {
        let mut keys = io::read_key_files(&inputs.key_files)?;
        // With shares to spare, a share whose custodian's card is absent is skipped (the others
        // may still reach the threshold); otherwise its absence is the error.
        let mut spare = needed.map_or(0, |k| candidates.len().saturating_sub(k));
        let total = candidates.len();
        let mut opened = Vec::with_capacity(total);
        for (i, candidate) in candidates.into_iter().enumerate() {
            // Enough shares opened: no more PINs are asked.
            if needed.is_some_and(|k| opened.len() >= k) {
                eprintln!("Share {} of {total}: {} not needed (the threshold is reached)", i + 1, candidate.origin);
                continue;
            }
            if !matches!(candidate.piece, combine::Piece::Encrypted { .. }) {
                opened.push(candidate);
                continue;
            }
            let origin = candidate.origin.clone();
            eprintln!("Share {} of {total}: {origin}", i + 1);
            // Cards are looked for again for every share: custodians swap them in between.
            match super::ceremony::open_with(vec![candidate], &mut keys, &mut inputs.card.cards(manifest)) {
                Ok(mut c) => opened.append(&mut c),
                Err(e) if spare > 0 && card_absent(&e) => {
                    spare -= 1;
                    eprintln!("Skipped {origin}: {e} (another share can stand in for it)");
                }
                Err(e) => return Err(e.into()),
            }
        }
        opened
    } else {
        candidates
    };
    let ctx = combine::Context { threshold, manifest };
    Ok(combine::combine(candidates, &ctx)?)
}

/// Whether decrypting failed only because the custodian's card is not there.
fn card_absent(e: &symbolon::input::InputError) -> bool {
    match e {
        symbolon::input::InputError::Decrypt {
            source: symbolon::openpgp::decrypt::DecryptError::Source(inner),
            ..
        } => inner.downcast_ref::<symbolon::card::CardError>().is_some_and(symbolon::card::CardError::is_absent_card),
        _ => false,
    }
}
