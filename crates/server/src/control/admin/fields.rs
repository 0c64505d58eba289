//! Reading an admin request body field by field. The Portkey SDKs spell the same field in
//! snake_case or camelCase (the Node SDK snake-cases top-level keys, the Python SDK sends
//! `resourceName`), so every field is looked up under both. Problems are collected with their
//! paths, so one answer lists them all, and a field nobody read is refused at the end rather
//! than silently dropped. A complaint names the kind of a bad value, never the value: the
//! body may carry a provider key. Problems are core's [`Problems`], the type every validator
//! reports with, so problems found by core (a config, a key's provider options) join them as
//! they are.

use serde_json::{Map, Value};
use switchboard_core::problem::{kind, Problems};

use crate::control::api_error::ApiError;

pub struct Fields {
    /// Path prefix of every field, e.g. `virtual_key.` (empty for configs).
    prefix: String,
    map: Map<String, Value>,
    /// Fields this body may have, for the unknown-field message.
    known: Vec<&'static str>,
    problems: Problems,
}

impl Fields {
    pub fn new(prefix: impl Into<String>, map: Map<String, Value>) -> Self {
        Fields { prefix: prefix.into(), map, known: Vec::new(), problems: Problems::default() }
    }

    /// The path of `field` in error messages.
    pub fn path(&self, field: &str) -> String {
        format!("{}{field}", self.prefix)
    }

    pub fn problem(&mut self, field: &str, message: impl std::fmt::Display) {
        let path = self.path(field);
        self.problems.push(path, message.to_string());
    }

    /// Takes over problems that already carry their whole path (found by core).
    pub fn extend(&mut self, problems: Problems) {
        self.problems.extend(problems);
    }

    /// Whether a problem was already recorded at `field` or inside it.
    pub fn has_problem(&self, field: &str) -> bool {
        self.problems.has_at(&self.path(field))
    }

    /// `value`, recording that `field` is required (`what` it should be) when it is missing
    /// and nothing else was said about it.
    pub fn require<T>(&mut self, field: &str, value: Option<T>, what: &str) -> Option<T> {
        if value.is_none() && !self.has_problem(field) {
            self.problem(field, format!("required ({what})"));
        }
        value
    }

    /// Removes `names[0]` (or any other spelling in `names`, each also in camelCase) and
    /// returns its value; `null` is returned as given. Two spellings at once are a problem.
    pub fn take(&mut self, names: &[&'static str]) -> Option<Value> {
        if !self.known.contains(&names[0]) {
            self.known.push(names[0]);
        }
        let spellings = names.iter().flat_map(|n| [n.to_string(), camel_case(n)]);
        let mut found: Vec<(String, Value)> = Vec::new();
        for spelling in spellings {
            if let Some(value) = self.map.remove(&spelling) {
                found.push((spelling, value));
            }
        }
        if found.len() > 1 {
            let given: Vec<&str> = found.iter().map(|(k, _)| k.as_str()).collect();
            self.problem(names[0], format!("given more than once (as {}): send one", given.join(", ")));
        }
        found.into_iter().next().map(|(_, value)| value)
    }

    /// A non-empty string; `null` or absent is `None`.
    pub fn text(&mut self, names: &[&'static str]) -> Option<String> {
        let value = self.take(names)?;
        self.expect_text(names[0], value)
    }

    /// Like [`Fields::text`], but `null` is `Some(None)` (clear the field).
    pub fn nullable_text(&mut self, names: &[&'static str]) -> Option<Option<String>> {
        match self.take(names)? {
            Value::Null => Some(None),
            value => self.expect_text(names[0], value).map(Some),
        }
    }

    fn expect_text(&mut self, field: &str, value: Value) -> Option<String> {
        match value {
            Value::Null => None,
            Value::String(s) if !s.trim().is_empty() => Some(s),
            other => {
                self.problem(field, format!("expected a non-empty string, got {}", kind(&other)));
                None
            }
        }
    }

    /// `true` or `false` (also 1 or 0, as Portkey's `is_default`); `null` or absent is `None`.
    pub fn boolean(&mut self, names: &[&'static str]) -> Option<bool> {
        match self.take(names)? {
            Value::Null => None,
            Value::Bool(b) => Some(b),
            Value::Number(n) if n.as_u64() == Some(0) => Some(false),
            Value::Number(n) if n.as_u64() == Some(1) => Some(true),
            other => {
                self.problem(names[0], format!("expected true or false, got {}", kind(&other)));
                None
            }
        }
    }

    /// A list of non-empty strings; `null` or absent is `None`.
    pub fn text_list(&mut self, names: &[&'static str]) -> Option<Vec<String>> {
        let field = names[0];
        match self.take(names)? {
            Value::Null => None,
            Value::Array(items) => {
                let texts: Vec<Option<String>> = items
                    .into_iter()
                    .enumerate()
                    .map(|(i, item)| self.expect_text(&format!("{field}[{i}]"), item))
                    .collect();
                texts.into_iter().collect()
            }
            other => {
                self.problem(field, format!("expected an array of strings, got {}", kind(&other)));
                None
            }
        }
    }

    /// Accepted and unused: Portkey's multi-workspace fields (Switchboard has one workspace).
    pub fn ignore(&mut self, names: &[&'static str]) {
        for name in names {
            self.take(&[name]);
        }
    }

    /// Portkey fields Switchboard cannot honour: refused by name, never silently dropped.
    pub fn refuse(&mut self, names: &[&'static str], why: &str) {
        for name in names {
            if self.take(&[name]).is_some_and(|v| !v.is_null()) {
                self.problem(name, why);
            }
        }
    }

    /// Takes over the problems of a nested object's fields (unknown fields included).
    pub fn absorb(&mut self, nested: Fields) {
        let problems = nested.into_problems();
        self.problems.extend(problems);
    }

    /// Every problem so far, or `Ok` when the body is clean (unknown fields included).
    pub fn finish(self) -> Result<(), ApiError> {
        let problems = self.into_problems();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Invalid(problems))
        }
    }

    fn into_problems(mut self) -> Problems {
        let leftovers: Vec<String> = self.map.keys().cloned().collect();
        let expected = self.known.join(", ");
        for key in leftovers {
            self.problem(&key, format!("unknown field (expected one of {expected})"));
        }
        self.problems
    }
}

/// `resource_name` → `resourceName`.
pub fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        match c {
            '_' => upper = true,
            c if upper => {
                out.push(c.to_ascii_uppercase());
                upper = false;
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(value: Value) -> Fields {
        Fields::new("virtual_key.", value.as_object().cloned().unwrap())
    }

    #[test]
    fn snake_and_camel_spellings_are_the_same_field() {
        let mut snake = fields(json!({"resource_name": "r"}));
        let mut camel = fields(json!({"resourceName": "r"}));
        assert_eq!(snake.text(&["resource_name"]), Some("r".into()));
        assert_eq!(camel.text(&["resource_name"]), Some("r".into()));
        assert!(snake.finish().is_ok() && camel.finish().is_ok());
    }

    #[test]
    fn both_spellings_at_once_are_refused() {
        let mut f = fields(json!({"resource_name": "r", "resourceName": "s"}));
        f.text(&["resource_name"]);
        let err = f.finish().unwrap_err().to_string();
        assert!(err.contains("virtual_key.resource_name: given more than once"), "{err}");
    }

    #[test]
    fn unknown_fields_are_refused_with_the_expected_ones() {
        let mut f = fields(json!({"name": "n", "resouceName": "r"}));
        f.text(&["name"]);
        let err = f.finish().unwrap_err().to_string();
        assert_eq!(err, "virtual_key.resouceName: unknown field (expected one of name)");
    }

    #[test]
    fn bad_values_are_described_never_quoted() {
        let mut f = fields(json!({"key": 12345678, "name": ""}));
        f.text(&["key"]);
        f.text(&["name"]);
        let err = f.finish().unwrap_err().to_string();
        assert!(err.contains("virtual_key.key: expected a non-empty string, got a number"), "{err}");
        assert!(err.contains("virtual_key.name: expected a non-empty string, got an empty string"), "{err}");
        assert!(!err.contains("12345678"));
    }

    #[test]
    fn null_clears_a_nullable_field() {
        let mut f = fields(json!({"note": null}));
        assert_eq!(f.nullable_text(&["note"]), Some(None));
    }

    #[test]
    fn camel_case_of_snake_names() {
        assert_eq!(camel_case("deployment_config"), "deploymentConfig");
        assert_eq!(camel_case("name"), "name");
    }
}
