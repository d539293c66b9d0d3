//! Printable paper sheets (PDF): one per share, with its QR code(s), the same data as checked
//! text lines to type back, and recovery instructions; and a cover sheet for the whole set with
//! no secrets. Described in `docs/PAPER.md`.
//!
//! The PDFs embed DejaVu Sans Mono, subset to ASCII (Bitstream Vera licence, `assets/fonts/`), so a sheet looks
//! the same on every machine, and they are written with `pdf-writer`: no system fonts, no
//! rendering library. Text is limited to printable ASCII (other characters print as '?').

use crate::qr;
use flate2::{Compression, write::ZlibEncoder};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str};
use std::io::Write;

/// DejaVu Sans Mono subset to printable ASCII (`assets/fonts/README.md`).
const FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSansMono-ASCII.ttf");
/// Advance width of every glyph of the monospaced font, in 1/1000 em.
const ADVANCE: f32 = 602.0;
const MARGIN: f32 = 42.0;

/// Paper sizes, in PDF points (1/72 inch).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaperSize {
    A4,
    Letter,
}

impl PaperSize {
    fn dimensions(self) -> (f32, f32) {
        match self {
            PaperSize::A4 => (595.28, 841.89),
            PaperSize::Letter => (612.0, 792.0),
        }
    }
}

impl std::fmt::Display for PaperSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PaperSize::A4 => "a4",
            PaperSize::Letter => "letter",
        })
    }
}

impl std::str::FromStr for PaperSize {
    type Err = crate::names::UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "a4" => Ok(PaperSize::A4),
            "letter" => Ok(PaperSize::Letter),
            other => {
                Err(crate::names::UnknownName { what: "paper size", given: other.into(), choices: "a4 or letter" })
            }
        }
    }
}

/// What a share's sheet says.
#[derive(Debug, Clone)]
pub struct ShareSheet {
    pub label: String,
    pub set_id: String,
    pub set_id_short: String,
    pub index: u8,
    pub count: u8,
    pub threshold: u8,
    pub target: String,
    pub scheme: String,
    pub custodian: Option<String>,
    pub fingerprints: Vec<String>,
    pub created: String,
    pub file: String,
    /// The share's binary form (what the QR codes carry; `docs/FORMAT.md` section 9). Secret for
    /// a plaintext share: wiped on drop, never shown by `Debug`.
    pub form: crate::secret::SecretBytes,
    pub encrypted: bool,
}

/// One row of the cover sheet.
#[derive(Debug, Clone)]
pub struct CoverRow {
    pub index: u8,
    pub custodian: String,
    pub fingerprints: Vec<String>,
    pub file: String,
}

#[derive(Debug, thiserror::Error)]
#[error("could not make the paper sheet: {0}")]
pub struct PaperError(String);

impl From<qr::QrError> for PaperError {
    fn from(e: qr::QrError) -> Self {
        PaperError(e.to_string())
    }
}

/// Printable ASCII only; anything else becomes '?'.
fn ascii(text: &str) -> Vec<u8> {
    text.chars().map(|c| if (' '..='~').contains(&c) { c as u8 } else { b'?' }).collect()
}

/// A PDF being assembled: objects are numbered as they are added.
struct Doc {
    pdf: Pdf,
    next: i32,
    pages: Vec<Ref>,
    catalog: Ref,
    tree: Ref,
    font: Ref,
    size: (f32, f32),
}

impl Doc {
    fn new(size: PaperSize) -> Doc {
        // Objects 1-3 are the catalog, the page tree and the font; the rest are numbered as added.
        let mut doc = Doc {
            pdf: Pdf::new(),
            next: 4,
            pages: Vec::new(),
            catalog: Ref::new(1),
            tree: Ref::new(2),
            font: Ref::new(3),
            size: size.dimensions(),
        };
        doc.embed_font();
        doc
    }

    fn alloc(&mut self) -> Ref {
        let r = Ref::new(self.next);
        self.next += 1;
        r
    }

    fn embed_font(&mut self) {
        let descriptor = self.alloc();
        let file = self.alloc();
        let font = self.font;
        let mut font_dict = self.pdf.indirect(font).dict();
        font_dict.pair(Name(b"Type"), Name(b"Font"));
        font_dict.pair(Name(b"Subtype"), Name(b"TrueType"));
        font_dict.pair(Name(b"BaseFont"), Name(b"DejaVuSansMono"));
        font_dict.pair(Name(b"FirstChar"), 32);
        font_dict.pair(Name(b"LastChar"), 126);
        font_dict.insert(Name(b"Widths")).array().items(std::iter::repeat_n(ADVANCE, 95));
        font_dict.pair(Name(b"Encoding"), Name(b"WinAnsiEncoding"));
        font_dict.pair(Name(b"FontDescriptor"), descriptor);
        font_dict.finish();
        self.pdf
            .font_descriptor(descriptor)
            .name(Name(b"DejaVuSansMono"))
            .flags(pdf_writer::types::FontFlags::FIXED_PITCH | pdf_writer::types::FontFlags::NON_SYMBOLIC)
            .bbox(Rect::new(-559.0, -375.0, 718.0, 1028.0))
            .italic_angle(0.0)
            .ascent(928.0)
            .descent(-236.0)
            .cap_height(729.0)
            .stem_v(80.0)
            .font_file2(file);
        // Compressed once per process: every sheet embeds the same font program.
        static COMPRESSED: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        let compressed = COMPRESSED.get_or_init(|| deflate(FONT));
        let mut stream = self.pdf.stream(file, compressed);
        stream.filter(Filter::FlateDecode);
        stream.pair(Name(b"Length1"), FONT.len() as i32);
        stream.finish();
    }

    /// Adds a page with the given content and QR images (name, image object).
    fn page(&mut self, content: Content, images: &[(Vec<u8>, Ref)]) {
        let page = self.alloc();
        let contents = self.alloc();
        let (w, h) = self.size;
        let mut p = self.pdf.page(page);
        p.media_box(Rect::new(0.0, 0.0, w, h)).parent(self.tree).contents(contents);
        let mut resources = p.resources();
        resources.fonts().pair(Name(b"F1"), self.font);
        if !images.is_empty() {
            let mut x = resources.x_objects();
            for (name, id) in images {
                x.pair(Name(name), *id);
            }
        }
        resources.finish();
        p.finish();
        self.pdf.stream(contents, &content.finish());
        self.pages.push(page);
    }

    /// An image object of a QR code, one pixel per module (quiet zone included), grey.
    fn qr_image(&mut self, code: &crate::qr::Code) -> Result<(Ref, u32), PaperError> {
        let gray = qr::to_gray(code, 1);
        let side = gray.width();
        let id = self.alloc();
        let data = deflate(gray.as_raw());
        let mut image = self.pdf.image_xobject(id, &data);
        image.filter(Filter::FlateDecode);
        image.width(side as i32).height(side as i32).color_space_name(Name(b"DeviceGray")).bits_per_component(8);
        image.interpolate(false);
        image.finish();
        Ok((id, side))
    }

    fn finish(mut self) -> Vec<u8> {
        self.pdf.catalog(self.catalog).pages(self.tree);
        let count = self.pages.len() as i32;
        self.pdf.pages(self.tree).kids(self.pages.iter().copied()).count(count);
        self.pdf.finish()
    }
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut encoder = ZlibEncoder::new(Vec::with_capacity(data.len() / 2), Compression::default());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
}

/// Writes `text` at (x, y) in the embedded font.
/// Decodes typed-back lines (`NN  GROUPS...  CC`: the data is Crockford base32, the last token a
/// check) to the bytes they carry, with python3 alone. Printed on two lines: inside double quotes
/// a backslash-newline is removed by the shell, so it is one command.
const PYTHON_DECODE: [&str; 2] = [
    "python3 -c \"import sys;A='0123456789ABCDEFGHJKMNPQRSTVWXYZ';b=''.join(f'{A.index(c):05b}'for l in open(sys.argv[1])\\",
    "for c in''.join(l.split()[1:-1]));n=len(b)//8;sys.stdout.buffer.write(int(b[:8*n],2).to_bytes(n,'big'))\" typed.txt",
];

/// The recovery instructions for this kind of sheet (encrypted or not, symbolon or Vault form),
/// each a command that works for it (tests/paper.rs runs them).
fn instructions(sheet: &ShareSheet) -> Vec<String> {
    let vault_b64 = sheet.file.ends_with(".b64");
    let mut out = Vec::new();
    if sheet.encrypted {
        out.push(
            "TO RESTORE THIS SHARE (years from now, with this sheet and the custodian's key or card):".to_string(),
        );
        out.push("1. Photograph or scan the QR code(s), or type the numbered lines into a file, typed.txt.".into());
        out.push("2. symbolon decrypt --from-image photo.jpg [--from-image photo2.jpg]   or: symbolon decrypt --from-text typed.txt".into());
        out.push("   A mistyped character is reported with its line; fix that line only.".into());
        out.push(
            "3. Without symbolon (python3 and gpg): the lines are the OpenPGP message; decode and decrypt them:".into(),
        );
        out.push(format!("   {}", PYTHON_DECODE[0]));
        out.push(format!("   {} | gpg --decrypt", PYTHON_DECODE[1]));
        out.push(if vault_b64 {
            format!("   The file {0} holds the same message in base64: base64 -d {0} | gpg --decrypt", sheet.file)
        } else {
            format!("   The file {0} holds the same message: gpg --decrypt {0}", sheet.file)
        });
        out.push(format!(
            "4. Any {} of the {} shares recover the secret: symbolon combine SHARE... (each decrypted on its custodian's card).",
            sheet.threshold, sheet.count
        ));
    } else {
        out.push("TO RESTORE THIS SHARE (years from now, with this sheet alone: it is NOT encrypted):".to_string());
        out.push("1. Photograph or scan the QR code(s), or type the numbered lines into a file, typed.txt.".into());
        out.push(
            "2. Check it: symbolon inspect --from-image photo.jpg   or: symbolon inspect --from-text typed.txt".into(),
        );
        out.push("   A mistyped character is reported with its line; fix that line only.".into());
        out.push(format!(
            "3. The file {} holds the share as it is. Without symbolon, the lines decode (python3) to its",
            sheet.file
        ));
        out.push(format!("   binary form: {}", PYTHON_DECODE[0]));
        out.push(format!("   {} > share.bin", PYTHON_DECODE[1]));
        out.push(format!(
            "4. Any {} of the {} shares recover the secret: symbolon combine --from-text typed.txt OTHER_SHARES...",
            sheet.threshold, sheet.count
        ));
    }
    out.push("   manifest.json (and the cover sheet) list who holds which share. Keep this sheet private.".into());
    out
}

fn text(c: &mut Content, x: f32, y: f32, size: f32, text: &str) {
    c.begin_text();
    c.set_font(Name(b"F1"), size);
    c.next_line(x, y);
    c.show(Str(&ascii(text)));
    c.end_text();
}

/// The share's sheet: page 1 has the facts, the QR code(s), the first text lines and the
/// instructions; further pages carry the rest of the text lines. `codes` are the QR codes of
/// `qr::payloads(&sheet.form)` (made once by the caller, who may also write them as images); when
/// empty they are made here.
pub fn share_sheet(sheet: &ShareSheet, codes: &[crate::qr::Code], size: PaperSize) -> Result<Vec<u8>, PaperError> {
    let mut doc = Doc::new(size);
    let (w, h) = doc.size;
    let made;
    let codes = if codes.is_empty() {
        made = qr::payloads(sheet.form.expose()).iter().map(|p| qr::code(p)).collect::<Result<Vec<_>, _>>()?;
        &made[..]
    } else {
        codes
    };
    let encoded = crate::checked_lines::encode(sheet.form.expose());
    let lines: Vec<&str> = encoded.lines().collect();

    let mut c = Content::new();
    let mut y = h - MARGIN - 14.0;
    let title =
        if sheet.encrypted { "SYMBOLON SHARE - paper backup" } else { "SYMBOLON SHARE - paper backup - NOT ENCRYPTED" };
    text(&mut c, MARGIN, y, 15.0, title);
    y -= 22.0;
    let mut facts = vec![
        format!("Label:      {}", sheet.label),
        format!("Set:        {}   ({})", sheet.set_id_short, sheet.set_id),
        format!(
            "Share:      {} of {} - any {} of the {} shares recover the secret",
            sheet.index, sheet.count, sheet.threshold, sheet.count
        ),
        format!("Target:     {} ({} scheme)", sheet.target, sheet.scheme),
    ];
    if let Some(custodian) = &sheet.custodian {
        facts.push(format!("Custodian:  {custodian}"));
    }
    for (i, fpr) in sheet.fingerprints.iter().enumerate() {
        facts.push(format!("{}{fpr}", if i == 0 { "Key:        " } else { "            " }));
    }
    facts.push(format!("Created:    {}     File: {}", sheet.created, sheet.file));
    for fact in &facts {
        text(&mut c, MARGIN, y, 9.0, fact);
        y -= 12.5;
    }

    // QR codes, two per row, as large as the width allows (at most 240 pt, about 8.5 cm).
    y -= 6.0;
    let per_row = codes.len().min(2);
    let gap = 24.0;
    let code_size = ((w - 2.0 * MARGIN - gap * (per_row as f32 - 1.0)) / per_row as f32).min(240.0);
    let mut images = Vec::new();
    for (row, chunk) in codes.chunks(2).enumerate() {
        let top = y - row as f32 * (code_size + 20.0);
        for (col, code) in chunk.iter().enumerate() {
            let i = row * 2 + col;
            let (id, _) = doc.qr_image(code)?;
            let name = format!("Qr{i}").into_bytes();
            let x = MARGIN + col as f32 * (code_size + gap);
            c.save_state();
            c.transform([code_size, 0.0, 0.0, code_size, x, top - code_size]);
            c.x_object(Name(&name));
            c.restore_state();
            let caption =
                if codes.len() == 1 { "QR code".to_string() } else { format!("QR code {} of {}", i + 1, codes.len()) };
            text(&mut c, x, top - code_size - 11.0, 8.0, &caption);
            images.push((name, id));
        }
    }
    y -= codes.len().div_ceil(2) as f32 * (code_size + 20.0) + 6.0;

    // Instructions box at the bottom of page 1: what works for this kind of share.
    let instructions = instructions(sheet);
    let box_height = 14.0 + instructions.len() as f32 * 11.0;
    c.set_line_width(0.8);
    c.rect(MARGIN, MARGIN, w - 2.0 * MARGIN, box_height);
    c.stroke();
    let mut by = MARGIN + box_height - 12.0;
    for line in &instructions {
        text(&mut c, MARGIN + 6.0, by, 6.5, line);
        by -= 11.0;
    }

    // Text lines: two columns between the codes and the box, then further pages.
    let font_size = 8.5;
    let leading = 10.5;
    let column_width = 37.0 * ADVANCE / 1000.0 * font_size + 24.0;
    y -= 4.0;
    text(&mut c, MARGIN, y, 8.0, "The same share as text (type the numbered lines into a file, one line each):");
    y -= 14.0;
    let first_rows = (((y - (MARGIN + box_height + 10.0)) / leading).floor().max(0.0)) as usize;
    let mut rest: &[&str] = &lines;
    let place_columns = |c: &mut Content, top: f32, rows: usize, rest: &mut &[&str]| {
        for col in 0..2 {
            let take = rows.min(rest.len());
            for (r, line) in rest[..take].iter().enumerate() {
                text(c, MARGIN + col as f32 * column_width, top - r as f32 * leading, font_size, line);
            }
            *rest = &rest[take..];
        }
    };
    place_columns(&mut c, y, first_rows, &mut rest);
    doc.page(c, &images);
    let mut page = 2;
    while !rest.is_empty() {
        let mut c = Content::new();
        let top = h - MARGIN - 10.0;
        text(
            &mut c,
            MARGIN,
            top,
            9.0,
            &format!(
                "Set {} - share {} of {} - text lines, continued (page {page})",
                sheet.set_id_short, sheet.index, sheet.count
            ),
        );
        let rows = (((top - 20.0 - MARGIN) / leading).floor()) as usize;
        place_columns(&mut c, top - 20.0, rows, &mut rest);
        doc.page(c, &[]);
        page += 1;
    }
    Ok(doc.finish())
}

/// The cover sheet: the set and who holds which share. Nothing secret.
pub fn cover_sheet(manifest: &crate::manifest::Manifest, rows: &[CoverRow], size: PaperSize) -> Vec<u8> {
    let mut doc = Doc::new(size);
    let (_, h) = doc.size;
    let head = [
        format!("Label:      {}", manifest.set.label),
        format!("Set:        {}   ({})", manifest.set.id.short(), manifest.set.id),
        format!("Threshold:  any {} of the {} shares recover the secret", manifest.set.threshold, manifest.set.count),
        format!("Target:     {} ({} scheme)", manifest.set.target, manifest.set.scheme),
        format!("Created:    {}", manifest.created),
        "This sheet holds no secret. Each share's own sheet goes to its custodian only.".to_string(),
    ];
    let mut lines: Vec<String> =
        vec![String::new(), "Share  Custodian             Certificate fingerprint(s)                 File".into()];
    for row in rows {
        for (j, fpr) in row
            .fingerprints
            .iter()
            .enumerate()
            .chain(std::iter::once((0, &String::new())).filter(|_| row.fingerprints.is_empty()))
        {
            if j == 0 {
                lines.push(format!("{:>5}  {:<20}  {:<41}  {}", row.index, row.custodian, fpr, row.file));
            } else {
                lines.push(format!("{:>5}  {:<20}  {:<41}", "", "", fpr));
            }
        }
    }
    let mut c = Content::new();
    let mut y = h - MARGIN - 14.0;
    text(&mut c, MARGIN, y, 15.0, "SYMBOLON SHARE SET - cover sheet");
    y -= 22.0;
    for line in &head {
        text(&mut c, MARGIN, y, 9.0, line);
        y -= 12.5;
    }
    let mut rest: &[String] = &lines;
    loop {
        let rows = (((y - MARGIN) / 11.0).floor().max(1.0)) as usize;
        let take = rows.min(rest.len());
        for (r, line) in rest[..take].iter().enumerate() {
            text(&mut c, MARGIN, y - r as f32 * 11.0, 7.5, line);
        }
        rest = &rest[take..];
        doc.page(c, &[]);
        if rest.is_empty() {
            break;
        }
        c = Content::new();
        y = h - MARGIN - 10.0;
    }
    doc.finish()
}
