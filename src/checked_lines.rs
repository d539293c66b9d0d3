//! Bytes as numbered lines of text that a person can read aloud, print and type back, with a
//! check on every line that catches a mistyped character and says where it is.
//!
//! Specified in `docs/FORMAT.md` ("Checked lines"). In short:
//! - Crockford base32 (`0-9 A-Z` without `I L O U`); reading accepts lower case and takes `O` as
//!   `0` and `I`/`L` as `1`; spaces and hyphens inside the data are ignored.
//! - Lines of up to 25 data characters in groups of five: `NN  ABCDE FGHIJ KLMNO PQRST UVWXY  CC`.
//! - `CC` are two check symbols of a Reed-Solomon code over GF(32) covering the line number and
//!   the line's data (minimum distance 3): any one or two wrong characters in a line are detected,
//!   and a single wrong character is located.

use zeroize::Zeroizing;

/// The Crockford base32 alphabet.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Data characters per full line.
pub const LINE_CHARS: usize = 25;
const GROUP: usize = 5;

/// A problem found while reading checked lines. Line numbers are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinesError {
    #[error("no data lines were found")]
    Empty,
    #[error("line {line}: expected a line number, the data, then a 2-character check, like '01  ABCDE FGHIJ  K7'")]
    Malformed { line: usize },
    #[error("line {line}: '{ch}' is not a character these lines use (0-9 and A-Z without I, L, O, U)")]
    BadCharacter { line: usize, ch: char },
    #[error("line {line} is numbered {found}: lines must be numbered 1, 2, 3, ... with none missing or repeated")]
    OutOfOrder { line: usize, found: usize },
    #[error(
        "line {line} holds {found} data characters, but every line except the last holds {expected}: a character was added or left out"
    )]
    WrongLength { line: usize, found: usize, expected: usize },
    #[error(
        "line {line} fails its check: the mistake is probably character {position} of the line's data, '{found}' (it should probably be '{suggestion}')"
    )]
    TypoAt { line: usize, position: usize, found: char, suggestion: char },
    #[error("line {line} fails its check: its check characters look mistyped")]
    TypoInCheck { line: usize },
    #[error("line {line} fails its check: more than one character of it is wrong, or it is numbered wrongly")]
    Corrupt { line: usize },
    #[error("the data ends in a partial byte: a character at the end of the last line is missing or extra")]
    BadLength,
}

/// Encodes `bytes` as checked lines, each ending in '\n'. The text may be secret, so it is
/// wiped on drop (its buffer is sized once, never reallocated).
pub fn encode(bytes: &[u8]) -> Zeroizing<String> {
    let symbols = to_base32(bytes);
    let lines = symbols.len().div_ceil(LINE_CHARS).max(1);
    let width = lines.to_string().len().max(2);
    // Per line: number, two spaces, data with a space per group, two spaces, check, newline.
    let per_line = width + 2 + LINE_CHARS + LINE_CHARS / GROUP + 2 + 2 + 1;
    let mut out = Zeroizing::new(String::with_capacity(lines * per_line));
    let mut digits = vec![b'0'; width];
    for (i, chunk) in symbols.chunks(LINE_CHARS).enumerate() {
        let number = i + 1;
        let mut n = number;
        for d in digits.iter_mut().rev() {
            *d = b'0' + (n % 10) as u8;
            n /= 10;
        }
        out.extend(digits.iter().map(|&d| d as char));
        out.push(' ');
        for group in chunk.chunks(GROUP) {
            out.push(' ');
            out.extend(group.iter().map(|&s| ALPHABET[s as usize] as char));
        }
        let [p, q] = check_symbols(number, chunk);
        out.push_str("  ");
        out.push(ALPHABET[p as usize] as char);
        out.push(ALPHABET[q as usize] as char);
        out.push('\n');
    }
    out
}

/// Decodes checked lines (as produced by [`encode`]) back into bytes. Blank lines are skipped.
pub fn decode<'a>(lines: impl IntoIterator<Item = &'a str>) -> Result<Zeroizing<Vec<u8>>, LinesError> {
    // First read every line, so that a line's length can be judged knowing whether it is the last.
    // All data symbols go into one buffer, allocated once at its final size (growing it would leave
    // copies of the data in freed memory); each line keeps its range in it and its check.
    let lines: Vec<&str> = lines.into_iter().collect();
    let mut symbols = Zeroizing::new(Vec::with_capacity(lines.iter().map(|l| l.len()).sum()));
    let mut parsed: Vec<(std::ops::Range<usize>, [u8; 2])> = Vec::with_capacity(lines.len());
    for raw in lines {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            continue;
        }
        let line = parsed.len() + 1;
        let malformed = LinesError::Malformed { line };
        let (head, check) = trimmed.rsplit_once(char::is_whitespace).ok_or(malformed.clone())?;
        let (number, data) = head.trim_end().split_once(char::is_whitespace).ok_or(malformed.clone())?;
        let number = parse_line_number(number).ok_or(malformed.clone())?;
        if number != line {
            return Err(LinesError::OutOfOrder { line, found: number });
        }
        let mut check_symbols = [0u8; 2];
        let mut count = 0;
        for c in check.chars().filter(|c| *c != '-') {
            let sym = symbol_of(c).ok_or(LinesError::BadCharacter { line, ch: c })?;
            *check_symbols.get_mut(count).ok_or(malformed.clone())? = sym;
            count += 1;
        }
        if count != 2 {
            return Err(malformed);
        }
        let start = symbols.len();
        for &b in data.as_bytes() {
            match DECODE[usize::from(b)] {
                0xff if b.is_ascii_whitespace() || b == b'-' => {}
                0xff => {
                    // Name the offending character (which may be multi-byte).
                    // The same characters are skipped as above: ASCII spaces and hyphens only
                    // (a vertical tab or a no-break space is named, found by the fuzz target
                    // checked_lines).
                    let skipped = |c: char| c == '-' || (c.is_ascii() && (c as u8).is_ascii_whitespace());
                    let ch = data.chars().find(|&c| symbol_of(c).is_none() && !skipped(c));
                    return Err(LinesError::BadCharacter { line, ch: ch.unwrap_or(char::REPLACEMENT_CHARACTER) });
                }
                sym => symbols.push(sym),
            }
        }
        if symbols.len() == start {
            return Err(LinesError::Malformed { line });
        }
        parsed.push((start..symbols.len(), check_symbols));
    }
    let count = parsed.len();
    if count == 0 {
        return Err(LinesError::Empty);
    }
    for (i, (range, check)) in parsed.iter().enumerate() {
        let line = i + 1;
        let len = range.len();
        if (line < count && len != LINE_CHARS) || len > LINE_CHARS {
            return Err(LinesError::WrongLength { line, found: len, expected: LINE_CHARS });
        }
        verify_line(line, &symbols[range.clone()], *check)?;
    }
    from_base32(&symbols)
}

/// A line number, read as leniently as the data (`O` for 0, `I`/`L` for 1), with an optional
/// trailing ':' or '.'.
fn parse_line_number(token: &str) -> Option<usize> {
    let mut n: usize = 0;
    let mut any = false;
    for c in token.trim_end_matches([':', '.']).chars() {
        let digit = match c.to_ascii_uppercase() {
            'O' => 0,
            'I' | 'L' => 1,
            d => d.to_digit(10)? as usize,
        };
        n = n.checked_mul(10)?.checked_add(digit)?;
        any = true;
    }
    any.then_some(n)
}

/// Symbol value of each ASCII byte, or 0xff for bytes that are not symbols. Lower case is read as
/// upper case, `O` as `0`, `I` and `L` as `1`.
const DECODE: [u8; 256] = {
    let mut table = [0xffu8; 256];
    let mut i = 0;
    while i < 32 {
        let c = ALPHABET[i];
        table[c as usize] = i as u8;
        table[c.to_ascii_lowercase() as usize] = i as u8;
        i += 1;
    }
    table[b'O' as usize] = 0;
    table[b'o' as usize] = 0;
    table[b'I' as usize] = 1;
    table[b'i' as usize] = 1;
    table[b'L' as usize] = 1;
    table[b'l' as usize] = 1;
    table
};

fn symbol_of(c: char) -> Option<u8> {
    let code = u32::from(c);
    if code > 127 {
        return None;
    }
    match DECODE[code as usize] {
        0xff => None,
        v => Some(v),
    }
}

fn to_base32(bytes: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(bytes.len().div_ceil(5) * 8));
    let mut acc = 0u32;
    let mut bits = 0;
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(((acc >> bits) & 31) as u8);
        }
    }
    if bits > 0 {
        out.push(((acc << (5 - bits)) & 31) as u8);
    }
    out
}

fn from_base32(symbols: &[u8]) -> Result<Zeroizing<Vec<u8>>, LinesError> {
    let mut out = Zeroizing::new(Vec::with_capacity(symbols.len() * 5 / 8 + 1));
    let mut acc = 0u32;
    let mut bits = 0;
    for &s in symbols {
        acc = (acc << 5) | u32::from(s);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
        acc &= (1 << bits) - 1;
    }
    // What is left must be fewer than 5 padding bits, all zero.
    if bits >= 5 || acc != 0 {
        return Err(LinesError::BadLength);
    }
    Ok(out)
}

// GF(32) with the primitive polynomial x^5 + x^2 + 1; alpha = 2.
struct Gf32 {
    exp: [u8; 62],
    log: [u8; 32],
}

const GF32: Gf32 = {
    let mut exp = [0u8; 62];
    let mut log = [0u8; 32];
    let mut v: u8 = 1;
    let mut i = 0;
    while i < 31 {
        exp[i] = v;
        exp[i + 31] = v;
        log[v as usize] = i as u8;
        v <<= 1;
        if v & 0x20 != 0 {
            v ^= 0x25;
        }
        i += 1;
    }
    Gf32 { exp, log }
};

fn gmul(a: u8, b: u8) -> u8 {
    if a == 0 || b == 0 {
        return 0;
    }
    GF32.exp[GF32.log[a as usize] as usize + GF32.log[b as usize] as usize]
}

fn gdiv(a: u8, b: u8) -> u8 {
    if a == 0 {
        return 0;
    }
    GF32.exp[GF32.log[a as usize] as usize + 31 - GF32.log[b as usize] as usize]
}

/// alpha^(e mod 31)
fn apow(e: usize) -> u8 {
    GF32.exp[e % 31]
}

/// The code word of a line: two symbols of the line number (mod 1024), the data, then the two
/// check symbols. Positions are 0.., the symbol at position j weighted by alpha^j and alpha^2j.
fn syndromes(number: usize, data: &[u8], check: [u8; 2]) -> (u8, u8) {
    let prefix = [((number >> 5) & 31) as u8, (number & 31) as u8];
    let (mut s1, mut s2) = (0u8, 0u8);
    // e1 = j mod 31 and e2 = 2j mod 31, kept without division.
    let (mut e1, mut e2) = (0usize, 0usize);
    for part in [&prefix[..], data, &check[..]] {
        for &sym in part {
            if sym != 0 {
                let l = GF32.log[usize::from(sym)] as usize;
                s1 ^= GF32.exp[l + e1];
                s2 ^= GF32.exp[l + e2];
            }
            e1 = if e1 == 30 { 0 } else { e1 + 1 };
            e2 = if e2 >= 29 { e2 - 29 } else { e2 + 2 };
        }
    }
    (s1, s2)
}

fn check_symbols(number: usize, data: &[u8]) -> [u8; 2] {
    let (s1, s2) = syndromes(number, data, [0, 0]);
    let a = 2 + data.len();
    let b = a + 1;
    // Solve p*alpha^a + q*alpha^b = s1 and p*alpha^2a + q*alpha^2b = s2 (Cramer's rule).
    let det = gmul(apow(a), apow(2 * b)) ^ gmul(apow(b), apow(2 * a));
    let p = gdiv(gmul(s1, apow(2 * b)) ^ gmul(apow(b), s2), det);
    let q = gdiv(gmul(apow(a), s2) ^ gmul(apow(2 * a), s1), det);
    [p, q]
}

fn verify_line(line: usize, data: &[u8], check: [u8; 2]) -> Result<(), LinesError> {
    let (s1, s2) = syndromes(line, data, check);
    if s1 == 0 && s2 == 0 {
        return Ok(());
    }
    if s1 == 0 || s2 == 0 {
        return Err(LinesError::Corrupt { line });
    }
    // One error of value e at position j gives s1 = e*alpha^j and s2 = e*alpha^2j.
    let locator = gdiv(s2, s1);
    let j = GF32.log[locator as usize] as usize;
    let error = gdiv(s1, apow(j));
    match j {
        j if (2..2 + data.len()).contains(&j) => {
            let found = data[j - 2];
            Err(LinesError::TypoAt {
                line,
                position: j - 1,
                found: ALPHABET[found as usize] as char,
                suggestion: ALPHABET[(found ^ error) as usize] as char,
            })
        }
        j if j == 2 + data.len() || j == 3 + data.len() => Err(LinesError::TypoInCheck { line }),
        _ => Err(LinesError::Corrupt { line }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_character_named_is_one_of_the_line() {
        // Found by the fuzz target checked_lines (fuzz/regressions/checked_lines/): a vertical tab
        // inside the data was reported as '\u{fffd}', a character the line does not hold.
        for (line, bad) in [("01  ABCDE\u{b}FGHIJ  K7", '\u{b}'), ("01  ABCDE\u{a0}FGHJK  K7", '\u{a0}')] {
            assert_eq!(decode([line]), Err(LinesError::BadCharacter { line: 1, ch: bad }), "{line:?}");
        }
    }

    fn sample() -> Vec<u8> {
        (0..100u32).map(|i| (i * 37 + 3) as u8).collect()
    }

    #[test]
    fn roundtrip_many_lengths() {
        for len in 1..80 {
            let bytes: Vec<u8> = (0..len as u32).map(|i| (i * 101 + 7) as u8).collect();
            let text = encode(&bytes);
            assert_eq!(*decode(text.lines()).unwrap(), bytes, "len {len}");
        }
    }

    #[test]
    fn tolerant_reading() {
        let text = encode(&sample()).to_lowercase().replace('0', "o").replace('1', "l");
        assert_eq!(*decode(text.lines()).unwrap(), sample());
    }

    #[test]
    fn every_single_substitution_is_located_and_corrected() {
        let text = encode(&sample());
        let lines: Vec<&str> = text.lines().collect();
        for (li, line) in lines.iter().enumerate() {
            let data_start = line.find("  ").unwrap() + 2;
            let data_end = line.rfind("  ").unwrap();
            let mut position = 0;
            for (ci, ch) in line.char_indices().filter(|&(i, c)| i >= data_start && i < data_end && c != ' ') {
                position += 1;
                for &replacement in ALPHABET.iter().filter(|&&a| a as char != ch) {
                    let mut bad = line.to_string();
                    bad.replace_range(ci..ci + 1, &(replacement as char).to_string());
                    let mut all = lines.clone();
                    all[li] = &bad;
                    match decode(all.iter().copied()) {
                        Err(LinesError::TypoAt { line, position: p, found, suggestion }) => {
                            assert_eq!((line, p, found, suggestion), (li + 1, position, replacement as char, ch));
                        }
                        other => panic!("line {li} char {ci}: {other:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn double_substitutions_and_swaps_are_detected() {
        let text = encode(&sample());
        let lines: Vec<&str> = text.lines().collect();
        let line = lines[1];
        let data_start = line.find("  ").unwrap() + 2;
        let chars: Vec<char> = line.chars().collect();
        for i in data_start..chars.len() - 4 {
            let j = i + 1;
            if chars[i] == ' ' || chars[j] == ' ' || chars[i] == chars[j] {
                continue;
            }
            let mut swapped = chars.clone();
            swapped.swap(i, j);
            let swapped: String = swapped.into_iter().collect();
            let mut all = lines.clone();
            all[1] = &swapped;
            assert!(decode(all.iter().copied()).is_err(), "swap at {i}");
        }
    }

    #[test]
    fn missing_reordered_and_short_lines() {
        let text = encode(&sample());
        let lines: Vec<&str> = text.lines().collect();
        let mut missing = lines.clone();
        missing.remove(1);
        assert_eq!(
            decode(missing.iter().copied()).map(|v| v.to_vec()),
            Err(LinesError::OutOfOrder { line: 2, found: 3 })
        );
        let mut dropped_char = lines[0].to_string();
        dropped_char.remove(5);
        let mut all = lines.clone();
        all[0] = &dropped_char;
        assert!(matches!(
            decode(all.iter().copied()),
            Err(LinesError::WrongLength { line: 1, .. }) | Err(LinesError::Corrupt { line: 1 })
        ));
        assert_eq!(decode(["01 ABCDE"]).map(|v| v.to_vec()), Err(LinesError::Malformed { line: 1 }));
        assert_eq!(decode(["01 AUCDE K7"]).map(|v| v.to_vec()), Err(LinesError::BadCharacter { line: 1, ch: 'U' }));
        assert_eq!(decode(Vec::<&str>::new()).map(|v| v.to_vec()), Err(LinesError::Empty));
    }

    #[test]
    fn line_number_is_covered_by_the_check() {
        let text = encode(&sample());
        let lines: Vec<&str> = text.lines().collect();
        // Put line 2's content under the number 1: its check must fail.
        let moved = lines[1].replacen("02", "01", 1);
        assert!(matches!(
            decode([moved.as_str()]),
            Err(LinesError::Corrupt { line: 1 }) | Err(LinesError::TypoAt { .. }) | Err(LinesError::TypoInCheck { .. })
        ));
    }
}
