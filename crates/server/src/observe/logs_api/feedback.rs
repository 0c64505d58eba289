//! Feedback on traces, Portkey's shape: `POST /v1/feedback` with one object or an array of
//! `{trace_id, value: -10..=10, weight: 0..=1 (default 1), metadata}` (the Node SDK sends
//! `traceID`, also accepted), and `PUT /v1/feedback/{id}` to change value, weight or
//! metadata. Feedback may arrive before its trace's log is written, so the trace is not
//! required to exist.

use crate::control::api_error::ApiError;
use crate::http::error::GatewayError;
use axum::body::Body;
use axum::extract::{Path, State};
use http::HeaderMap;
use serde::Serialize;
use serde_json::{Map, Value};
use switchboard_store::{Feedback, FeedbackUpdate};

use super::{admin, json, Reply};
use crate::control::SharedApi;
use crate::http::body::read_value;
use crate::support::clock;

/// The most feedback entries one request may carry.
pub const MAX_BATCH: usize = 100;

/// Portkey's answer. The Node SDK's types read `feedback_id`, Portkey's reference documents
/// `feedback_ids`: both are sent.
#[derive(Serialize)]
struct Saved {
    status: &'static str,
    message: &'static str,
    feedback_ids: Vec<String>,
    feedback_id: Vec<String>,
}

impl Saved {
    fn new(message: &'static str, ids: Vec<String>) -> Self {
        Saved { status: "success", message, feedback_ids: ids.clone(), feedback_id: ids }
    }
}

fn bad(message: String) -> GatewayError {
    GatewayError::InvalidRequest(message)
}

pub async fn create(State(state): State<SharedApi>, headers: HeaderMap, body: Body) -> Reply {
    save(&state, &headers, body).await
}

async fn save(state: &SharedApi, headers: &HeaderMap, body: Body) -> Reply {
    admin(state, headers).await?;
    let body = read_value(body, state.settings.max_body_bytes).await?;
    let entries = entries(body)?;
    let now = clock::unix_ms();
    let feedback = entries.iter().map(|(path, entry)| new_feedback(path, entry, now)).collect::<Result<Vec<_>, _>>()?;
    for item in &feedback {
        state.control.store.insert_feedback(item).await?;
    }
    json(200, &Saved::new("Feedback successfully saved", feedback.into_iter().map(|f| f.id).collect()))
}

pub async fn update(State(state): State<SharedApi>, headers: HeaderMap, Path(id): Path<String>, body: Body) -> Reply {
    change(&state, &headers, &id, body).await
}

async fn change(state: &SharedApi, headers: &HeaderMap, id: &str, body: Body) -> Reply {
    admin(state, headers).await?;
    let body = read_value(body, state.settings.max_body_bytes).await?;
    let entry = body.as_object().ok_or_else(|| bad("request body must be a JSON object".into()))?;
    let update = feedback_update(entry)?;
    if !state.control.store.update_feedback(id, &update).await? {
        return Err(ApiError::NotFound(format!("feedback \"{id}\" does not exist")));
    }
    json(200, &Saved::new("Feedback successfully updated", vec![id.to_string()]))
}

/// A feedback object and the prefix its errors are named with (`""`, `"[2]."`).
type Entry = (String, Map<String, Value>);

/// One object, or an array of them.
fn entries(body: Value) -> Result<Vec<Entry>, GatewayError> {
    match body {
        Value::Object(entry) => Ok(vec![(String::new(), entry)]),
        Value::Array(items) if items.is_empty() => Err(bad("request body: expected at least one feedback".into())),
        Value::Array(items) if items.len() > MAX_BATCH => {
            Err(bad(format!("request body: at most {MAX_BATCH} feedback entries, got {}", items.len())))
        }
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::Object(entry) => Ok((format!("[{i}]."), entry)),
                _ => Err(bad(format!("[{i}]: expected a feedback object"))),
            })
            .collect(),
        _ => Err(bad("request body must be a feedback object or an array of them".into())),
    }
}

fn new_feedback(path: &str, entry: &Map<String, Value>, now: i64) -> Result<Feedback, GatewayError> {
    let trace_id = ["trace_id", "traceID", "traceId"]
        .iter()
        .find_map(|k| entry.get(*k).and_then(Value::as_str))
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| bad(format!("{path}trace_id: required, the trace the feedback is about")))?;
    let value = entry.get("value").ok_or_else(|| bad(format!("{path}value: required, an integer from -10 to 10")))?;
    Ok(Feedback {
        id: uuid::Uuid::now_v7().to_string(),
        trace_id: trace_id.to_string(),
        value: feedback_value(path, value)?,
        weight: entry.get("weight").map(|w| weight(path, w)).transpose()?.flatten().unwrap_or(1.0),
        metadata: entry.get("metadata").map(|m| metadata(path, m)).transpose()?.flatten().unwrap_or_default(),
        created_at: now,
    })
}

fn feedback_update(entry: &Map<String, Value>) -> Result<FeedbackUpdate, GatewayError> {
    let update = FeedbackUpdate {
        value: entry.get("value").map(|v| feedback_value("", v)).transpose()?,
        weight: entry.get("weight").map(|w| weight("", w)).transpose()?.flatten(),
        metadata: entry.get("metadata").map(|m| metadata("", m)).transpose()?.flatten(),
    };
    if update == FeedbackUpdate::default() {
        return Err(bad("request body: expected at least one of value, weight, metadata".into()));
    }
    Ok(update)
}

fn feedback_value(path: &str, value: &Value) -> Result<i64, GatewayError> {
    value
        .as_i64()
        .filter(|v| (-10..=10).contains(v))
        .ok_or_else(|| bad(format!("{path}value: expected an integer from -10 to 10, got {value}")))
}

/// `null` means the default.
fn weight(path: &str, value: &Value) -> Result<Option<f64>, GatewayError> {
    if value.is_null() {
        return Ok(None);
    }
    let weight = value.as_f64().filter(|w| (0.0..=1.0).contains(w));
    weight.map(Some).ok_or_else(|| bad(format!("{path}weight: expected a number from 0 to 1, got {value}")))
}

/// An object, a string holding one (Portkey documents both), or `null`.
fn metadata(path: &str, value: &Value) -> Result<Option<Map<String, Value>>, GatewayError> {
    let parsed = match value {
        Value::Null => return Ok(None),
        Value::Object(map) => Some(map.clone()),
        Value::String(text) => serde_json::from_str::<Map<String, Value>>(text).ok(),
        _ => None,
    };
    parsed.map(Some).ok_or_else(|| bad(format!("{path}metadata: expected a JSON object")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn value_must_be_an_integer_from_minus_ten_to_ten() {
        assert!(feedback_value("", &json!(-10)).is_ok() && feedback_value("", &json!(10)).is_ok());
        for bad in [json!(11), json!(-11), json!(2.5), json!("5")] {
            let err = feedback_value("", &bad).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.starts_with("value: expected an integer from -10 to 10"), "{bad}: {err}");
        }
    }

    #[test]
    fn weight_defaults_to_one_and_must_be_within_zero_to_one() {
        let made = new_feedback("", &entry(json!({"traceID": "t", "value": 1})), 5).ok();
        assert_eq!(made.map(|f| (f.trace_id, f.weight, f.created_at)), Some(("t".to_string(), 1.0, 5)));
        assert!(weight("[2].", &json!(1.5))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
            .starts_with("[2].weight:"));
    }

    #[test]
    fn batch_entries_are_named_by_index() {
        let err = entries(json!([{"trace_id": "a", "value": 1}, 3])).err().map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("[1]: expected a feedback object"));
    }

    #[test]
    fn an_update_must_change_something() {
        assert!(feedback_update(&entry(json!({"feedbackID": "x"}))).is_err());
        let update = feedback_update(&entry(json!({"value": -3}))).ok();
        assert_eq!(update.and_then(|u| u.value), Some(-3));
    }
}
