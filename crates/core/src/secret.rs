//! [`Secret`]: the one type a credential lives in (provider keys, Switchboard API keys, the
//! master key's text). Its `Debug` and `Display` print only a hint (`sk-…a1b2`), so a
//! credential cannot reach a log line, an error or a `{:?}` by accident; the plaintext is
//! reached only through [`Secret::expose`], at the few places that must send or hash it.

use std::fmt;

#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(plaintext: impl Into<String>) -> Self {
        Secret(plaintext.into())
    }

    /// The plaintext, for the places that send it upstream, hash it or compare it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A hint safe to show (see [`hint`]).
    pub fn hint(&self) -> String {
        hint(&self.0)
    }
}

/// A display hint that identifies a secret without revealing it: `sk-…a1b2` (first 3 and
/// last 4 characters) for secrets of 16 characters or more, `…b2` for 8 to 15, and a bare `…`
/// below that, where even two characters would give away too much.
pub fn hint(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    let tail = |n: usize| chars[chars.len() - n..].iter().collect::<String>();
    match chars.len() {
        len if len >= 16 => format!("{}…{}", chars[..3].iter().collect::<String>(), tail(4)),
        len if len >= 8 => format!("…{}", tail(2)),
        _ => "…".to_owned(),
    }
}

impl From<String> for Secret {
    fn from(plaintext: String) -> Self {
        Secret(plaintext)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.hint())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hint())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_show_only_a_hint() {
        let secret = Secret::new("sk-proj-0123456789abcdefa1b2");
        assert_eq!(format!("{secret:?}"), "Secret(sk-…a1b2)");
        assert_eq!(secret.to_string(), "sk-…a1b2");
        assert!(!format!("{secret:?}").contains("0123456789"));
    }

    #[test]
    fn short_secrets_show_nothing() {
        assert_eq!(Secret::new("hunter2").to_string(), "…");
        assert_eq!(format!("{:?}", Secret::new("")), "Secret(…)");
    }

    #[test]
    fn hint_never_splits_a_character() {
        assert_eq!(Secret::new("éééééééééééééééé").hint(), "ééé…éééé");
    }
}
