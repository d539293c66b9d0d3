//! How counts are said in messages: "1 share", "2 shares", "1 try left", "3 tries left".

/// `n` and the noun in the number it needs: `counted(1, "share", "shares")` is "1 share".
pub fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A PIN's retry counter as a person reads it: "1 try left", "3 tries left", "no tries left
/// (blocked)".
pub fn tries_left(n: u8) -> String {
    match n {
        0 => "no tries left (blocked)".to_string(),
        n => counted(n.into(), "try left", "tries left"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_and_many() {
        assert_eq!(counted(1, "share", "shares"), "1 share");
        assert_eq!(counted(0, "share", "shares"), "0 shares");
        assert_eq!(counted(7, "share", "shares"), "7 shares");
        assert_eq!(tries_left(1), "1 try left");
        assert_eq!(tries_left(3), "3 tries left");
        assert_eq!(tries_left(0), "no tries left (blocked)");
    }
}
