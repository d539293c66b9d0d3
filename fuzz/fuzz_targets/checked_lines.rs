//! Checked lines (docs/FORMAT.md, "Checked lines"), as typed back by a person: what decodes
//! re-encodes to lines that decode to the same bytes, and every error names a line of the input
//! (and a character inside that line).
#![no_main]
use libfuzzer_sys::fuzz_target;
use symbolon::checked_lines::{self, LINE_CHARS, LinesError};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let lines = text.lines().count();
    match checked_lines::decode(text.lines()) {
        Ok(bytes) => {
            let encoded = checked_lines::encode(&bytes);
            let again = checked_lines::decode(encoded.lines()).expect("encoded lines decode");
            assert_eq!(again.as_slice(), bytes.as_slice());
        }
        Err(e) => {
            let line = match e {
                LinesError::Empty | LinesError::BadLength => None,
                LinesError::Malformed { line }
                | LinesError::BadCharacter { line, .. }
                | LinesError::OutOfOrder { line, .. }
                | LinesError::WrongLength { line, .. }
                | LinesError::TypoInCheck { line }
                | LinesError::Corrupt { line } => Some(line),
                LinesError::TypoAt { line, position, .. } => {
                    assert!((1..=LINE_CHARS).contains(&position), "{e}: the position is inside a line");
                    Some(line)
                }
            };
            if let Some(line) = line {
                assert!((1..=lines).contains(&line), "{e}: the input has {lines} lines");
            }
        }
    }
});
