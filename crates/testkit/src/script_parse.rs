//! Parsing the `POST /_script` body into a [`Script`]: every field checked for its type and range, unknown fields
//! and contradictory combinations rejected, each with a message naming the field, so a mistake in a test fails
//! loudly instead of scripting something else. Header names and values are checked here, once, so the HTTP layer
//! can apply them without failing.

use crate::script::Script;
use axum::http::{HeaderName, HeaderValue};
use serde_json::{Map, Value};

const FIELDS: [&str; 16] = [
    "status",
    "count",
    "retry_after",
    "retry_after_ms",
    "headers",
    "body",
    "content_type",
    "pad_bytes",
    "redirect",
    "redirect_status",
    "events",
    "delay_ms",
    "hang",
    "chunk_delay_ms",
    "cut_after",
    "stall_after",
];

/// Headers hyper sets from the body itself; a scripted one would only make hyper fail the answer.
const FRAMING_HEADERS: [&str; 2] = ["content-length", "transfer-encoding"];

type Fields = Map<String, Value>;

impl Script {
    /// Parses the JSON body of `POST /_script`. Unknown fields are rejected so a typo in a test fails loudly.
    /// A scripted answer (`status`, `body`, `redirect`, `events`) without `count` lasts forever (`count: -1`).
    pub fn from_json(value: &Value) -> Result<Script, String> {
        let obj = value.as_object().ok_or("the script must be a JSON object")?;
        if let Some(unknown) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(format!("unknown script field `{unknown}`; known: {FIELDS:?}"));
        }
        check_combinations(obj)?;
        let (retry_after, retry_after_text) = retry_after(obj)?;
        Ok(Script {
            status: opt_u64(obj, "status")?.map(|n| to_status(n, "status", 100..=599)).transpose()?,
            count: opt_i64(obj, "count")?.unwrap_or(-1),
            retry_after,
            retry_after_text,
            retry_after_ms: opt_header_text(obj, "retry_after_ms")?,
            headers: headers(obj)?,
            body: opt_str(obj, "body")?,
            content_type: opt_str(obj, "content_type")?.map(|v| header_value(v, "content_type")).transpose()?,
            pad_bytes: opt_usize(obj, "pad_bytes")?.unwrap_or(0),
            redirect: opt_str(obj, "redirect")?.map(|v| header_value(v, "redirect")).transpose()?,
            redirect_status: opt_u64(obj, "redirect_status")?
                .map(|n| to_status(n, "redirect_status", 300..=399))
                .transpose()?,
            events: events(obj)?,
            delay_ms: opt_u64(obj, "delay_ms")?.unwrap_or(0),
            hang: opt_bool(obj, "hang")?.unwrap_or(false),
            chunk_delay_ms: opt_u64(obj, "chunk_delay_ms")?.unwrap_or(0),
            cut_after: opt_usize(obj, "cut_after")?,
            stall_after: opt_usize(obj, "stall_after")?,
        })
    }
}

/// Fields that contradict each other, or mean nothing without another.
fn check_combinations(obj: &Fields) -> Result<(), String> {
    let has = |key: &str| present(obj, key).is_some();
    let answers: Vec<&str> = ["body", "redirect", "events"].into_iter().filter(|k| has(k)).collect();
    if let [first, second, ..] = answers[..] {
        return Err(format!("`{first}` and `{second}` cannot be combined: each replaces the whole answer"));
    }
    for (field, needs) in [("content_type", "body"), ("redirect_status", "redirect")] {
        if has(field) && !has(needs) {
            return Err(format!("`{field}` only applies with `{needs}`"));
        }
    }
    let conflicts = [
        ("status", "redirect", "the redirect's status is `redirect_status`"),
        ("status", "events", "an `events` answer is a 200 stream; script a failure separately"),
        ("cut_after", "stall_after", "a stream is either cut or stalled"),
    ];
    match conflicts.iter().find(|(a, b, _)| has(a) && has(b)) {
        Some((a, b, why)) => Err(format!("`{a}` and `{b}` cannot be combined: {why}")),
        None => Ok(()),
    }
}

/// `retry_after`: a non-negative integer keeps its typed meaning (seconds); any other number or a string is sent
/// verbatim.
fn retry_after(obj: &Fields) -> Result<(Option<u64>, Option<String>), String> {
    match present(obj, "retry_after") {
        Some(v) if v.is_u64() => Ok((v.as_u64(), None)),
        _ => Ok((None, opt_header_text(obj, "retry_after")?)),
    }
}

/// A header value given as a string or a number (a number as JSON prints it).
fn opt_header_text(obj: &Fields, key: &str) -> Result<Option<String>, String> {
    let text = match present(obj, key) {
        None => return Ok(None),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => return Err(format!("`{key}` must be a number or a string")),
    };
    header_value(text, key).map(Some)
}

fn headers(obj: &Fields) -> Result<Vec<(String, String)>, String> {
    let Some(value) = present(obj, "headers") else {
        return Ok(Vec::new());
    };
    let map = value.as_object().ok_or("`headers` must be an object of header names to string values")?;
    map.iter().map(|(name, value)| header(name, value)).collect()
}

fn header(name: &str, value: &Value) -> Result<(String, String), String> {
    let field = format!("headers.{name}");
    let parsed = HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("`{field}` is not a header name"))?;
    if FRAMING_HEADERS.contains(&parsed.as_str()) {
        return Err(format!("`{field}` cannot be scripted: the server sets it from the body"));
    }
    let value = value.as_str().ok_or(format!("`{field}` must be a string"))?;
    Ok((parsed.as_str().to_string(), header_value(value.to_string(), &field)?))
}

fn header_value(value: String, field: &str) -> Result<String, String> {
    match HeaderValue::from_str(&value) {
        Ok(_) => Ok(value),
        Err(_) => Err(format!("`{field}` is not a valid header value (no control characters): {value:?}")),
    }
}

fn events(obj: &Fields) -> Result<Option<Vec<String>>, String> {
    let Some(value) = present(obj, "events") else {
        return Ok(None);
    };
    let items = value.as_array().ok_or("`events` must be an array of strings")?;
    items.iter().enumerate().map(|(i, item)| event(i, item)).collect::<Result<_, _>>().map(Some)
}

fn event(i: usize, item: &Value) -> Result<String, String> {
    match item.as_str() {
        // An empty chunk would read as the end of a chunked body.
        Some("") => Err(format!("`events[{i}]` must not be empty")),
        Some(text) => Ok(text.to_string()),
        None => Err(format!("`events[{i}]` must be a string")),
    }
}

fn present<'a>(obj: &'a Fields, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

fn opt_u64(obj: &Fields, key: &str) -> Result<Option<u64>, String> {
    present(obj, key).map(|v| v.as_u64().ok_or(format!("`{key}` must be a non-negative integer"))).transpose()
}

fn opt_usize(obj: &Fields, key: &str) -> Result<Option<usize>, String> {
    let to_usize = |n: u64| usize::try_from(n).map_err(|_| format!("`{key}` is too large: {n}"));
    opt_u64(obj, key)?.map(to_usize).transpose()
}

fn opt_i64(obj: &Fields, key: &str) -> Result<Option<i64>, String> {
    present(obj, key).map(|v| v.as_i64().ok_or(format!("`{key}` must be an integer"))).transpose()
}

fn opt_bool(obj: &Fields, key: &str) -> Result<Option<bool>, String> {
    present(obj, key).map(|v| v.as_bool().ok_or(format!("`{key}` must be a boolean"))).transpose()
}

fn opt_str(obj: &Fields, key: &str) -> Result<Option<String>, String> {
    present(obj, key).map(|v| v.as_str().map(str::to_string).ok_or(format!("`{key}` must be a string"))).transpose()
}

fn to_status(n: u64, key: &str, range: std::ops::RangeInclusive<u16>) -> Result<u16, String> {
    u16::try_from(n).ok().filter(|s| range.contains(s)).ok_or(format!(
        "`{key}` must be an HTTP status ({}-{}), got {n}",
        range.start(),
        range.end()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: Value) -> Result<Script, String> {
        Script::from_json(&value)
    }

    fn error(value: Value) -> String {
        parse(value).err().unwrap_or_default()
    }

    #[test]
    fn status_without_count_fails_forever() {
        assert_eq!(parse(json!({"status": 503})).map(|s| s.count), Ok(-1));
    }

    #[test]
    fn the_empty_script_is_the_default() {
        assert_eq!(parse(json!({})), Ok(Script::default()));
    }

    #[test]
    fn unknown_fields_are_rejected() {
        assert!(error(json!({"stauts": 503})).contains("unknown script field `stauts`"));
        assert!(error(json!({"status": 99})).contains("`status`"));
    }

    #[test]
    fn an_integer_retry_after_keeps_its_typed_meaning() {
        let script = parse(json!({"status": 429, "retry_after": 7}));
        assert_eq!(script.map(|s| (s.retry_after, s.retry_after_text)), Ok((Some(7), None)));
    }

    #[test]
    fn any_other_retry_after_is_kept_verbatim() {
        let cases = ["1e20", "inf", "-5", "soon", "Wed, 21 Oct 2015 07:28:00 GMT"];
        for given in cases {
            let script = parse(json!({"retry_after": given}));
            assert_eq!(script.map(|s| s.retry_after_text), Ok(Some(given.to_string())), "{given}");
        }
        assert_eq!(parse(json!({"retry_after": -5})).map(|s| s.retry_after_text), Ok(Some("-5".into())));
    }

    #[test]
    fn a_fractional_retry_after_number_is_sent_as_json_prints_it() {
        let text = parse(json!({"retry_after": 1e20})).ok().and_then(|s| s.retry_after_text).unwrap_or_default();
        assert_eq!(text.parse::<f64>().ok(), Some(1e20), "{text}");
    }

    #[test]
    fn retry_after_ms_takes_a_number_or_a_string() {
        assert_eq!(parse(json!({"retry_after_ms": 250})).map(|s| s.retry_after_ms), Ok(Some("250".into())));
        assert_eq!(parse(json!({"retry_after_ms": "soon"})).map(|s| s.retry_after_ms), Ok(Some("soon".into())));
    }

    #[test]
    fn a_bad_type_names_the_field() {
        let cases = [
            (json!({"retry_after": true}), "`retry_after` must be a number or a string"),
            (json!({"retry_after_ms": []}), "`retry_after_ms` must be a number or a string"),
            (json!({"headers": ["x"]}), "`headers` must be an object"),
            (json!({"headers": {"x-a": 1}}), "`headers.x-a` must be a string"),
            (json!({"body": {"error": {}}}), "`body` must be a string"),
            (json!({"pad_bytes": -1}), "`pad_bytes` must be a non-negative integer"),
            (json!({"redirect": 1}), "`redirect` must be a string"),
            (json!({"events": "data: x\n\n"}), "`events` must be an array"),
            (json!({"events": ["data: x\n\n", 2]}), "`events[1]` must be a string"),
            (json!({"stall_after": "2"}), "`stall_after` must be a non-negative integer"),
        ];
        for (script, message) in cases {
            let got = error(script.clone());
            assert!(got.contains(message), "{script}: {got}");
        }
    }

    #[test]
    fn bad_header_text_is_rejected() {
        assert!(error(json!({"retry_after": "1\r\nx-injected: 1"})).contains("`retry_after` is not a valid header"));
        assert!(error(json!({"headers": {"bad name": "v"}})).contains("`headers.bad name` is not a header name"));
        assert!(error(json!({"headers": {"Content-Length": "9"}})).contains("cannot be scripted"));
        assert!(error(json!({"events": [""]})).contains("`events[0]` must not be empty"));
    }

    #[test]
    fn headers_keep_their_order_with_lower_case_names() {
        let script = parse(json!({"headers": {"X-RateLimit-Remaining-Requests": "0", "x-b": "1s"}}));
        let expected = vec![("x-ratelimit-remaining-requests".into(), "0".into()), ("x-b".into(), "1s".into())];
        assert_eq!(script.map(|s| s.headers), Ok(expected));
    }

    #[test]
    fn every_new_answer_field_parses() {
        let body = parse(json!({"body": "<html>", "status": 502, "content_type": "text/html", "count": 1}));
        let body = body.map(|s| (s.body, s.status, s.content_type, s.count));
        assert_eq!(body, Ok((Some("<html>".into()), Some(502), Some("text/html".into()), 1)));
        let redirect = parse(json!({"redirect": "http://10.0.0.1/", "redirect_status": 302}));
        assert_eq!(redirect.map(|s| (s.redirect, s.redirect_status)), Ok((Some("http://10.0.0.1/".into()), Some(302))));
        let events = parse(json!({"events": [": ping\n\n"], "stall_after": 1, "pad_bytes": 10}));
        let events = events.map(|s| (s.events, s.stall_after, s.pad_bytes));
        assert_eq!(events, Ok((Some(vec![": ping\n\n".into()]), Some(1), 10)));
    }

    #[test]
    fn contradictory_fields_are_rejected() {
        let cases = [
            (json!({"body": "x", "redirect": "http://a/"}), "`body` and `redirect` cannot be combined"),
            (json!({"redirect": "http://a/", "events": []}), "`redirect` and `events` cannot be combined"),
            (json!({"content_type": "text/html"}), "`content_type` only applies with `body`"),
            (json!({"redirect_status": 301}), "`redirect_status` only applies with `redirect`"),
            (json!({"status": 302, "redirect": "http://a/"}), "`status` and `redirect` cannot be combined"),
            (json!({"status": 500, "events": []}), "`status` and `events` cannot be combined"),
            (json!({"cut_after": 1, "stall_after": 1}), "`cut_after` and `stall_after` cannot be combined"),
            (
                json!({"redirect": "http://a/", "redirect_status": 200}),
                "`redirect_status` must be an HTTP status (300-399)",
            ),
        ];
        for (script, message) in cases {
            let got = error(script.clone());
            assert!(got.contains(message), "{script}: {got}");
        }
    }

    #[test]
    fn null_means_absent() {
        assert_eq!(parse(json!({"status": null, "body": null, "headers": null})), Ok(Script::default()));
    }
}
