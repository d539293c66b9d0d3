//! Text that came from outside (user IDs in certificates, labels, reader and USB device names)
//! made safe to print: control characters, which could move the cursor or rewrite the terminal,
//! and invisible format characters (bidirectional overrides and isolates, zero-width characters),
//! which could make a name read as another, are shown escaped.

/// Whether `c` is an invisible format character (Unicode category Cf) of the kinds that can
/// disguise text: bidirectional controls, zero-width characters, and the like.
fn is_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// Whether `text` holds a character [`sanitize`] would escape.
pub fn needs_escaping(text: &str) -> bool {
    text.chars().any(|c| c.is_control() || is_format(c))
}

/// As [`sanitize`], line by line: line breaks stay, every other control or format character is
/// escaped. For messages that are several lines and carry outside text (paths, origins).
pub fn sanitize_lines(text: &str) -> String {
    text.split('\n').map(sanitize).collect::<Vec<_>>().join("\n")
}

/// `text` with every control and invisible format character replaced by its `\u{..}` escape.
pub fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() || is_format(c) { c.escape_unicode().to_string() } else { c.to_string() })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_terminal_controls() {
        assert_eq!(super::sanitize("Mallory\u{1b}[2J <m@x>"), "Mallory\\u{1b}[2J <m@x>");
        assert_eq!(super::sanitize("Alice <a@x>"), "Alice <a@x>");
        assert_eq!(super::sanitize("abc\u{202E}def\u{200B}"), "abc\\u{202e}def\\u{200b}");
        assert_eq!(super::sanitize("Zoë, 東京"), "Zoë, 東京");
        assert!(super::needs_escaping("a\u{2066}b") && !super::needs_escaping("plain"));
    }
}
