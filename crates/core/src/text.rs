//! The one truncation rule: text shown back to a person (an error quoting a bad value or a
//! provider's body, a logged body past its cap) is cut to a byte budget at a character
//! boundary, and a marker says it was cut. Byte budgets, not character counts, because what
//! is being bounded is memory and row size.

use std::borrow::Cow;

/// The longest prefix of `text` of at most `max_bytes` bytes that ends on a character
/// boundary.
pub fn cut(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let end = (0..=max_bytes).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
    &text[..end]
}

/// `text` itself when it fits in `max_bytes`, else its [`cut`] followed by `marker`.
pub fn shorten<'a>(text: &'a str, max_bytes: usize, marker: &str) -> Cow<'a, str> {
    if text.len() <= max_bytes {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(format!("{}{marker}", cut(text, max_bytes)))
    }
}

/// The first `max_bytes` bytes of `body` as text (invalid UTF-8 replaced), a character cut
/// in half at the end dropped, followed by `marker` when anything was left out. Decodes only
/// what it keeps.
pub fn shorten_bytes(body: &[u8], max_bytes: usize, marker: &str) -> String {
    if body.len() <= max_bytes {
        return String::from_utf8_lossy(body).into_owned();
    }
    let mut out = String::from_utf8_lossy(&body[..max_bytes]).into_owned();
    while out.ends_with('\u{FFFD}') {
        out.pop();
    }
    out.push_str(marker);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_never_splits_a_character() {
        assert_eq!(cut("héllo", 2), "h");
        assert_eq!(cut("héllo", 3), "hé");
        assert_eq!(cut("héllo", 100), "héllo");
        assert_eq!(cut("日本", 2), "");
    }

    #[test]
    fn shorten_marks_only_what_it_cut() {
        assert_eq!(shorten("short", 5, "…"), "short");
        assert!(matches!(shorten("short", 5, "…"), Cow::Borrowed(_)));
        assert_eq!(shorten("longer", 4, "…"), "long…");
    }

    #[test]
    fn shorten_bytes_drops_a_half_character_and_marks_the_cut() {
        assert_eq!(shorten_bytes("héllo".as_bytes(), 2, "…[truncated]"), "h…[truncated]");
        assert_eq!(shorten_bytes(b"abc", 3, "…"), "abc");
        assert_eq!(shorten_bytes(&[0xff, b'a'], 10, "…"), "\u{FFFD}a");
    }
}
