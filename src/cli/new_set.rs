//! The new set's options and its outputs, shared by `split` and `rekey`: the clap arguments, the
//! checks made before any secret is read, and the rendering of what `new_set::write` wrote.

use super::recipients::RecipientArgs;
use anyhow::{Result, bail};
use clap::ValueEnum;
use std::path::PathBuf;
use symbolon::manifest::{self, ShareFormat};
pub use symbolon::new_set::Origin;
use symbolon::new_set::{QrImages, Summary};
use symbolon::secret::SecretBytes;
use symbolon::shamir::Scheme;
use symbolon::share::{Label, Target};
use symbolon::split::SplitPlan;

/// The new set: its configuration, custodians and outputs .
#[derive(clap::Args)]
pub struct NewSetArgs {
    /// Number of shares to make (Vault: -key-shares).
    #[arg(short = 'n', long = "shares", alias = "key-shares", value_name = "N", required = true)]
    pub shares: Option<usize>,
    /// Number of shares needed to recover the secret (Vault: -key-threshold).
    #[arg(short = 't', long = "threshold", alias = "key-threshold", value_name = "K", required = true)]
    pub threshold: Option<usize>,
    /// Shamir scheme: native (sharks/blahaj format) or vault (byte-compatible with HashiCorp Vault).
    #[arg(long, default_value = "native")]
    pub scheme: Scheme,
    /// A label for the set, e.g. "vault-prod unseal" (at most 64 bytes; rekey: the old set's).
    #[arg(long)]
    pub label: Option<String>,
    /// What the secret unlocks: unseal, recovery or generic (Vault's words; default generic,
    /// rekey: the old set's).
    #[arg(long)]
    pub target: Option<Target>,
    #[command(flatten)]
    recipients: RecipientArgs,
    /// Write unencrypted shares instead (anyone who can read a file can use its share).
    #[arg(long, conflicts_with_all = ["recipients", "pgp_keys", "pgp_keys_file", "binary"])]
    plaintext: bool,
    /// What each share file holds: symbolon (share format v1), vault (Vault's base64 key; encrypted:
    /// Vault's -pgp-keys form), or vault-hex (Vault's hex key, plaintext only). vault* need --scheme vault.
    #[arg(long, value_enum, default_value = "symbolon")]
    format: FormatArg,
    /// Encrypted symbolon shares as binary OpenPGP (.pgp) instead of ASCII armor (.asc).
    #[arg(long)]
    binary: bool,
    /// Also write a printable sheet per share (NN-<custodian>.pdf: QR codes, the share as checked
    /// text lines, recovery instructions) and a cover sheet for the set (cover.pdf, no secrets).
    #[arg(long)]
    paper: bool,
    /// Paper size of the sheets: a4 or letter.
    #[arg(long, value_name = "SIZE", default_value = "a4", requires = "paper")]
    paper_size: symbolon::paper::PaperSize,
    /// QR codes of each share to write next to it: png, svg, png,svg or none. Default: png,svg for
    /// encrypted shares, none for --plaintext ones (a QR image is one more copy of the share).
    #[arg(long, value_name = "LIST", value_parser = parse_qr)]
    qr: Option<QrImages>,
    /// New directory to write the shares and manifest.json into (must not exist).
    #[arg(short = 'o', long, value_name = "DIR", required = true)]
    pub out_dir: Option<PathBuf>,
}

/// A new set checked before any secret is read or any PIN asked: its plan, format and
/// custodians (certificates validated), and its outputs.
pub type Prepared = symbolon::new_set::NewSet;

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum FormatArg {
    Symbolon,
    Vault,
    VaultHex,
}

/// Checks everything about the new set that can be checked without the secret, the custodian
/// count first. `inherited` gives the label and target to use when none is given (rekey).
pub fn prepare(args: &NewSetArgs, inherited: Option<(&str, Target)>) -> Result<Prepared> {
    let (Some(shares), Some(threshold), Some(out_dir)) = (args.shares, args.threshold, args.out_dir.clone()) else {
        bail!("the new set needs --shares, --threshold and --out-dir");
    };
    let encrypted = !args.plaintext;
    if encrypted {
        if args.recipients.is_empty() {
            bail!(
                "no custodians named: give one --recipient per share (or Vault's --pgp-keys), \
                 or pass --plaintext to write unencrypted shares"
            );
        }
        let count = args.recipients.count()?;
        if count != shares {
            bail!(
                "{count} custodian(s) named for {} shares: every share needs exactly one custodian; \
                 name one --recipient per share or change --shares",
                shares
            );
        }
    }
    let format = match (args.format, encrypted) {
        (FormatArg::Symbolon, _) => ShareFormat::SymbolonV1,
        (FormatArg::Vault, true) => ShareFormat::VaultPgpBase64,
        (FormatArg::Vault, false) => ShareFormat::VaultBase64,
        (FormatArg::VaultHex, false) => ShareFormat::VaultHex,
        (FormatArg::VaultHex, true) => {
            bail!("Vault's encrypted form is base64 of the OpenPGP message: use --format vault")
        }
    };
    if format.is_bare() && args.scheme != Scheme::Vault {
        bail!("--format {:?} writes Vault keys, which need --scheme vault", args.format);
    }
    if args.binary && format != ShareFormat::SymbolonV1 {
        bail!("--binary applies to symbolon shares; Vault's form is always base64 of a binary message");
    }
    let custodians = if encrypted { args.recipients.load()? } else { Vec::new() };
    let label = args.label.as_deref().or(inherited.map(|(l, _)| l)).unwrap_or("");
    let plan = SplitPlan {
        scheme: args.scheme,
        threshold,
        shares,
        target: args.target.or(inherited.map(|(_, t)| t)).unwrap_or(Target::Generic),
        label: Label::new(label)?,
        created: None,
    };
    if let Some(warning) = plan.check()? {
        eprintln!("warning: {warning}");
    }
    symbolon::output::refuse_existing(&out_dir)?;
    let qr = args.qr.unwrap_or(QrImages { png: encrypted, svg: encrypted });
    let paper = args.paper.then_some(args.paper_size);
    Ok(Prepared { plan, format, custodians, binary: args.binary, qr, paper, out_dir })
}

/// Splits `secret` as prepared, encrypts, writes the new set (whole or not at all), and says
/// what was written.
pub fn write(prepared: Prepared, secret: SecretBytes, origin: Origin) -> Result<()> {
    let summary = symbolon::new_set::write(prepared, secret, origin)?;
    render(&summary);
    Ok(())
}

/// What the summary says was written, and what to do next.
pub fn render(summary: &Summary) {
    let info = &summary.set;
    let label = if info.label.as_str().is_empty() { String::new() } else { format!(", label \"{}\"", info.label) };
    println!("Split into set {} ({} scheme, target {}{label}).", info.id.short(), info.scheme, info.target);
    println!("{} shares, {}. Written to {}:", info.count, info.describe_threshold(), summary.path.display());
    println!();
    if summary.encrypted {
        let files = &summary.files;
        let name_width = files.iter().filter_map(|f| f.custodian.as_ref()).map(|c| c.len()).max().unwrap_or(9).max(9);
        println!("  share  {:<name_width$}  {:<40}  file", "custodian", "certificate");
        for (i, file) in files.iter().enumerate() {
            let custodian = file.custodian.as_deref().unwrap_or("");
            for (j, fpr) in file.recipients.iter().enumerate() {
                let (index, who, name) =
                    if j == 0 { ((i + 1).to_string(), custodian, file.name.as_str()) } else { (String::new(), "", "") };
                println!("  {index:>5}  {who:<name_width$}  {fpr:<40}  {name}");
            }
        }
    } else {
        for file in &summary.files {
            println!("  {}", file.name);
        }
    }
    if summary.paper_files > 0 {
        println!("  paper sheets: NN-<custodian>.pdf ({} files) and cover.pdf (no secrets)", summary.paper_files);
    }
    if summary.qr_files > 0 {
        println!("  QR codes of each share: NN-<custodian>.qr[N].png/.svg ({} files)", summary.qr_files);
    }
    println!("  {}  (public: who holds which share, commitments; no secrets)", manifest::FILE_NAME);
    if let Some(reason) = &summary.bare_commitments_omitted {
        eprintln!("note: the manifest has no per-share commitments for the bare keys: {reason}");
    }
    if summary.origin.generated {
        println!("The secret was generated here and exists only in these shares.");
    }
    if let Some(previous) = &summary.origin.previous_set_id {
        println!(
            "This set re-splits set {previous}: the same secret, new shares (the old ones still work until destroyed)."
        );
    }
    match (summary.encrypted, &summary.origin.previous_set_id) {
        (true, None) => println!(
            "Each share is encrypted to its custodian. Next: every custodian checks theirs with `symbolon decrypt --check`."
        ),
        (true, Some(_)) => println!("Each share is encrypted to its custodian."),
        (false, _) => println!("These shares are NOT encrypted: hand each to its custodian and delete the rest."),
    }
}

/// Which QR files to write, from `--qr png,svg` or `--qr none`.
fn parse_qr(list: &str) -> Result<QrImages, String> {
    let mut out = QrImages { png: false, svg: false };
    for item in list.split(',').map(str::trim) {
        match item {
            "png" => out.png = true,
            "svg" => out.svg = true,
            "none" => {}
            other => return Err(format!("unknown QR output '{other}': use png, svg, both (png,svg) or none")),
        }
    }
    Ok(out)
}
