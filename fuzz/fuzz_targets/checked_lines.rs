//! Checked lines (docs/FORMAT.md, "Checked lines"), as typed back by a person: what decodes
//! re-encodes to lines that decode to the same bytes, and every error points into the input:
//! the line it names is there (blank lines are not counted), a bad character is in it, and a
//! located typo is the character at that place, whose suggested correction makes the line's
//! check pass.
#![no_main]
use libfuzzer_sys::fuzz_target;
use symbolon::checked_lines::{self, LinesError};

/// The data characters of a line as decode reads them: after the line number, before the check,
/// without spaces and hyphens.
fn data_chars(line: &str) -> Vec<char> {
    let head = line.trim().rsplit_once(char::is_whitespace).map_or("", |(h, _)| h);
    let data = head.trim_end().split_once(char::is_whitespace).map_or("", |(_, d)| d);
    data.chars().filter(|c| !c.is_whitespace() && *c != '-').collect()
}

/// A character as the lines read it: upper case, O as 0, I and L as 1.
fn read_as(c: char) -> char {
    match c.to_ascii_uppercase() {
        'O' => '0',
        'I' | 'L' => '1',
        c => c,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    match checked_lines::decode(text.lines()) {
        Ok(bytes) => {
            let encoded = checked_lines::encode(&bytes);
            let again = checked_lines::decode(encoded.lines()).expect("encoded lines decode");
            assert_eq!(again.as_slice(), bytes.as_slice());
        }
        Err(e) => {
            let line = match e {
                LinesError::Empty | LinesError::BadLength => return,
                LinesError::Malformed { line }
                | LinesError::OutOfOrder { line, .. }
                | LinesError::WrongLength { line, .. }
                | LinesError::TypoInCheck { line }
                | LinesError::Corrupt { line }
                | LinesError::BadCharacter { line, .. }
                | LinesError::TypoAt { line, .. } => line,
            };
            assert!((1..=lines.len()).contains(&line), "{e}: the input has {} non-blank lines", lines.len());
            let named = lines[line - 1];
            match e {
                LinesError::BadCharacter { ch, .. } => assert!(named.contains(ch), "{e}: not in {named:?}"),
                LinesError::TypoAt { position, found, suggestion, .. } => {
                    let chars = data_chars(named);
                    assert!(
                        (1..=chars.len()).contains(&position),
                        "{e}: {named:?} has {} data characters",
                        chars.len()
                    );
                    assert_eq!(read_as(chars[position - 1]), found, "{e}: in {named:?}");
                    assert_ne!(found, suggestion);
                    // The lines up to this one, with the suggestion in place: that line passes
                    // its check now (what is left is at most a partial byte at the end).
                    let mut fixed: Vec<String> = lines[..line].iter().map(|l| l.to_string()).collect();
                    let (head, check) = named.trim().rsplit_once(char::is_whitespace).expect("a check");
                    let (number, _) = head.trim_end().split_once(char::is_whitespace).expect("a number");
                    let mut corrected = chars.clone();
                    corrected[position - 1] = suggestion;
                    fixed[line - 1] = format!("{number} {} {check}", corrected.iter().collect::<String>());
                    match checked_lines::decode(fixed.iter().map(String::as_str)) {
                        Ok(_) | Err(LinesError::BadLength) => {}
                        Err(other) => panic!("{e}: corrected, the lines still fail: {other}"),
                    }
                }
                _ => {}
            }
        }
    }
});
