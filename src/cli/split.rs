//! `symbolon split`

use super::io;
use super::recipients::RecipientArgs;
use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use symbolon::manifest::{self, Manifest, ShareFile, ShareFormat};
use symbolon::openpgp::Custodian;
use symbolon::openpgp::encrypt::{self, Output};
use symbolon::output::{NewDir, Privacy};
use symbolon::secret::SecretBytes;
use symbolon::shamir::Scheme;
use symbolon::share::{Label, Share, Target};
use symbolon::split::{SplitPlan, split_secret};
use symbolon::vault_keys;
use zeroize::Zeroizing;

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["secret_file", "stdin", "generate"])))]
pub struct Args {
    #[command(flatten)]
    airgap: super::ceremony::Airgap,
    /// Read the secret from FILE (all of its bytes, as they are).
    #[arg(long, value_name = "FILE")]
    secret_file: Option<PathBuf>,
    /// Read the secret from standard input (a pipe, never a terminal).
    #[arg(long)]
    stdin: bool,
    /// Generate a new random secret of BYTES bytes from the operating system's CSPRNG.
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u32).range(1..))]
    generate: Option<u32>,
    #[command(flatten)]
    set: NewSet,
}

/// The new set: its configuration, custodians and outputs (shared by `split` and `rekey`).
#[derive(clap::Args)]
pub struct NewSet {
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
    qr: Option<QrOutputs>,
    /// New directory to write the shares and manifest.json into (must not exist).
    #[arg(short = 'o', long, value_name = "DIR", required = true)]
    pub out_dir: Option<PathBuf>,
}

/// A new set checked before any secret is read or any PIN asked: its plan, format and
/// custodians (certificates validated).
pub struct Prepared {
    pub plan: SplitPlan,
    format: ShareFormat,
    pub custodians: Vec<Custodian>,
    encrypted: bool,
    pub out_dir: PathBuf,
}

/// Where the secret of a new set came from, for the summary and the manifest.
#[derive(Default)]
pub struct Origin {
    pub generated: bool,
    /// The set this one re-splits (rekey).
    pub previous_set_id: Option<String>,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum FormatArg {
    Symbolon,
    Vault,
    VaultHex,
}

pub fn run(args: Args) -> Result<()> {
    args.airgap.check()?;
    let prepared = prepare(&args.set, None)?;
    let secret = if let Some(path) = &args.secret_file {
        io::read_secret_file(path)?
    } else if args.stdin {
        io::read_secret_stdin()?
    } else {
        let len = args.generate.unwrap_or(32) as usize;
        let mut s = SecretBytes::zeroed(len);
        symbolon::rng::fill_from_os(s.expose_mut())?;
        s
    };
    write(&args.set, prepared, secret, Origin { generated: args.generate.is_some(), previous_set_id: None })
}

/// Checks everything about the new set that can be checked without the secret, the custodian
/// count first. `inherited` gives the label and target to use when none is given (rekey).
pub fn prepare(args: &NewSet, inherited: Option<(&str, Target)>) -> Result<Prepared> {
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
    if out_dir.symlink_metadata().is_ok() {
        bail!(symbolon::output::OutputError::Exists { path: out_dir });
    }
    Ok(Prepared { plan, format, custodians, encrypted, out_dir })
}

/// Splits `secret` as prepared, encrypts, and writes the new set (whole or not at all).
pub fn write(args: &NewSet, prepared: Prepared, secret: SecretBytes, origin: Origin) -> Result<()> {
    let Prepared { plan, format, custodians, encrypted, out_dir } = prepared;
    if secret.is_empty() {
        bail!("the secret is empty: there is nothing to split (check the file or the pipe)");
    }

    let mut rng = symbolon::rng::os_rng()?;
    let set = split_secret(&secret, &plan, &mut rng)?;
    drop(secret);

    let width = set.shares.len().to_string().len().max(2);
    let mut dir = NewDir::create(&out_dir)?;
    let mut files = Vec::with_capacity(set.shares.len());
    let mut qr_files = Vec::new();
    let mut paper_files = Vec::new();
    let qr = args.qr.unwrap_or(QrOutputs { png: encrypted, svg: encrypted });
    // A batch of shares per core at a time: encrypted in parallel, then written, hashed and wiped,
    // so that only a few share files are ever in memory at once.
    let batch = std::thread::available_parallelism().map_or(1, |n| n.get()) * 4;
    let paper = args.paper.then_some(args.paper_size);
    for (b, shares) in set.shares.chunks(batch).enumerate() {
        let custodians = custodians.get(b * batch..).unwrap_or_default();
        // The costly part (encryption, QR codes, PDF sheets) runs on every core.
        let made = super::parallel::map(shares, |i, share| -> Result<(Made, Vec<ExtraFile>)> {
            let custodian = custodians.get(i);
            let made = share_file(share, format, custodian, args.binary, width)?;
            // Each QR code is made once, for the image files and for the sheet.
            let codes = if qr.png || qr.svg || paper.is_some() {
                symbolon::qr::payloads(&made.qr_form)
                    .iter()
                    .map(|p| symbolon::qr::code(p))
                    .collect::<Result<Vec<_>, _>>()?
            } else {
                Vec::new()
            };
            let mut extra = qr_files_of(&made, &codes, &qr)?;
            if let Some(size) = paper {
                let sheet = symbolon::paper::ShareSheet {
                    label: set.info.label.to_string(),
                    set_id: set.info.id.to_string(),
                    set_id_short: set.info.id.short(),
                    index: share.index,
                    count: set.info.count,
                    threshold: set.info.threshold,
                    target: set.info.target.to_string(),
                    scheme: set.info.scheme.to_string(),
                    custodian: custodian.map(|c| c.name.clone()),
                    fingerprints: custodian
                        .map_or_else(Vec::new, |c| c.fingerprints().iter().map(|f| f.to_hex()).collect()),
                    created: symbolon::time::utc_date(set.info.created),
                    file: made.name.clone(),
                    form: symbolon::secret::SecretBytes::copy_from(&made.qr_form),
                    encrypted,
                };
                let pdf = symbolon::paper::share_sheet(&sheet, &codes, size)?;
                extra.push((format!("{}.pdf", made.stem), Zeroizing::new(pdf)));
            }
            Ok((made, extra))
        });
        for (i, made) in made.into_iter().enumerate() {
            let (made, extra) = made?;
            let custodian = custodians.get(i);
            // Even ciphertext is kept private (0600): who may read it is the custodian's business.
            dir.write(&made.name, &made.contents, Privacy::Secret)?;
            for (name, contents) in extra {
                dir.write(&name, &contents, Privacy::Secret)?;
                if name.ends_with(".pdf") { paper_files.push(name) } else { qr_files.push(name) }
            }
            files.push(ShareFile {
                name: made.name.clone(),
                sha256: Sha256::digest(&made.contents[..]).into(),
                custodian: custodian.map(|c| c.name.clone()),
                recipients: custodian.map_or_else(Vec::new, |c| c.fingerprints().iter().map(|f| f.to_hex()).collect()),
                encryption_keys: custodian
                    .map_or_else(Vec::new, |c| c.encryption_keys().iter().map(|f| f.to_hex()).collect()),
            });
        }
    }
    let mut manifest = Manifest::new(&set.info, format, &set.shares, &files);
    manifest.previous_set_id = origin.previous_set_id.clone();
    dir.write(manifest::FILE_NAME, manifest.to_json().as_bytes(), Privacy::Public)?;
    if args.paper {
        let rows: Vec<symbolon::paper::CoverRow> = manifest
            .shares
            .iter()
            .map(|s| symbolon::paper::CoverRow {
                index: s.index,
                custodian: s.custodian.clone().unwrap_or_else(|| "(plaintext share)".into()),
                fingerprints: s.recipients.clone(),
                file: s.file.clone(),
            })
            .collect();
        dir.write("cover.pdf", &symbolon::paper::cover_sheet(&manifest, &rows, args.paper_size), Privacy::Public)?;
    }
    let path = dir.commit().context("the share set was not written")?;

    let info = &set.info;
    let label = if info.label.as_str().is_empty() { String::new() } else { format!(", label \"{}\"", info.label) };
    println!("Split into set {} ({} scheme, target {}{label}).", info.id.short(), info.scheme, info.target);
    println!("{} shares, {}. Written to {}:", info.count, info.describe_threshold(), path.display());
    println!();
    if encrypted {
        let name_width = files.iter().filter_map(|f| f.custodian.as_ref()).map(|c| c.len()).max().unwrap_or(9).max(9);
        println!("  share  {:<name_width$}  {:<40}  file", "custodian", "certificate");
        for (file, share) in files.iter().zip(&set.shares) {
            let custodian = file.custodian.as_deref().unwrap_or("");
            for (j, fpr) in file.recipients.iter().enumerate() {
                let (index, who, name) = if j == 0 {
                    (share.index.to_string(), custodian, file.name.as_str())
                } else {
                    (String::new(), "", "")
                };
                println!("  {index:>5}  {who:<name_width$}  {fpr:<40}  {name}");
            }
        }
    } else {
        for file in &files {
            println!("  {}", file.name);
        }
    }
    if !paper_files.is_empty() {
        println!("  paper sheets: NN-<custodian>.pdf ({} files) and cover.pdf (no secrets)", paper_files.len());
    }
    if !qr_files.is_empty() {
        println!("  QR codes of each share: NN-<custodian>.qr[N].png/.svg ({} files)", qr_files.len());
    }
    println!("  {}  (public: who holds which share, commitments; no secrets)", manifest::FILE_NAME);
    if let Some(reason) = &manifest.bare_commitments_omitted {
        eprintln!("note: the manifest has no per-share commitments for the bare keys: {reason}");
    }
    if origin.generated {
        println!("The secret was generated here and exists only in these shares.");
    }
    if let Some(previous) = &origin.previous_set_id {
        println!(
            "This set re-splits set {previous}: the same secret, new shares (the old ones still work until destroyed)."
        );
    }
    if encrypted && origin.previous_set_id.is_none() {
        println!(
            "Each share is encrypted to its custodian. Next: every custodian checks theirs with `symbolon decrypt --check`."
        );
    } else {
        println!("These shares are NOT encrypted: hand each to its custodian and delete the rest.");
    }
    Ok(())
}

/// A file written next to a share (a QR image, a paper sheet): name and contents.
type ExtraFile = (String, Zeroizing<Vec<u8>>);

/// One share as written: its file name, the file's contents, and the share's binary form that
/// its QR codes carry.
struct Made {
    name: String,
    stem: String,
    contents: Zeroizing<Vec<u8>>,
    qr_form: Zeroizing<Vec<u8>>,
}

/// The file of one share, and the binary form its QR codes carry (docs/FORMAT.md, "QR payload"):
/// the OpenPGP message of an encrypted share, the binary share v1 of a plaintext symbolon share,
/// the key line of a plaintext Vault key.
fn share_file(
    share: &Share,
    format: ShareFormat,
    custodian: Option<&Custodian>,
    binary: bool,
    width: usize,
) -> Result<Made> {
    let index = share.index;
    let stem = format!("{index:0width$}-{}", custodian.map_or_else(|| "share".to_string(), Custodian::file_stem));
    // What the share looks like in plaintext, inside or outside the encryption.
    let mut text = match format {
        ShareFormat::SymbolonV1 => share.to_text(),
        ShareFormat::VaultHex => vault_keys::hex_line(share.payload.expose()),
        ShareFormat::VaultBase64 => vault_keys::base64_line(share.payload.expose()),
        ShareFormat::VaultPgpBase64 => {
            // Vault's -pgp-keys plaintext: the hex key, no newline.
            let mut line = vault_keys::hex_line(share.payload.expose());
            line.pop();
            line
        }
    };
    // The text's buffer moves into the byte vector (no copy is left behind).
    let plaintext: Zeroizing<Vec<u8>> = Zeroizing::new(std::mem::take(&mut *text).into_bytes());
    let Some(custodian) = custodian else {
        let (ext, qr_form) = match format {
            ShareFormat::SymbolonV1 => ("txt", Zeroizing::new(share.to_bytes().expose().to_vec())),
            ShareFormat::VaultHex => ("hex", plaintext.clone()),
            _ => ("b64", plaintext.clone()),
        };
        return Ok(Made { name: format!("{stem}.{ext}"), stem, contents: plaintext, qr_form });
    };
    // One ciphertext: the file (armored, binary or Vault's base64) and the QR codes carry the same.
    let message = Zeroizing::new(encrypt::encrypt(custodian, &plaintext, Output::Binary)?);
    let (name, contents) = match format {
        ShareFormat::VaultPgpBase64 => {
            (format!("{stem}.b64"), Zeroizing::new(vault_keys::base64_line(&message).as_bytes().to_vec()))
        }
        _ if binary => (format!("{stem}.pgp"), message.clone()),
        _ => (format!("{stem}.asc"), Zeroizing::new(encrypt::armor(&message))),
    };
    Ok(Made { name, stem, contents, qr_form: message })
}

/// The QR files of one share: `STEM.qr.png` (and `.svg`), or `STEM.qr1.png`, `STEM.qr2.png`, ...
/// when the share needs several codes.
fn qr_files_of(made: &Made, codes: &[symbolon::qr::Code], qr: &QrOutputs) -> Result<Vec<ExtraFile>> {
    let mut files = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        let part = if codes.len() == 1 { String::new() } else { (i + 1).to_string() };
        if qr.png {
            files.push((format!("{}.qr{part}.png", made.stem), Zeroizing::new(symbolon::qr::to_png(code, 6)?)));
        }
        if qr.svg {
            let svg = symbolon::qr::to_svg(code, 6);
            files.push((format!("{}.qr{part}.svg", made.stem), Zeroizing::new(svg.into_bytes())));
        }
    }
    Ok(files)
}

/// Which QR files to write, from `--qr png,svg` or `--qr none`.
#[derive(Clone, Copy, Debug)]
struct QrOutputs {
    png: bool,
    svg: bool,
}

fn parse_qr(list: &str) -> Result<QrOutputs, String> {
    let mut out = QrOutputs { png: false, svg: false };
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
