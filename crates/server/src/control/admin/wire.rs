//! Portkey's admin wire format: the `{"success": true, "data": …}` envelope (with `data`'s
//! fields repeated at the top level, where the SDK typings read `id`/`slug`), lists as
//! `{"object": "list", "total", "data"}`, ISO 8601 timestamps, and generated slugs. Also
//! reading a JSON body under the server's size cap.

use axum::body::Body;
use axum::response::Response;
use serde_json::{json, Map, Value};

use crate::control::api_error::ApiError;
use crate::control::ApiState;
use crate::http::reply;

/// The request body as a JSON object, at most `max_body_bytes`.
pub async fn read_object(state: &ApiState, body: Body) -> Result<Map<String, Value>, ApiError> {
    Ok(crate::http::body::read_object(body, state.settings.max_body_bytes).await?)
}

/// `{"success": true, "data": data, …data's fields}`: create and update answers.
pub fn envelope(data: Map<String, Value>) -> Response {
    let mut body = Map::new();
    body.insert("success".into(), Value::Bool(true));
    body.insert("data".into(), Value::Object(data.clone()));
    body.extend(data);
    reply::json_value(200, &Value::Object(body))
}

/// A single resource, its fields at the top level.
pub fn one(resource: Value) -> Response {
    reply::json_value(200, &resource)
}

pub fn list(items: Vec<Value>) -> Response {
    reply::json_value(200, &json!({"object": "list", "total": items.len(), "data": items}))
}

pub fn deleted() -> Response {
    reply::json_value(200, &json!({"success": true, "data": {}}))
}

/// Milliseconds since the Unix epoch as ISO 8601 UTC (`2024-05-01T12:34:56.789Z`).
pub fn iso8601(ms: i64) -> String {
    crate::support::time::format_rfc3339(ms)
}

/// Longest slug a client may choose, and the part of a generated one taken from the name.
pub const MAX_SLUG_LEN: usize = 64;
const NAME_PART_LEN: usize = 40;

/// `[a-z0-9-]{1,64}`.
pub fn is_valid_slug(slug: &str) -> bool {
    (1..=MAX_SLUG_LEN).contains(&slug.len())
        && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

pub const SLUG_RULE: &str = "expected 1 to 64 lowercase letters, digits or '-'";

/// `<prefix><name, slugified>-<6 random hex>`; `fallback` stands in for a name with no
/// usable characters.
pub fn generated_slug(prefix: &str, name: &str, fallback: &str) -> String {
    let mut part = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            part.push(c);
        } else if !part.ends_with('-') && !part.is_empty() {
            part.push('-');
        }
    }
    let mut part: String = part.chars().take(NAME_PART_LEN).collect();
    while part.ends_with('-') {
        part.pop();
    }
    if part.is_empty() {
        part = fallback.to_string();
    }
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}{part}-{}", &suffix[..6])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_formats_utc_with_millis() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_714_566_896_789), "2024-05-01T12:34:56.789Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn generated_slugs_are_valid_and_carry_the_name() {
        let slug = generated_slug("pc-", "My OpenAI key (prod)!", "config");
        assert!(slug.starts_with("pc-my-openai-key-prod-"), "{slug}");
        assert!(is_valid_slug(&slug), "{slug}");
        assert_eq!(slug.len(), "pc-my-openai-key-prod-".len() + 6);
        assert!(generated_slug("", "日本", "key").starts_with("key-"));
        assert!(is_valid_slug(&generated_slug("pc-", &"x".repeat(200), "config")));
    }

    #[test]
    fn slug_rule_is_lowercase_digits_and_dashes() {
        assert!(is_valid_slug("openai-prod-1"));
        assert!(!is_valid_slug("OpenAI"));
        assert!(!is_valid_slug(""));
        assert!(!is_valid_slug(&"a".repeat(65)));
        assert!(!is_valid_slug("a b"));
    }
}
