//! A problem at a path: the one type every validator in Switchboard reports with (configs,
//! provider options, the admin API's bodies, the declarative file, the CLI's flags), and how a
//! bad value is described inside one. Paths join with `.` (`config.targets[1].weight`,
//! `virtual_key.api_version`); a value is quoted back only when it cannot be a credential.
//! Pure data: it knows nothing of configs or providers.

use std::fmt;

use serde_json::Value;

/// One problem, at its path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every problem found, in document order; shown joined by `; `.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem { path: path.into(), message: message.into() });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Takes over every problem of `other`, after these.
    pub fn extend(&mut self, other: Problems) {
        self.0.extend(other.0);
    }

    /// Whether a problem was recorded at `path` or inside it (`path.x`, `path[0]`).
    pub fn has_at(&self, path: &str) -> bool {
        let inside =
            |p: &Problem| p.path.strip_prefix(path).is_some_and(|rest| rest.is_empty() || rest.starts_with(['[', '.']));
        self.0.iter().any(inside)
    }

    /// `Ok(value)` when nothing was found, else these problems.
    pub fn or<T>(self, value: T) -> Result<T, Problems> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let all: Vec<String> = self.0.iter().map(Problem::to_string).collect();
        f.write_str(&all.join("; "))
    }
}

impl std::error::Error for Problems {}

/// `path.key`, the path of a key inside the object at `path`; just `key` at the top (an
/// empty `path`, as the CLI uses before it names flags).
/// Reports every key of `obj` that is not in `allowed` (for the small fixed-shape objects).
pub fn check_keys(obj: &serde_json::Map<String, Value>, path: &str, allowed: &[&str], errs: &mut Problems) {
    for key in obj.keys().filter(|k| !allowed.contains(&k.as_str())) {
        errs.push(join(path, key), unknown_key(key, allowed, allowed));
    }
}

pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Longest excerpt of a bad value quoted back in a problem.
const QUOTE_MAX_BYTES: usize = 40;

/// A bad value quoted back to the user as compact JSON, cut short if long; only its kind
/// when it may be a credential.
pub fn got(value: &Value) -> String {
    if holds_secret(value) {
        return kind(value).to_string();
    }
    crate::text::shorten(&value.to_string(), QUOTE_MAX_BYTES, "…").into_owned()
}

/// Whether a value holds a string that may be a credential (pasted under the wrong key):
/// such values are described by kind only, never quoted back.
fn holds_secret(value: &Value) -> bool {
    match value {
        Value::String(s) => looks_like_secret(s),
        Value::Array(items) => items.iter().any(holds_secret),
        Value::Object(map) => map.values().any(holds_secret),
        _ => false,
    }
}

fn looks_like_secret(s: &str) -> bool {
    let prefixed =
        ["sk-", "sk_", "sb-", "pk-", "key-", "bearer "].iter().any(|p| s.to_ascii_lowercase().starts_with(p));
    let token_like = s.len() >= 16
        && !s.contains(char::is_whitespace)
        && s.chars().any(|c| c.is_ascii_digit())
        && s.chars().any(|c| c.is_ascii_alphabetic());
    prefixed || token_like
}

/// The kind of a value, for problems about values that must not be echoed.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(s) if s.trim().is_empty() => "an empty string",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// An unknown key: its snake_case spelling if that is known, else the nearest known key
/// (edit distance ≤ 2), else the list of `allowed` keys. `candidates` are the keys a
/// suggestion may name (often `allowed`, sometimes more).
pub fn unknown_key(key: &str, allowed: &[&str], candidates: &[&str]) -> String {
    let snake = snake_case(key);
    if snake != key && candidates.contains(&snake.as_str()) {
        return format!("use the snake_case spelling \"{snake}\"");
    }
    match closest(&snake, candidates) {
        Some(near) => format!("unknown key (did you mean \"{near}\"?)"),
        None => format!("unknown key (expected one of {})", allowed.join(", ")),
    }
}

/// `resourceName` → `resource_name`.
pub fn snake_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Suggestions further than this many edits away are more confusing than helpful.
const MAX_SUGGESTION_DISTANCE: usize = 2;

fn closest<'a>(key: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let scored = candidates.iter().map(|c| (edit_distance(key, c), *c));
    scored.filter(|(d, _)| *d <= MAX_SUGGESTION_DISTANCE).min_by_key(|(d, _)| *d).map(|(_, c)| c)
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn problems_show_path_and_message_joined_by_semicolons() {
        let mut problems = Problems::default();
        problems.push("config.a", "one");
        problems.push("config.b", "two");
        assert_eq!(problems.to_string(), "config.a: one; config.b: two");
    }

    #[test]
    fn a_problem_inside_a_path_counts_as_at_it() {
        let mut problems = Problems::default();
        problems.push("virtual_key.deployment_config[0].alias", "x");
        assert!(problems.has_at("virtual_key.deployment_config"));
        assert!(!problems.has_at("virtual_key.deployment"));
    }

    #[test]
    fn join_at_the_top_is_the_key_alone() {
        assert_eq!(join("", "api_version"), "api_version");
        assert_eq!(join("config.targets[1]", "weight"), "config.targets[1].weight");
    }

    #[test]
    fn values_that_may_be_credentials_are_described_never_quoted() {
        assert_eq!(got(&json!("sk-live-123")), "a string");
        assert_eq!(got(&json!(["abcdef0123456789xyz"])), "an array");
        assert_eq!(got(&json!("ftp://x")), "\"ftp://x\"");
        assert_eq!(got(&json!("  ")), "\"  \"");
        assert_eq!(kind(&json!("  ")), "an empty string");
    }
}
