//! Recognising what the user gave as a share: a symbolon share (one or several armored shares
//! in one text), or Vault's keys in any of the forms Vault prints. Each share found gets an
//! origin that names it in messages ("alice.txt", "init.json, unseal key 2").

use crate::candidate::{Candidate, Piece};
use crate::openpgp::{self, decrypt::DecryptError, decrypt::KeySource};
use crate::prompt::Prompt;
use crate::share::{ARMOR_BEGIN, FormatError, Share, Target};
use crate::vault_keys::{self, VaultKeysError};

/// The shares found in one input, and what the input says about its set.
#[derive(Debug, Default)]
pub struct Parsed {
    pub candidates: Vec<Candidate>,
    /// A threshold stated by the input itself (Vault's output states it).
    pub threshold: Option<usize>,
}

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{origin}: {source}")]
    Share { origin: String, source: FormatError },
    #[error("{origin}: {source}")]
    Vault { origin: String, source: VaultKeysError },
    #[error("{origin} is empty")]
    Empty { origin: String },
    #[error("{origin} is binary but not an OpenPGP message: give a share file, a Vault key file or Vault's output")]
    NotText { origin: String },
    #[error("{origin}: {source}")]
    Decrypt { origin: String, source: DecryptError },
    #[error("{origin} decrypts to something that is not a share: {what}")]
    NotAShareInside { origin: String, what: String },
    #[error("{origin}: {source}")]
    Qr { origin: String, source: crate::qr::QrError },
    #[error("{origin}: {source}{}", if matches!(source, crate::checked_lines::LinesError::Empty | crate::checked_lines::LinesError::BadLength) { "; check the lines and try again" } else { "; fix that line and try again" })]
    Typed { origin: String, source: crate::checked_lines::LinesError },
    #[error(
        "{origin} is an SVG drawing: symbolon reads photographs and scans (PNG, JPEG), not SVG. Use the PNG written next to it (NN-NAME.qrN.png), or print the SVG and scan or photograph it"
    )]
    SvgImage { origin: String },
    #[error("{origin} is a set's manifest, not a share: the manifest is given on its own, to check the shares")]
    IsManifest { origin: String },
    #[error("{origin} is an image ({kind}), not a share file: images of QR codes are read as images")]
    IsImage { origin: String, kind: &'static str },
    #[error("the pasted share could not be read: {why}")]
    Pasted { why: String },
}

/// Whether `text` looks like typed-back checked lines ("01  ABCDE FGHIJ ...  K7"): the first
/// non-empty line starts with a line number followed by space-separated groups.
pub fn looks_like_typed_lines(text: &str) -> bool {
    let Some(first) = text.lines().map(str::trim).find(|l| !l.is_empty()) else { return false };
    let mut tokens = first.split_whitespace();
    let number_ok = tokens
        .next()
        .is_some_and(|t| t.len() >= 2 && t.trim_end_matches([':', '.']).chars().all(|c| c.is_ascii_digit()));
    number_ok && tokens.count() >= 2
}

/// Reads a share typed back from its paper sheet: the numbered, checked lines of its binary form.
/// A mistyped character is reported with its line.
pub fn parse_typed(origin: &str, text: &str) -> Result<Parsed, InputError> {
    let bytes = crate::checked_lines::decode(text.lines())
        .map_err(|source| InputError::Typed { origin: origin.to_string(), source })?;
    parse_bytes(origin, &bytes)
}

/// How many corrections a paste may take before giving up.
const PASTE_ROUNDS: usize = 20;

/// Reads a share pasted or typed line by line on a terminal, through `prompt`: the lines until an
/// empty one; then, while a line fails its check (or is missing), says which and asks for just
/// that line again.
pub fn read_pasted(prompt: &mut dyn crate::prompt::Prompt) -> Result<Parsed, InputError> {
    use crate::checked_lines::LinesError;
    let origin = "the pasted share";
    let prompt_err = |e: crate::prompt::PromptError| InputError::Pasted { why: e.to_string() };
    prompt.notice("Paste or type the share's numbered lines, then an empty line:");
    let mut lines: Vec<zeroize::Zeroizing<String>> = Vec::new();
    loop {
        let line = prompt.line("> ").map_err(prompt_err)?;
        if line.trim().is_empty() {
            break;
        }
        lines.push(line);
    }
    for _ in 0..PASTE_ROUNDS {
        let text = zeroize::Zeroizing::new(lines.iter().map(|l| l.as_str()).collect::<Vec<_>>().join("\n"));
        let error = match crate::checked_lines::decode(text.lines()) {
            Ok(bytes) => return parse_bytes(origin, &bytes),
            Err(e) => e,
        };
        // Which line to ask for again, and whether it replaces a line or fills a gap.
        let (line, missing) = match &error {
            LinesError::OutOfOrder { line, found } if found > line => (*line, true),
            LinesError::OutOfOrder { line, .. }
            | LinesError::Malformed { line }
            | LinesError::BadCharacter { line, .. }
            | LinesError::WrongLength { line, .. }
            | LinesError::TypoAt { line, .. }
            | LinesError::TypoInCheck { line }
            | LinesError::Corrupt { line } => (*line, false),
            LinesError::Empty | LinesError::BadLength => {
                return Err(InputError::Typed { origin: origin.to_string(), source: error });
            }
        };
        prompt.notice(&error.to_string());
        let again = prompt.line(&format!("line {line}> ")).map_err(prompt_err)?;
        let index = line.saturating_sub(1).min(lines.len());
        if missing {
            lines.insert(index, again);
        } else if index < lines.len() {
            lines[index] = again;
        } else {
            lines.push(again);
        }
    }
    Err(InputError::Pasted { why: format!("still wrong after {PASTE_ROUNDS} corrections") })
}

/// Reads shares from photographs or scans of their QR codes (PNG or JPEG). The codes of one share
/// may be spread over several images, in any order; codes of several shares may be mixed.
pub fn parse_images(images: &[(String, Vec<u8>)]) -> Result<Parsed, InputError> {
    let mut by_id: Vec<(String, String, Vec<String>)> = Vec::new(); // (id, origins, payloads)
    for (origin, bytes) in images {
        if image_kind(bytes) == Some("SVG") {
            return Err(InputError::SvgImage { origin: origin.clone() });
        }
        let found =
            crate::qr::read_image(origin, bytes).map_err(|source| InputError::Qr { origin: origin.clone(), source })?;
        for payload in found {
            let id = payload.split('/').nth(4).unwrap_or_default().to_string();
            match by_id.iter_mut().find(|(i, _, _)| *i == id) {
                Some((_, origins, payloads)) => {
                    if !origins.split(", ").any(|o| o == origin) {
                        origins.push_str(", ");
                        origins.push_str(origin);
                    }
                    if !payloads.contains(&payload) {
                        payloads.push(payload);
                    }
                }
                None => by_id.push((id, origin.clone(), vec![payload])),
            }
        }
    }
    let mut parsed = Parsed::default();
    for (_, origins, payloads) in by_id {
        let file =
            crate::qr::assemble(&payloads).map_err(|source| InputError::Qr { origin: origins.clone(), source })?;
        parsed.candidates.extend(parse_bytes(&origins, &file)?.candidates);
    }
    Ok(parsed)
}

/// Whether `bytes` are an OpenPGP message (binary), not a bare key that happens to start with a
/// packet tag: the session key packets must parse.
pub fn is_binary_message(bytes: &[u8]) -> bool {
    openpgp::looks_like_message(bytes) && bytes.len() >= 60 && openpgp::decrypt::recipients(bytes).is_ok()
}

/// Reads the shares in the file contents `bytes`, which may be binary (an OpenPGP message).
pub fn parse_bytes(origin: &str, bytes: &[u8]) -> Result<Parsed, InputError> {
    if bytes.first() == Some(&crate::share::FORMAT_VERSION)
        && let Ok(share) = Share::from_bytes(bytes)
    {
        let piece = Piece::Share(share);
        return Ok(Parsed { candidates: vec![Candidate { origin: origin.to_string(), piece }], ..Parsed::default() });
    }
    if is_binary_message(bytes) {
        let piece = Piece::Encrypted { message: bytes.to_vec(), target: None };
        return Ok(Parsed { candidates: vec![Candidate { origin: origin.to_string(), piece }], ..Parsed::default() });
    }
    if let Some(kind) = image_kind(bytes) {
        return Err(InputError::IsImage { origin: origin.to_string(), kind });
    }
    if let Ok(text) = std::str::from_utf8(bytes)
        && text.contains("\"schema\"")
        && text.contains(crate::manifest::SCHEMA)
        && crate::manifest::Manifest::from_json(text).is_ok()
    {
        return Err(InputError::IsManifest { origin: origin.to_string() });
    }
    let text = std::str::from_utf8(bytes).map_err(|_| InputError::NotText { origin: origin.to_string() })?;
    parse(origin, text)
}

/// The kind of image `bytes` are, by their magic numbers (PNG, JPEG, SVG).
pub fn image_kind(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("PNG")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("JPEG")
    } else if bytes[..bytes.len().min(512)].windows(4).any(|w| w == b"<svg") {
        Some("SVG")
    } else {
        None
    }
}

/// Decrypts every encrypted candidate with the first of `sources` holding its key (asking
/// `prompt` for passphrases or PINs) and reads the
/// share inside. Other candidates pass through unchanged.
pub fn open_encrypted(
    candidates: Vec<Candidate>,
    sources: &mut [&mut dyn KeySource],
    prompt: &mut dyn Prompt,
) -> Result<Vec<Candidate>, InputError> {
    let mut out = Vec::with_capacity(candidates.len());
    let total = candidates.iter().filter(|c| matches!(c.piece, Piece::Encrypted { .. })).count();
    let mut n = 0;
    for c in candidates {
        let Piece::Encrypted { message, target } = c.piece else {
            out.push(c);
            continue;
        };
        n += 1;
        if total > 1 {
            prompt.notice(&format!("Encrypted share {n} of {total}: {}", c.origin));
        }
        let plaintext = openpgp::decrypt::decrypt(&message, sources, prompt)
            .map_err(|source| InputError::Decrypt { origin: c.origin.clone(), source })?;
        out.push(read_inside(&c.origin, &plaintext, target)?);
    }
    Ok(out)
}

/// Reads the share inside a decrypted message: a symbolon share in text form, or a Vault key in
/// hex (Vault's PGP format) or base64.
pub fn read_inside(origin: &str, plaintext: &[u8], target: Option<Target>) -> Result<Candidate, InputError> {
    let not_share = |what: String| InputError::NotAShareInside { origin: origin.to_string(), what };
    let text = std::str::from_utf8(plaintext).map_err(|_| not_share("binary data".into()))?;
    let mut parsed = parse(origin, text).map_err(|e| not_share(e.to_string()))?;
    if parsed.candidates.len() != 1 {
        return Err(not_share(format!("{} shares", parsed.candidates.len())));
    }
    let mut candidate = parsed.candidates.remove(0);
    match &mut candidate.piece {
        Piece::VaultKey { target: t, .. } => *t = t.or(target),
        Piece::Encrypted { .. } => return Err(not_share("another encrypted message".into())),
        Piece::Share(_) => {}
    }
    Ok(candidate)
}

/// Reads the shares in `text`, which came from `origin`.
pub fn parse(origin: &str, text: &str) -> Result<Parsed, InputError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(InputError::Empty { origin: origin.to_string() });
    }
    if looks_like_typed_lines(trimmed) {
        return parse_typed(origin, trimmed);
    }
    if crate::qr::is_payload(trimmed) {
        // QR payloads pasted as text, one per line, in any order.
        let lines: Vec<&str> = trimmed.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        let file =
            crate::qr::assemble(&lines).map_err(|source| InputError::Qr { origin: origin.to_string(), source })?;
        return parse_bytes(origin, &file);
    }
    if openpgp::is_armored_message(trimmed) {
        let message = trimmed.as_bytes().to_vec();
        let piece = Piece::Encrypted { message, target: None };
        return Ok(Parsed { candidates: vec![Candidate { origin: origin.to_string(), piece }], ..Parsed::default() });
    }
    if trimmed.contains(ARMOR_BEGIN) {
        let shares =
            Share::all_from_text(text).map_err(|source| InputError::Share { origin: origin.to_string(), source })?;
        let many = shares.len() > 1;
        let candidates = shares
            .into_iter()
            .enumerate()
            .map(|(i, share)| Candidate {
                origin: if many { format!("{origin} (share {} in the file)", i + 1) } else { origin.to_string() },
                piece: Piece::Share(share),
            })
            .collect();
        return Ok(Parsed { candidates, ..Parsed::default() });
    }
    let vault_err = |source| InputError::Vault { origin: origin.to_string(), source };
    let keys = if trimmed.starts_with('{') {
        vault_keys::parse_json(trimmed).map_err(vault_err)?
    } else if vault_keys::looks_like_vault_text(trimmed) {
        vault_keys::parse_text(trimmed).map_err(vault_err)?
    } else {
        vault_keys::parse_lines(trimmed).map_err(vault_err)?
    };
    if keys.keys.is_empty() {
        return Err(InputError::Empty { origin: origin.to_string() });
    }
    let single = keys.keys.len() == 1;
    let candidates = keys
        .keys
        .into_iter()
        .map(|key| Candidate {
            origin: if single && key.place.starts_with("line") {
                origin.to_string()
            } else {
                format!("{origin} ({})", key.place)
            },
            // Vault's -pgp-keys output: the "key" is an OpenPGP message holding the hex key.
            piece: if is_binary_message(key.bytes.expose()) {
                Piece::Encrypted { message: key.bytes.expose().to_vec(), target: keys.target }
            } else {
                Piece::VaultKey { bytes: key.bytes, target: keys.target }
            },
        })
        .collect();
    Ok(Parsed { candidates, threshold: keys.threshold })
}
