//! The new set's options and its outputs, shared by `split` and `rekey`: the clap arguments, the
//! checks made before any secret is read, and the rendering of what `new_set::write` wrote.

use anyhow::{Result, bail};
use clap::ValueEnum;
use std::path::PathBuf;
use symbolon::manifest;
pub use symbolon::new_set::Origin;
use symbolon::new_set::{FormatChoice, QrImages, Request, Summary};
use symbolon::recipients;
use symbolon::secret::SecretBytes;
use symbolon::shamir::Scheme;
use symbolon::share::Target;

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

/// Who the shares are for: `--recipient` (repeatable), and Vault's `--pgp-keys` and
/// `--pgp-keys-file` (see [`symbolon::recipients`]).
#[derive(clap::Args, Default)]
struct RecipientArgs {
    /// A custodian: NAME=CERT[,CERT...] (several tokens of one person), or CERT alone (named by
    /// its user ID). CERT is a file (armored, binary or base64), optionally FILE#FINGERPRINT to pick
    /// one certificate from a keyring. Repeat once per share, in share order.
    #[arg(long = "recipient", value_name = "SPEC")]
    recipients: Vec<String>,
    /// Vault's form: comma-separated certificate files, share i encrypted to key i.
    #[arg(long, value_name = "FILES", value_delimiter = ',')]
    pgp_keys: Vec<String>,
    /// A file with one base64-encoded certificate per line, share i to line i.
    #[arg(long, value_name = "FILE")]
    pgp_keys_file: Option<PathBuf>,
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

impl NewSetArgs {
    fn request(&self) -> Result<Request> {
        let (Some(shares), Some(threshold), Some(out_dir)) = (self.shares, self.threshold, self.out_dir.clone()) else {
            bail!("the new set needs --shares, --threshold and --out-dir");
        };
        let r = &self.recipients;
        Ok(Request {
            shares,
            threshold,
            scheme: self.scheme,
            label: self.label.clone(),
            target: self.target,
            recipients: (!self.plaintext).then(|| recipients::Request {
                specs: r.recipients.clone(),
                vault_keys: r.pgp_keys.clone(),
                vault_keys_file: r.pgp_keys_file.clone(),
            }),
            format: match self.format {
                FormatArg::Symbolon => FormatChoice::Symbolon,
                FormatArg::Vault => FormatChoice::Vault,
                FormatArg::VaultHex => FormatChoice::VaultHex,
            },
            binary: self.binary,
            paper: self.paper.then_some(self.paper_size),
            qr: self.qr,
            out_dir,
        })
    }
}

/// Checks everything about the new set that can be checked without the secret (the library's
/// rules), and says what the operator should be warned of. `inherited`: rekey's label and target.
pub fn prepare(args: &NewSetArgs, inherited: Option<(&str, Target)>) -> Result<Prepared> {
    let (prepared, warning) = symbolon::new_set::prepare(&args.request()?, inherited)?;
    if let Some(warning) = warning {
        tell!("warning: {warning}");
    }
    Ok(prepared)
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
    show!("Split into set {} ({} scheme, target {}{label}).", info.id.short(), info.scheme, info.target);
    let shares = if info.count == 1 { "1 share".to_string() } else { format!("{} shares", info.count) };
    show!("{shares}, {}. Written to {}:", info.describe_threshold(), summary.path.display());
    show!();
    if summary.encrypted {
        let files = &summary.files;
        let name_width = files.iter().filter_map(|f| f.custodian.as_ref()).map(|c| c.len()).max().unwrap_or(9).max(9);
        show!("  share  {:<name_width$}  {:<40}  file", "custodian", "certificate");
        for (i, file) in files.iter().enumerate() {
            let custodian = file.custodian.as_deref().unwrap_or("");
            for (j, fpr) in file.recipients.iter().enumerate() {
                let (index, who, name) =
                    if j == 0 { ((i + 1).to_string(), custodian, file.name.as_str()) } else { (String::new(), "", "") };
                show!("  {index:>5}  {who:<name_width$}  {:<40}  {name}", fpr.to_hex());
            }
        }
    } else {
        for file in &summary.files {
            show!("  {}", file.name);
        }
    }
    if summary.paper_files > 0 {
        show!("  paper sheets: NN-<custodian>.pdf ({} files) and cover.pdf (no secrets)", summary.paper_files);
    }
    if let Some(bytes) = summary.qr_skipped {
        tell!(
            "note: no QR codes were written: a share is {bytes} bytes, more than QR codes carry ({} bytes); the share files hold the shares",
            symbolon::qr::MAX_FORM_BYTES
        );
    }
    if summary.qr_files > 0 {
        show!("  QR codes of each share: NN-<custodian>.qr[N].png/.svg ({} files)", summary.qr_files);
    }
    show!("  {}  (public: who holds which share, commitments; no secrets)", manifest::FILE_NAME);
    if let Some(reason) = &summary.bare_commitments_omitted {
        tell!("note: the manifest has no per-share commitments for the bare keys: {reason}");
    }
    if summary.origin.generated {
        show!("The secret was generated here and exists only in these shares.");
    }
    if summary.origin.previous_unverified {
        tell!(
            "WARNING: the old secret was NOT verified (--accept-unverified-secret), and the manifest says so: test-unseal with the new set before destroying any old key"
        );
    }
    if let Some(previous) = &summary.origin.previous_set_id {
        show!(
            "This set re-splits set {previous}: the same secret, new shares (the old ones still work until destroyed)."
        );
    }
    match (summary.encrypted, &summary.origin.previous_set_id) {
        (true, None) => show!(
            "Each share is encrypted to its custodian. Next: every custodian checks theirs with `symbolon decrypt --check`."
        ),
        (true, Some(_)) => show!("Each share is encrypted to its custodian."),
        (false, _) => show!("These shares are NOT encrypted: hand each to its custodian and delete the rest."),
    }
}

/// Which QR files to write, from `--qr png,svg` or `--qr none`.
fn parse_qr(list: &str) -> Result<QrImages, String> {
    let mut out = QrImages { png: false, svg: false, asked: true };
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
