//! Text that came from outside (user IDs in certificates, labels) made safe to print: control
//! characters, which could move the cursor or rewrite the terminal, are shown escaped.

/// `text` with every control character replaced by its `\u{..}` escape.
pub fn sanitize(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { c.escape_unicode().to_string() } else { c.to_string() }).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_terminal_controls() {
        assert_eq!(super::sanitize("Mallory\u{1b}[2J <m@x>"), "Mallory\\u{1b}[2J <m@x>");
        assert_eq!(super::sanitize("Alice <a@x>"), "Alice <a@x>");
    }
}
