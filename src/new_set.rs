//! Making a new set (`split`, and the re-split of `rekey`): the secret is split as planned, each
//! share encoded (symbolon text or Vault's forms), encrypted to its custodian when there is one,
//! its QR codes and paper sheet made, and the whole directory written at once (or not at all)
//! with its manifest. The [`Summary`] says what was written; callers render it and claim nothing
//! it does not say.

use crate::manifest::{self, Manifest, ShareFile, ShareFormat};
use crate::openpgp::Custodian;
use crate::openpgp::certs::hex_all;
use crate::openpgp::encrypt::{self, EncryptError, Output};
use crate::output::{NewDir, OutputError, Privacy};
use crate::paper::{PaperError, PaperSize};
use crate::qr::QrError;
use crate::recipients::{self, RecipientError};
use crate::secret::SecretBytes;
use crate::shamir::{Scheme, ShamirError, Warning};
use crate::share::{FormatError, Label, Target};
use crate::share::{SetId, SetInfo, Share};
use crate::split::{SplitError, SplitPlan, split_secret};
use crate::vault_keys;
use std::path::PathBuf;
use zeroize::Zeroizing;

/// Which QR images to write next to each share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QrImages {
    pub png: bool,
    pub svg: bool,
    /// The operator asked for these images: a share too large for QR codes is then refused.
    /// Otherwise (the default) its images are skipped, and the summary says so.
    pub asked: bool,
}

/// A new set, checked before any secret is read: what to make and where.
#[derive(Debug)]
pub struct NewSet {
    pub plan: SplitPlan,
    pub format: ShareFormat,
    /// One per share, in order; empty for plaintext shares.
    pub custodians: Vec<Custodian>,
    /// Encrypted symbolon shares as binary OpenPGP (`.pgp`) instead of armor (`.asc`).
    pub binary: bool,
    pub qr: QrImages,
    /// A printable sheet per share, and a cover sheet.
    pub paper: Option<PaperSize>,
    /// The directory to create (it must not exist).
    pub out_dir: PathBuf,
}

impl NewSet {
    /// Whether the shares are encrypted to custodians.
    pub fn encrypted(&self) -> bool {
        !self.custodians.is_empty()
    }
}

/// How the share files are written, as asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatChoice {
    /// Share format v1.
    Symbolon,
    /// Vault's base64 key; encrypted: Vault's `-pgp-keys` form.
    Vault,
    /// Vault's hex key (plaintext only).
    VaultHex,
}

/// A new set as asked for, before anything is checked.
#[derive(Debug)]
pub struct Request {
    pub shares: usize,
    pub threshold: usize,
    pub scheme: Scheme,
    /// The label and target; when absent, the inherited ones (rekey) or none and generic.
    pub label: Option<String>,
    pub target: Option<Target>,
    /// Who the shares are for; `None` writes plaintext shares.
    pub recipients: Option<recipients::Request>,
    pub format: FormatChoice,
    pub binary: bool,
    pub paper: Option<PaperSize>,
    /// Which QR images; by default both for encrypted shares, none for plaintext ones (a QR image
    /// is one more copy of the share).
    pub qr: Option<QrImages>,
    pub out_dir: PathBuf,
}

/// Why a new set cannot be made as asked.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("no custodians named: every share needs one custodian, or the shares are written unencrypted")]
    NoCustodians,
    #[error("{count} custodian(s) named for {shares} shares: every share needs exactly one custodian")]
    CustodianCount { count: usize, shares: usize },
    #[error(
        "Vault's encrypted form is base64 of the OpenPGP message, never hex: write encrypted shares in Vault's base64 form, or hex keys unencrypted"
    )]
    EncryptedHex,
    #[error(
        "the Vault share formats write Vault keys, which need the vault scheme: use the vault scheme, or symbolon's own share format"
    )]
    VaultFormatNeedsVaultScheme,
    #[error(
        "binary OpenPGP applies to symbolon shares; Vault's form is always base64 of a binary message: leave binary output off for Vault's formats"
    )]
    BinaryVault,
    #[error(transparent)]
    Recipient(#[from] RecipientError),
    #[error(transparent)]
    Parameters(#[from] ShamirError),
    #[error(transparent)]
    Label(#[from] FormatError),
    #[error(
        "the label '{label}' holds control or invisible format characters (bidirectional overrides, zero-width characters), which could make it read as another: give a label without them"
    )]
    LabelInvisible { label: String },
    #[error(transparent)]
    Output(#[from] OutputError),
}

/// Checks everything about the new set that can be checked without the secret, the custodian
/// count first, and loads every custodian's certificates. `inherited` gives the label and target
/// to use when none is asked for (rekey). Returns the set and what to warn the operator of.
pub fn prepare(req: &Request, inherited: Option<(&str, Target)>) -> Result<(NewSet, Option<Warning>), RequestError> {
    if let Some(recipients) = &req.recipients {
        if recipients.is_empty() {
            return Err(RequestError::NoCustodians);
        }
        let count = recipients.count()?;
        if count != req.shares {
            return Err(RequestError::CustodianCount { count, shares: req.shares });
        }
    }
    let encrypted = req.recipients.is_some();
    let format = match (req.format, encrypted) {
        (FormatChoice::Symbolon, _) => ShareFormat::SymbolonV1,
        (FormatChoice::Vault, true) => ShareFormat::VaultPgpBase64,
        (FormatChoice::Vault, false) => ShareFormat::VaultBase64,
        (FormatChoice::VaultHex, false) => ShareFormat::VaultHex,
        (FormatChoice::VaultHex, true) => return Err(RequestError::EncryptedHex),
    };
    if format.is_bare() && req.scheme != Scheme::Vault {
        return Err(RequestError::VaultFormatNeedsVaultScheme);
    }
    if req.binary && format != ShareFormat::SymbolonV1 {
        return Err(RequestError::BinaryVault);
    }
    let custodians = match &req.recipients {
        Some(recipients) => recipients.load()?,
        None => Vec::new(),
    };
    // A label given now is shown on every share and sheet: no character that could disguise it.
    if let Some(given) = req.label.as_deref().filter(|l| crate::sanitize::needs_escaping(l)) {
        return Err(RequestError::LabelInvisible { label: crate::sanitize(given) });
    }
    let label = req.label.as_deref().or(inherited.map(|(l, _)| l)).unwrap_or("");
    let plan = SplitPlan {
        scheme: req.scheme,
        threshold: req.threshold,
        shares: req.shares,
        target: req.target.or(inherited.map(|(_, t)| t)).unwrap_or(Target::Generic),
        label: Label::new(label)?,
        created: None,
    };
    let warning = plan.check()?;
    crate::output::refuse_existing(&req.out_dir)?;
    let qr = req.qr.unwrap_or(QrImages { png: encrypted, svg: encrypted, asked: false });
    let new =
        NewSet { plan, format, custodians, binary: req.binary, qr, paper: req.paper, out_dir: req.out_dir.clone() };
    Ok((new, warning))
}

/// Where the secret of a new set came from.
#[derive(Debug, Default, Clone)]
pub struct Origin {
    /// Generated here: it exists only in the new shares.
    pub generated: bool,
    /// The set this one re-splits (rekey).
    pub previous_set_id: Option<SetId>,
    /// The re-split secret could not be verified, and the operator went on all the same.
    pub previous_unverified: bool,
    /// Re-split: the old secret is known to be uniformly random (its manifest says so, and the
    /// keys matched that manifest's bare commitments).
    pub previous_random: bool,
    /// The operator vouched that the secret is uniformly random (`--secret-is-random`: a key that
    /// Vault or another generator made).
    pub vouched_random: bool,
}

impl Origin {
    /// Whether the secret is known to be uniformly random (bare commitments are safe for it).
    pub fn random(&self) -> bool {
        self.generated || self.previous_random || self.vouched_random
    }
}

/// What was written.
#[derive(Debug)]
pub struct Summary {
    pub set: SetInfo,
    /// The directory, as committed.
    pub path: PathBuf,
    /// Every share's file, in order, with its custodian and certificates.
    pub files: Vec<ShareFile>,
    /// Whether every share file is encrypted to its custodian.
    pub encrypted: bool,
    pub qr_files: usize,
    pub paper_files: usize,
    /// QR images were not written (the default asked for them): a share's form is this many
    /// bytes, more than QR codes carry.
    pub qr_skipped: Option<usize>,
    /// The cover sheet was written.
    pub cover: bool,
    pub origin: Origin,
    /// Why the manifest has no per-share commitments for bare keys, if it has none.
    pub bare_commitments_omitted: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum NewSetError {
    #[error("the secret is empty: there is nothing to split (check the file or the pipe)")]
    EmptySecret,
    #[error(
        "the new set has {custodians} custodians for {shares} shares: every encrypted share needs exactly one custodian. Nothing was written"
    )]
    CustodianCount { custodians: usize, shares: usize },
    #[error(transparent)]
    Split(#[from] SplitError),
    #[error(transparent)]
    Encrypt(#[from] EncryptError),
    #[error(transparent)]
    Qr(#[from] QrError),
    #[error(transparent)]
    Paper(#[from] PaperError),
    #[error(transparent)]
    Rng(#[from] crate::rng::RngError),
    #[error("the share set was not written: {0}")]
    Output(#[from] OutputError),
    #[error(
        "share {index} is {bytes} bytes, more than QR codes and paper sheets carry ({} bytes, {} codes): nothing was written. Leave out the QR codes and sheets (the share files hold the shares), or split a shorter secret (e.g. a key that encrypts the large one)",
        crate::qr::MAX_FORM_BYTES, crate::qr::MAX_FORM_BYTES / crate::qr::PART_BYTES
    )]
    TooLargeForQr { index: u8, bytes: usize },
}

/// Beyond this many bytes of secret, shares are made one at a time (memory before speed).
const LARGE_SECRET: usize = 1 << 20;

/// A file written next to a share (a QR image, a paper sheet): name and contents.
type ExtraFile = (String, Zeroizing<Vec<u8>>);

/// Splits `secret` as planned, encrypts, and writes the new set (whole or not at all).
pub fn write(new: NewSet, secret: SecretBytes, origin: Origin) -> Result<Summary, NewSetError> {
    if secret.is_empty() {
        return Err(NewSetError::EmptySecret);
    }
    // An encrypted set writes one share per custodian, never a share to nobody.
    if new.encrypted() && new.custodians.len() != new.plan.shares {
        return Err(NewSetError::CustodianCount { custodians: new.custodians.len(), shares: new.plan.shares });
    }
    let mut rng = crate::rng::os_rng()?;
    let set = split_secret(&secret, &new.plan, &mut rng)?;
    drop(secret);
    let mut dir = NewDir::create(&new.out_dir)?;
    let mut files = Vec::with_capacity(set.shares.len());
    let (mut qr_files, mut paper_files) = (0, 0);
    let mut qr_skipped = None;
    // A batch of shares at a time: encrypted in parallel, then written, hashed and wiped, so that
    // only a few share files are ever in memory at once. A share file is several times the
    // secret's size (text form, message, armor), so a large secret goes one share at a time:
    // memory stays a small multiple of the secret (see benches/large_secret.rs).
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let batch = if set.info.secret_len as usize > LARGE_SECRET { 1 } else { cores * 4 };
    for (b, shares) in set.shares.chunks(batch).enumerate() {
        let custodians = new.custodians.get(b * batch..).unwrap_or_default();
        // The costly part (encryption, QR codes, PDF sheets) runs on every core.
        let made = crate::parallel::map(shares, |i, share| make_share(&new, &set.info, share, custodians.get(i)));
        for (i, made) in made.into_iter().enumerate() {
            let (made, extra) = made?;
            if (new.qr.png || new.qr.svg) && made.qr_form.len() > crate::qr::MAX_FORM_BYTES {
                qr_skipped = qr_skipped.max(Some(made.qr_form.len()));
            }
            let custodian = custodians.get(i);
            // Even ciphertext is kept private (0600): who may read it is the custodian's business.
            dir.write(&made.name, &made.contents, Privacy::Secret)?;
            for (name, contents) in extra {
                dir.write(&name, &contents, Privacy::Secret)?;
                if name.ends_with(".pdf") { paper_files += 1 } else { qr_files += 1 }
            }
            files.push(ShareFile {
                name: made.name.clone(),
                sha256: crate::commitment::sha256_wiped(&[&made.contents[..]]),
                custodian: custodian.map(|c| c.name.clone()),
                recipients: custodian.map_or_else(Vec::new, |c| c.fingerprints()),
                encryption_keys: custodian.map_or_else(Vec::new, |c| c.encryption_keys()),
            });
        }
    }
    let mut manifest = Manifest::new(&set.info, new.format, &set.shares, &files, origin.random());
    manifest.previous_set_id = origin.previous_set_id;
    manifest.previous_secret_unverified = origin.previous_unverified;
    dir.write(manifest::FILE_NAME, manifest.to_json().as_bytes(), Privacy::Public)?;
    if let Some(size) = new.paper {
        let rows: Vec<crate::paper::CoverRow> = manifest
            .shares
            .iter()
            .map(|s| crate::paper::CoverRow {
                index: s.index,
                custodian: s.custodian.clone().unwrap_or_else(|| "(plaintext share)".into()),
                fingerprints: hex_all(&s.recipients),
                file: s.file.clone(),
            })
            .collect();
        dir.write("cover.pdf", &crate::paper::cover_sheet(&manifest, &rows, size), Privacy::Public)?;
    }
    let path = dir.commit()?;
    Ok(Summary {
        set: set.info,
        path,
        encrypted: new.encrypted() && files.iter().all(|f| !f.recipients.is_empty()),
        files,
        qr_files,
        paper_files,
        qr_skipped,
        cover: new.paper.is_some(),
        origin,
        bare_commitments_omitted: manifest.bare_commitments_omitted,
    })
}

/// One share's file and the files made next to it (QR images, its sheet).
fn make_share(
    new: &NewSet,
    info: &SetInfo,
    share: &Share,
    custodian: Option<&Custodian>,
) -> Result<(Made, Vec<ExtraFile>), NewSetError> {
    let width = info.count.to_string().len().max(2);
    let made = share_file(share, new.format, custodian, new.binary, width)?;
    // QR codes and sheets carry a share of at most MAX_FORM_BYTES: beyond, they are refused when
    // asked for, and skipped (and said so) by default.
    let too_large = made.qr_form.len() > crate::qr::MAX_FORM_BYTES;
    if too_large && (new.qr.asked && (new.qr.png || new.qr.svg) || new.paper.is_some()) {
        return Err(NewSetError::TooLargeForQr { index: share.index, bytes: made.qr_form.len() });
    }
    let qr = if too_large { QrImages { png: false, svg: false, asked: false } } else { new.qr };
    // Each QR code is made once, for the image files and for the sheet.
    let codes = if qr.png || qr.svg || new.paper.is_some() {
        crate::qr::payloads(&made.qr_form).iter().map(|p| crate::qr::code(p)).collect::<Result<Vec<_>, _>>()?
    } else {
        Vec::new()
    };
    let mut extra = qr_files_of(&made, &codes, qr)?;
    if let Some(size) = new.paper {
        let sheet = crate::paper::ShareSheet {
            label: info.label.to_string(),
            set_id: info.id.to_string(),
            set_id_short: info.id.short(),
            index: share.index,
            count: info.count,
            threshold: info.threshold,
            target: info.target.to_string(),
            scheme: info.scheme.to_string(),
            custodian: custodian.map(|c| c.name.clone()),
            fingerprints: custodian.map_or_else(Vec::new, |c| hex_all(c.fingerprints())),
            created: crate::time::utc_date(info.created),
            file: made.name.clone(),
            form: SecretBytes::copy_from(&made.qr_form),
            encrypted: custodian.is_some(),
        };
        let pdf = crate::paper::share_sheet(&sheet, &codes, size)?;
        extra.push((format!("{}.pdf", made.stem), Zeroizing::new(pdf)));
    }
    Ok((made, extra))
}

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
) -> Result<Made, NewSetError> {
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
fn qr_files_of(made: &Made, codes: &[crate::qr::Code], qr: QrImages) -> Result<Vec<ExtraFile>, NewSetError> {
    let mut files = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        let part = if codes.len() == 1 { String::new() } else { (i + 1).to_string() };
        if qr.png {
            files.push((format!("{}.qr{part}.png", made.stem), Zeroizing::new(crate::qr::to_png(code, 6)?)));
        }
        if qr.svg {
            let svg = crate::qr::to_svg(code, 6);
            files.push((format!("{}.qr{part}.svg", made.stem), Zeroizing::new(svg.into_bytes())));
        }
    }
    Ok(files)
}
