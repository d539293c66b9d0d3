//! The text form of a share: an armor, readable headers, and the binary share as checked lines.
//!
//! The headers are for people; the data lines are authoritative. A header that is present must
//! agree with the data (so an edited header cannot mislead), and headers may be left out when a
//! share is typed back from paper.

use super::{FormatError, Share};
use crate::checked_lines;
use zeroize::Zeroizing;

pub const ARMOR_BEGIN: &str = "-----BEGIN SYMBOLON SHARE-----";
pub const ARMOR_END: &str = "-----END SYMBOLON SHARE-----";

/// The headers of a share, in the order they are written: (key, value).
fn headers(share: &Share) -> Vec<(&'static str, String)> {
    let set = &share.set;
    let mut out = vec![
        ("Set", set.id.short()),
        ("Share", format!("{} of {}, any {} recover the secret", share.index, set.count, set.threshold)),
        ("Scheme", set.scheme.name().to_string()),
        ("Target", set.target.name().to_string()),
    ];
    if !set.label.as_str().is_empty() {
        out.push(("Label", set.label.to_string()));
    }
    out.push(("Created", crate::time::utc_date(set.created)));
    out
}

pub(super) fn encode(share: &Share) -> Zeroizing<String> {
    let bytes = share.to_bytes();
    let lines = checked_lines::encode(bytes.expose());
    let mut out = Zeroizing::new(String::with_capacity(lines.len() + 400));
    out.push_str(ARMOR_BEGIN);
    out.push('\n');
    for (key, value) in headers(share) {
        out.push_str(key);
        out.push_str(": ");
        out.push_str(&value);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&lines);
    out.push_str(ARMOR_END);
    out.push('\n');
    out
}

fn normalize(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reads every armored share in `input`.
pub(super) fn decode_all(input: &str) -> Result<Vec<Share>, FormatError> {
    let mut shares = Vec::new();
    let mut lines = input.lines().map(str::trim);
    loop {
        // Skip anything before the next armor (e.g. an e-mail or a note around the share).
        if lines.by_ref().find(|l| *l == ARMOR_BEGIN).is_none() {
            break;
        }
        let mut header_lines = Vec::new();
        let mut data_lines = Vec::new();
        let mut ended = false;
        for line in lines.by_ref() {
            if line == ARMOR_END {
                ended = true;
                break;
            }
            let is_header = data_lines.is_empty()
                && line.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && line.contains(':');
            if is_header {
                header_lines.push(line);
            } else if !line.is_empty() {
                data_lines.push(line);
            }
        }
        if !ended {
            return Err(FormatError::NoArmorEnd);
        }
        if data_lines.is_empty() {
            return Err(FormatError::NoData);
        }
        let bytes = checked_lines::decode(data_lines.iter().copied())?;
        let share = Share::from_bytes(&bytes)?;
        check_headers(&share, &header_lines)?;
        shares.push(share);
    }
    if shares.is_empty() {
        return Err(FormatError::NoArmor);
    }
    Ok(shares)
}

fn check_headers(share: &Share, lines: &[&str]) -> Result<(), FormatError> {
    let expected = headers(share);
    for line in lines {
        let (key, value) = line.split_once(':').unwrap_or((line, "")); // invariant: header lines contain ':'
        let key = key.trim();
        if key.eq_ignore_ascii_case("Comment") {
            continue;
        }
        let Some((_, want)) = expected.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) else {
            if key.eq_ignore_ascii_case("Label") && share.set.label.as_str().is_empty() && value.trim().is_empty() {
                continue;
            }
            return Err(FormatError::UnknownHeader { key: key.to_string() });
        };
        if normalize(value) != normalize(want) {
            return Err(FormatError::HeaderMismatch {
                key: key.to_string(),
                found: normalize(value),
                expected: normalize(want),
            });
        }
    }
    Ok(())
}
