//! QR codes of share files, for paper backups and for moving a share by camera, and reading
//! them back from images. Specified in `docs/FORMAT.md` ("QR payload").
//!
//! A QR code carries the share file's binary form (the OpenPGP message of an encrypted share, or
//! the binary share v1 of a plaintext one) in one or more parts:
//!
//! ```text
//! SYMBOLON/1/<part>/<total>/<id>/<data>
//! ```
//!
//! `<data>` is Crockford base32 (upper case), so a whole payload uses only QR's alphanumeric
//! character set, which packs 5.5 bits per character (base64 in byte mode packs 6 bits per 8).
//! `<id>` is the first 8 base32 characters of the SHA-256 of the whole file: it ties the parts
//! together and checks the reassembled file. Parts may be read in any order.

use image::{GrayImage, Luma};
use qrcode::render::{svg, unicode};
use qrcode::{EcLevel, QrCode};
use sha2::{Digest, Sha256};

pub const PREFIX: &str = "SYMBOLON/1/";
/// Bytes of the file per QR code: at error correction M, a part fits QR version 20 (97×97
/// modules), which a phone camera reads from a printed page.
pub const PART_BYTES: usize = 576;
/// Modules of quiet zone around a code, as the QR standard asks.
pub const QUIET_ZONE: u32 = 4;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    #[error("'{0}' is not a symbolon QR payload (it should start with {PREFIX})")]
    NotOurs(String),
    #[error("a QR payload is malformed ({0}): the code was misread; scan it again")]
    Malformed(&'static str),
    #[error("QR codes of different shares were mixed (ids {first} and {other}): give the codes of one share at a time")]
    Mixed { first: String, other: String },
    #[error("part {missing} of {total} is missing: scan every QR code of the share")]
    Missing { missing: usize, total: usize },
    #[error("the reassembled share does not match its id: a part was misread or belongs to another copy; scan again")]
    Checksum,
    #[error("could not make a QR code: {0}")]
    Encode(String),
    #[error("could not read the image {origin}: {why}")]
    Image { origin: String, why: String },
    #[error(
        "no QR code was found in {origin}: photograph or scan the code straight on, in focus, with its white border"
    )]
    NoCode { origin: String },
}

fn id_of(file: &[u8]) -> String {
    base32(&Sha256::digest(file)[..5])
}

fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut acc, mut bits) = (0u32, 0);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(ALPHABET[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

fn unbase32(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.bytes() {
        let v = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ".iter().position(|&a| a == c)? as u32;
        acc = (acc << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
        acc &= (1 << bits) - 1;
    }
    (bits < 5 && acc == 0).then_some(out)
}

/// The payloads of the QR codes that carry `file`, in order.
pub fn payloads(file: &[u8]) -> Vec<String> {
    let id = id_of(file);
    let parts: Vec<&[u8]> = if file.is_empty() { vec![&[][..]] } else { file.chunks(PART_BYTES).collect() };
    let total = parts.len();
    parts.iter().enumerate().map(|(i, part)| format!("{PREFIX}{}/{total}/{id}/{}", i + 1, base32(part))).collect()
}

/// Whether `text` is one of our payloads.
pub fn is_payload(text: &str) -> bool {
    text.trim_start().starts_with(PREFIX)
}

/// Reassembles the files carried by `payloads`, given in any order. Payloads of several files
/// (different ids) are an error; so is a missing or misread part.
pub fn assemble<S: AsRef<str>>(payloads: &[S]) -> Result<Vec<u8>, QrError> {
    let mut id: Option<String> = None;
    let mut total = 0;
    let mut parts: Vec<Option<Vec<u8>>> = Vec::new();
    for payload in payloads {
        let payload = payload.as_ref().trim();
        let rest = payload.strip_prefix(PREFIX).ok_or_else(|| QrError::NotOurs(payload.chars().take(40).collect()))?;
        let fields: Vec<&str> = rest.splitn(4, '/').collect();
        let [index, count, this_id, data] = fields.as_slice() else {
            return Err(QrError::Malformed("fields"));
        };
        let index: usize = index.parse().map_err(|_| QrError::Malformed("part number"))?;
        let count: usize = count.parse().map_err(|_| QrError::Malformed("part count"))?;
        if count == 0 || index == 0 || index > count || count > 4096 {
            return Err(QrError::Malformed("part number"));
        }
        match &id {
            Some(first) if first != this_id => {
                return Err(QrError::Mixed { first: first.clone(), other: this_id.to_string() });
            }
            Some(_) if count != total => return Err(QrError::Malformed("part count differs between codes")),
            Some(_) => {}
            None => {
                id = Some(this_id.to_string());
                total = count;
                parts = vec![None; count];
            }
        }
        parts[index - 1] = Some(unbase32(data).ok_or(QrError::Malformed("data"))?);
    }
    let id = id.ok_or(QrError::Malformed("no codes"))?;
    let mut file = Vec::new();
    for (i, part) in parts.into_iter().enumerate() {
        file.extend(part.ok_or(QrError::Missing { missing: i + 1, total })?);
    }
    if id_of(&file) != id {
        return Err(QrError::Checksum);
    }
    Ok(file)
}

/// The QR code of one payload, error correction M (recovers about 15% damage).
pub fn code(payload: &str) -> Result<QrCode, QrError> {
    QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M).map_err(|e| QrError::Encode(e.to_string()))
}

/// SVG of the code with its quiet zone; `module` is the size of one module in SVG units.
pub fn to_svg(code: &QrCode, module: u32) -> String {
    code.render::<svg::Color>().quiet_zone(true).module_dimensions(module, module).build()
}

/// PNG of the code with its quiet zone, `module` pixels per module.
pub fn to_png(code: &QrCode, module: u32) -> Result<Vec<u8>, QrError> {
    let image = to_gray(code, module);
    let mut png = std::io::Cursor::new(Vec::new());
    image.write_to(&mut png, image::ImageFormat::Png).map_err(|e| QrError::Encode(e.to_string()))?;
    Ok(png.into_inner())
}

/// The code as a grey image, `module` pixels per module, with its quiet zone.
pub fn to_gray(code: &QrCode, module: u32) -> GrayImage {
    let width = code.width() as u32;
    let side = (width + 2 * QUIET_ZONE) * module;
    let colors = code.to_colors();
    GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = (x / module, y / module);
        let inside = (QUIET_ZONE..QUIET_ZONE + width).contains(&mx) && (QUIET_ZONE..QUIET_ZONE + width).contains(&my);
        let dark = inside && colors[((my - QUIET_ZONE) * width + (mx - QUIET_ZONE)) as usize] == qrcode::Color::Dark;
        Luma([if dark { 0 } else { 255 }])
    })
}

/// The code for a terminal, two modules per character cell (Unicode half blocks), with its
/// quiet zone. Light modules are drawn as blocks, for the usual dark terminal background.
pub fn to_terminal(code: &QrCode) -> String {
    code.render::<unicode::Dense1x2>()
        .dark_color(unicode::Dense1x2::Light)
        .light_color(unicode::Dense1x2::Dark)
        .quiet_zone(true)
        .build()
}

/// Every QR payload found in the image `bytes` (PNG or JPEG), as text, each once.
///
/// The image is searched as it is and once more binarised with Otsu's global threshold:
/// resampled scans (a page shrunk by a non-integer factor) have grey module edges that the
/// detector's local threshold can misread, and a global threshold restores them.
pub fn read_image(origin: &str, bytes: &[u8]) -> Result<Vec<String>, QrError> {
    let image = image::load_from_memory(bytes)
        .map_err(|e| QrError::Image { origin: origin.to_string(), why: e.to_string() })?
        .to_luma8();
    let mut found: Vec<String> = Vec::new();
    let binarised = binarise(&image);
    for variant in [image, binarised] {
        let mut prepared = rqrr::PreparedImage::prepare(variant);
        for grid in prepared.detect_grids() {
            if let Ok((_, payload)) = grid.decode()
                && !found.contains(&payload)
            {
                found.push(payload);
            }
        }
    }
    if found.is_empty() {
        return Err(QrError::NoCode { origin: origin.to_string() });
    }
    Ok(found)
}

/// Black and white at Otsu's threshold (the one that best separates the two classes of grey).
fn binarise(image: &GrayImage) -> GrayImage {
    let mut histogram = [0u64; 256];
    for p in image.pixels() {
        histogram[usize::from(p.0[0])] += 1;
    }
    let total: u64 = histogram.iter().sum();
    let sum_all: f64 = histogram.iter().enumerate().map(|(v, &n)| v as f64 * n as f64).sum();
    let (mut weight_dark, mut sum_dark, mut best, mut threshold) = (0u64, 0f64, 0f64, 128u8);
    for (v, &n) in histogram.iter().enumerate() {
        weight_dark += n;
        if weight_dark == 0 || weight_dark == total {
            continue;
        }
        sum_dark += v as f64 * n as f64;
        let weight_light = total - weight_dark;
        let mean_dark = sum_dark / weight_dark as f64;
        let mean_light = (sum_all - sum_dark) / weight_light as f64;
        let between = weight_dark as f64 * weight_light as f64 * (mean_dark - mean_light).powi(2);
        if between > best {
            best = between;
            threshold = v as u8;
        }
    }
    GrayImage::from_fn(image.width(), image.height(), |x, y| {
        Luma([if image.get_pixel(x, y).0[0] > threshold { 255 } else { 0 }])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_roundtrip() {
        for len in 0..40 {
            let bytes: Vec<u8> = (0..len as u32).map(|i| (i * 89 + 3) as u8).collect();
            assert_eq!(unbase32(&base32(&bytes)).unwrap(), bytes);
        }
    }

    #[test]
    fn parts_reassemble_in_any_order_and_are_checked() {
        let file: Vec<u8> = (0..1500u32).map(|i| (i * 7 + 1) as u8).collect();
        let mut p = payloads(&file);
        assert_eq!(p.len(), 3);
        assert!(p.iter().all(|s| s.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '/')));
        p.reverse();
        assert_eq!(assemble(&p).unwrap(), file);
        assert_eq!(assemble(&p[..2]).unwrap_err(), QrError::Missing { missing: 1, total: 3 });
        let other = payloads(b"another file");
        assert!(matches!(assemble(&[p[0].clone(), other[0].clone()]), Err(QrError::Mixed { .. })));
        let mut bad = p.clone();
        let last = bad[0].pop().unwrap();
        bad[0].push(if last == 'A' { 'B' } else { 'A' });
        assert!(matches!(assemble(&bad), Err(QrError::Checksum) | Err(QrError::Malformed(_))));
        assert!(matches!(assemble(&["hello"]), Err(QrError::NotOurs(_))));
    }

    #[test]
    fn rendered_codes_read_back() {
        let file: Vec<u8> = (0..700u32).map(|i| (i * 13 + 5) as u8).collect();
        let p = payloads(&file);
        let mut read = Vec::new();
        for payload in &p {
            let c = code(payload).unwrap();
            assert!(c.version().width() <= 97, "a part fits version 20: {:?} for {} chars", c.version(), payload.len());
            let png = to_png(&c, 4).unwrap();
            read.extend(read_image("test", &png).unwrap());
        }
        assert_eq!(read, p);
        assert_eq!(assemble(&read).unwrap(), file);
    }
}
