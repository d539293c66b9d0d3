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
use qrcode::EcLevel;

pub const PREFIX: &str = "SYMBOLON/1/";
/// Bytes of the file per QR code: at error correction M, a part fits QR version 20 (97×97
/// modules), which a phone camera reads from a printed page.
pub const PART_BYTES: usize = 576;

/// The largest share form QR codes and paper sheets carry: 8 codes. A share's QR codes must all
/// be scanned to read it back, and a sheet must hold them; beyond this a share is kept in its
/// file only (see docs/FORMAT.md, "QR codes").
pub const MAX_FORM_BYTES: usize = 8 * PART_BYTES;
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
    base32(&crate::commitment::sha256_wiped(&[file])[..5])
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

/// One QR code's payload, parsed: `SYMBOLON/1/<part>/<total>/<id>/<data>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    /// 1-based.
    pub part: usize,
    pub total: usize,
    pub id: String,
    pub data: Vec<u8>,
}

impl std::str::FromStr for Payload {
    type Err = QrError;

    fn from_str(payload: &str) -> Result<Payload, QrError> {
        let payload = payload.trim();
        let rest = payload.strip_prefix(PREFIX).ok_or_else(|| QrError::NotOurs(payload.chars().take(40).collect()))?;
        let fields: Vec<&str> = rest.splitn(4, '/').collect();
        let [part, total, id, data] = fields.as_slice() else {
            return Err(QrError::Malformed("fields"));
        };
        let part: usize = part.parse().map_err(|_| QrError::Malformed("part number"))?;
        let total: usize = total.parse().map_err(|_| QrError::Malformed("part count"))?;
        if total == 0 || part == 0 || part > total || total > 4096 {
            return Err(QrError::Malformed("part number"));
        }
        let data = unbase32(data).ok_or(QrError::Malformed("data"))?;
        Ok(Payload { part, total, id: id.to_string(), data })
    }
}

/// Reassembles the files carried by `payloads`, given in any order. Payloads of several files
/// (different ids) are an error; so is a missing or misread part.
pub fn assemble<S: AsRef<str>>(payloads: &[S]) -> Result<Vec<u8>, QrError> {
    let mut id: Option<String> = None;
    let mut total = 0;
    let mut parts: Vec<Option<Vec<u8>>> = Vec::new();
    for payload in payloads {
        let payload: Payload = payload.as_ref().parse()?;
        match &id {
            Some(first) if *first != payload.id => {
                return Err(QrError::Mixed { first: first.clone(), other: payload.id });
            }
            Some(_) if payload.total != total => return Err(QrError::Malformed("part count differs between codes")),
            Some(_) => {}
            None => {
                id = Some(payload.id.clone());
                total = payload.total;
                parts = vec![None; total];
            }
        }
        parts[payload.part - 1] = Some(payload.data);
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

/// A QR code: its modules, row by row, dark or light (quiet zone not included).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Code {
    width: usize,
    dark: Vec<bool>,
}

impl Code {
    /// Modules per side (17 + 4 × version).
    pub fn width(&self) -> usize {
        self.width
    }

    /// The QR version (1..=40).
    pub fn version(&self) -> usize {
        (self.width - 17) / 4
    }

    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        self.dark[y * self.width + x]
    }
}

/// The QR code of one payload: error correction M (recovers about 15% damage), the segment
/// modes and the version chosen by `qrcode`, and the data mask chosen by the standard's penalty
/// rules (ISO/IEC 18004 section 7.8.3), evaluated here over a plain module grid.
pub fn code(payload: &str) -> Result<Code, QrError> {
    use qrcode::canvas::{Canvas, MaskPattern};
    let fail = |e: qrcode::types::QrError| QrError::Encode(e.to_string());
    let bits = qrcode::bits::encode_auto(payload.as_bytes(), EcLevel::M).map_err(fail)?;
    let version = bits.version();
    let data = bits.into_bytes();
    let (encoded, ec) = qrcode::ec::construct_codewords(&data, version, EcLevel::M).map_err(fail)?;
    let mut canvas = Canvas::new(version, EcLevel::M);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(&encoded, &ec);
    let width = usize::try_from(version.width()).map_err(|_| QrError::Encode("version".into()))?;
    let masks = [
        MaskPattern::Checkerboard,
        MaskPattern::HorizontalLines,
        MaskPattern::VerticalLines,
        MaskPattern::DiagonalLines,
        MaskPattern::LargeCheckerboard,
        MaskPattern::Fields,
        MaskPattern::Diamonds,
        MaskPattern::Meadow,
    ];
    masks
        .iter()
        .map(|&mask| {
            let mut masked = canvas.clone();
            masked.apply_mask(mask);
            let dark: Vec<bool> = masked.into_colors().into_iter().map(|c| c == qrcode::Color::Dark).collect();
            Code { width, dark }
        })
        .min_by_key(penalty)
        .ok_or(QrError::Encode("no mask".into()))
}

/// The total penalty of a masked symbol: runs (N1 = 3), 2×2 blocks (N2 = 3), finder-like
/// patterns (N3 = 40) and dark/light imbalance (N4 = 10).
fn penalty(code: &Code) -> u32 {
    let n = code.width;
    let at = |x: usize, y: usize, horizontal: bool| if horizontal { code.is_dark(x, y) } else { code.is_dark(y, x) };
    let mut score = 0u32;
    for horizontal in [true, false] {
        for line in 0..n {
            // N1: runs of five or more modules of one colour.
            let mut run = 1;
            for i in 1..=n {
                if i < n && at(i, line, horizontal) == at(i - 1, line, horizontal) {
                    run += 1;
                } else {
                    if run >= 5 {
                        score += 3 + (run - 5);
                    }
                    run = 1;
                }
            }
            // N3: 1:1:3:1:1 dark-light-dark-light-dark with four light modules on either side.
            for i in 0..n.saturating_sub(6) {
                const PATTERN: [bool; 7] = [true, false, true, true, true, false, true];
                if (0..7).all(|k| at(i + k, line, horizontal) == PATTERN[k]) {
                    let light = |from: isize, to: isize| {
                        (from..to).all(|k| k < 0 || k >= n as isize || !at(k as usize, line, horizontal))
                    };
                    let i = i as isize;
                    if light(i - 4, i) || light(i + 7, i + 11) {
                        score += 40;
                    }
                }
            }
        }
    }
    // N2: 2×2 blocks of one colour.
    for y in 0..n - 1 {
        for x in 0..n - 1 {
            let c = code.is_dark(x, y);
            if code.is_dark(x + 1, y) == c && code.is_dark(x, y + 1) == c && code.is_dark(x + 1, y + 1) == c {
                score += 3;
            }
        }
    }
    // N4: 10 points per 5% of deviation from half dark.
    let dark = code.dark.iter().filter(|&&d| d).count();
    let percent = dark * 100 / (n * n);
    score += 10 * (percent.abs_diff(50) / 5) as u32;
    score
}

/// SVG of the code with its quiet zone; `module` is the size of one module in SVG units.
pub fn to_svg(code: &Code, module: u32) -> String {
    let side = (code.width as u32 + 2 * QUIET_ZONE) * module;
    use std::fmt::Write as _;
    let mut path = String::with_capacity(code.width * code.width * 12);
    for y in 0..code.width {
        let py = (y as u32 + QUIET_ZONE) * module;
        // One rectangle per horizontal run of dark modules.
        let mut x = 0;
        while x < code.width {
            if !code.is_dark(x, y) {
                x += 1;
                continue;
            }
            let start = x;
            while x < code.width && code.is_dark(x, y) {
                x += 1;
            }
            let px = (start as u32 + QUIET_ZONE) * module;
            let run = (x - start) as u32 * module;
            // Writing into a String cannot fail.
            let _ = write!(path, "M{px} {py}h{run}v{module}h-{run}z");
        }
    }
    format!(
        "<?xml version=\"1.0\" standalone=\"yes\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" \
         width=\"{side}\" height=\"{side}\" viewBox=\"0 0 {side} {side}\" shape-rendering=\"crispEdges\">\
         <rect x=\"0\" y=\"0\" width=\"{side}\" height=\"{side}\" fill=\"#fff\"/><path fill=\"#000\" d=\"{path}\"/></svg>\n"
    )
}

/// PNG of the code with its quiet zone, `module` pixels per module: 1-bit greyscale (a QR code
/// has two colours), which keeps files small and fast to write.
pub fn to_png(code: &Code, module: u32) -> Result<Vec<u8>, QrError> {
    let fail = |e: png::EncodingError| QrError::Encode(e.to_string());
    let width = code.width as u32;
    let side = (width + 2 * QUIET_ZONE) * module;
    let row_bytes = side.div_ceil(8) as usize;
    // One row of pixels per module row, packed 8 pixels a byte (1 = light), then repeated.
    let mut packed = vec![0u8; row_bytes * side as usize];
    for my in 0..width + 2 * QUIET_ZONE {
        let row = &mut packed[(my * module) as usize * row_bytes..][..row_bytes];
        for x in 0..side {
            let mx = x / module;
            let inside =
                (QUIET_ZONE..QUIET_ZONE + width).contains(&mx) && (QUIET_ZONE..QUIET_ZONE + width).contains(&my);
            if !(inside && code.is_dark((mx - QUIET_ZONE) as usize, (my - QUIET_ZONE) as usize)) {
                row[(x / 8) as usize] |= 0x80 >> (x % 8);
            }
        }
        let first = (my * module) as usize * row_bytes;
        for copy in 1..module as usize {
            packed.copy_within(first..first + row_bytes, first + copy * row_bytes);
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().map_err(fail)?;
    writer.write_image_data(&packed).map_err(fail)?;
    writer.finish().map_err(fail)?;
    Ok(out)
}

/// The code as a grey image, `module` pixels per module, with its quiet zone.
pub fn to_gray(code: &Code, module: u32) -> GrayImage {
    let width = code.width as u32;
    let side = (width + 2 * QUIET_ZONE) * module;
    GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = (x / module, y / module);
        let inside = (QUIET_ZONE..QUIET_ZONE + width).contains(&mx) && (QUIET_ZONE..QUIET_ZONE + width).contains(&my);
        let dark = inside && code.is_dark((mx - QUIET_ZONE) as usize, (my - QUIET_ZONE) as usize);
        Luma([if dark { 0 } else { 255 }])
    })
}

/// The code for a terminal, two modules per character cell (Unicode half blocks), with its
/// quiet zone. Light modules are drawn as blocks, for the usual dark terminal background.
pub fn to_terminal(code: &Code) -> String {
    let q = QUIET_ZONE as isize;
    let n = code.width as isize;
    let light = |x: isize, y: isize| x < 0 || y < 0 || x >= n || y >= n || !code.is_dark(x as usize, y as usize);
    let mut out = String::new();
    let mut y = -q;
    while y < n + q {
        for x in -q..n + q {
            out.push(match (light(x, y), light(x, y + 1)) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        out.push('\n');
        y += 2;
    }
    out
}

/// What a photograph or scan of QR codes may be: 12,000 pixels a side (a 600 dpi scan of an A3
/// page is 7,016 by 9,921) and 512 MiB of decoded pixels. A larger image is refused before its
/// pixels are allocated (a small file can announce a huge image).
fn image_limits() -> image::Limits {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(12_000);
    limits.max_image_height = Some(12_000);
    limits.max_alloc = Some(512 << 20);
    limits
}

/// Every QR payload found in the image `bytes` (PNG or JPEG), as text, each once.
///
/// The image is searched as it is and once more binarised with Otsu's global threshold:
/// resampled scans (a page shrunk by a non-integer factor) have grey module edges that the
/// detector's local threshold can misread, and a global threshold restores them.
pub fn read_image(origin: &str, bytes: &[u8]) -> Result<Vec<String>, QrError> {
    let bad = |e: image::ImageError| QrError::Image { origin: origin.to_string(), why: e.to_string() };
    let mut reader =
        image::ImageReader::new(std::io::Cursor::new(bytes)).with_guessed_format().map_err(|e| bad(e.into()))?;
    reader.limits(image_limits());
    let image = reader.decode().map_err(bad)?.to_luma8();
    let mut found: Vec<String> = Vec::new();
    search(image.clone(), &mut found);
    // Further passes only while nothing was found, or a share's parts are incomplete: black and
    // white at Otsu's threshold, then the image at half size (which resamples a rotated or
    // noisy code's modules differently, and often lets the detector lock on).
    if !complete(&found) {
        search(binarise(&image), &mut found);
    }
    if !complete(&found) {
        search(half_size(&image), &mut found);
    }
    // Two more resamplings for the rare rotated scan that still misses a code: the half-size
    // image at Otsu's threshold, and the image at three quarters of its size.
    if !complete(&found) {
        search(binarise(&half_size(&image)), &mut found);
    }
    if !complete(&found) {
        let (w, h) = (image.width() * 3 / 4, image.height() * 3 / 4);
        search(image::imageops::resize(&image, w, h, image::imageops::FilterType::Triangle), &mut found);
    }
    if found.is_empty() {
        return Err(QrError::NoCode { origin: origin.to_string() });
    }
    Ok(found)
}

fn search(image: GrayImage, found: &mut Vec<String>) {
    let mut prepared = rqrr::PreparedImage::prepare(image);
    for grid in prepared.detect_grids() {
        if let Ok((_, payload)) = grid.decode()
            && !found.contains(&payload)
        {
            found.push(payload);
        }
    }
}

/// Whether `found` holds at least one payload and every part of every share it names.
fn complete(found: &[String]) -> bool {
    let mut shares: Vec<(String, usize, usize)> = Vec::new(); // (id, total, parts seen)
    for payload in found.iter().filter_map(|p| p.parse::<Payload>().ok()) {
        match shares.iter_mut().find(|(i, _, _)| *i == payload.id) {
            Some(entry) => entry.2 += 1,
            None => shares.push((payload.id, payload.total, 1)),
        }
    }
    !shares.is_empty() && shares.iter().all(|&(_, total, seen)| seen >= total)
}

/// The image at half its width and height, each pixel the mean of a 2x2 block.
fn half_size(image: &GrayImage) -> GrayImage {
    let (w, h) = (image.width() / 2, image.height() / 2);
    GrayImage::from_fn(w, h, |x, y| {
        let sum: u32 = [(0, 0), (1, 0), (0, 1), (1, 1)]
            .iter()
            .map(|&(dx, dy)| u32::from(image.get_pixel(2 * x + dx, 2 * y + dy).0[0]))
            .sum();
        Luma([u8::try_from(sum / 4).unwrap_or(u8::MAX)])
    })
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

    /// A small file that announces an image wider than any scan is refused before its pixels are
    /// allocated (within the image crate's own default cap, which is about memory only).
    #[test]
    fn an_image_too_large_to_be_a_scan_is_refused() {
        let mut png = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut png, 20_000, 1_000);
            encoder.set_color(png::ColorType::Grayscale);
            let writer = encoder.write_header().unwrap();
            // The header alone: no pixel data follows.
            std::mem::forget(writer);
        }
        assert!(png.len() < 100);
        let err = read_image("huge.png", &png).unwrap_err();
        assert!(matches!(err, QrError::Image { .. }), "{err}");
        assert!(err.to_string().contains("limit"), "{err}");
    }

    #[test]
    fn a_payload_parses_back_to_what_was_made() {
        let file: Vec<u8> = (0..1500u32).map(|i| (i * 7) as u8).collect();
        let made = payloads(&file);
        assert_eq!(made.len(), 3);
        let parsed: Vec<Payload> = made.iter().map(|p| p.parse().unwrap()).collect();
        assert_eq!((parsed[1].part, parsed[1].total), (2, 3));
        assert_eq!(parsed.iter().flat_map(|p| p.data.clone()).collect::<Vec<u8>>(), file);
        assert!(matches!("SYMBOLON/1/0/3/ABC/DE".parse::<Payload>(), Err(QrError::Malformed("part number"))));
        assert!(matches!("OTHER".parse::<Payload>(), Err(QrError::NotOurs(_))));
    }

    #[test]
    fn half_size_averages_each_2x2_block() {
        let image = GrayImage::from_fn(5, 4, |x, y| Luma([if (x + y) % 2 == 0 { 0 } else { 200 }]));
        let half = half_size(&image);
        assert_eq!(half.dimensions(), (2, 2));
        assert!(half.pixels().all(|p| p.0[0] == 100), "{:?}", half.as_raw());
        // A code still decodes at half size.
        let c = code("SYMBOLON/1/1/1/ABCDEFGH/0123").unwrap();
        let png = to_png(&c, 8).unwrap();
        let full = image::load_from_memory(&png).unwrap().to_luma8();
        let mut found = Vec::new();
        search(half_size(&full), &mut found);
        assert_eq!(found, vec!["SYMBOLON/1/1/1/ABCDEFGH/0123".to_string()]);
    }

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
            assert!(c.width() <= 97, "a part fits version 20: version {} for {} chars", c.version(), payload.len());
            let png = to_png(&c, 4).unwrap();
            read.extend(read_image("test", &png).unwrap());
        }
        assert_eq!(read, p);
        assert_eq!(assemble(&read).unwrap(), file);
    }
}
