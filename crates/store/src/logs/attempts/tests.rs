use serde_json::json;

use super::*;

fn call(reason: AttemptReason, status: u16) -> AttemptEntry {
    AttemptEntry {
        target_path: "config.targets[0]".into(),
        provider: Some("openai".into()),
        model: Some("gpt-4o".into()),
        status,
        latency_ms: 12,
        start_offset_ms: 3,
        error_class: (status >= 400).then_some("overloaded".into()),
        retry: 1,
        backoff_ms: 40,
        reason,
    }
}

fn skipped(why: Option<&str>) -> RouteNote {
    RouteNote::Skipped {
        target_path: "config.targets[1]".into(),
        state: "unsupported".into(),
        until_ms: None,
        provider: Some("anthropic".into()),
        virtual_key: None,
        why: why.map(str::to_string),
    }
}

fn sticky() -> RouteNote {
    RouteNote::Sticky {
        group_path: "config".into(),
        first_choice: "config.targets[0]".into(),
        target_path: "config.targets[1]".into(),
    }
}

/// The shapes the server wrote with `json!` before attempts were typed, key order included (stored rows and
/// the dashboard were made with these).
fn shapes_before_typing() -> Vec<Value> {
    vec![
        json!({"reason": "skipped", "target_path": "config.targets[1]", "state": "unsupported", "until_ms": null,
               "provider": "anthropic", "virtual_key": null, "why": "no embeddings"}),
        json!({"reason": "skipped", "target_path": "config.targets[1]", "state": "unsupported", "until_ms": null,
               "provider": "anthropic", "virtual_key": null}),
        json!({"reason": "sticky", "group_path": "config", "first_choice": "config.targets[0]",
               "target_path": "config.targets[1]"}),
        json!({"reason": "failed_open"}),
        json!({"target_path": "config.targets[0]", "provider": "openai", "model": "gpt-4o", "status": 503,
               "latency_ms": 12, "start_offset_ms": 3, "error_class": "overloaded", "retry": 1, "backoff_ms": 40,
               "reason": "retry"}),
        json!({"target_path": "config.targets[0]", "provider": "openai", "model": "gpt-4o", "status": 200,
               "latency_ms": 12, "start_offset_ms": 3, "error_class": null, "retry": 1, "backoff_ms": 40,
               "reason": "fallback"}),
    ]
}

fn typed() -> Attempts {
    Attempts(vec![
        RouteEntry::Note(skipped(Some("no embeddings"))),
        RouteEntry::Note(skipped(None)),
        RouteEntry::Note(sticky()),
        RouteEntry::Note(RouteNote::FailedOpen),
        RouteEntry::Attempt(call(AttemptReason::Retry, 503)),
        RouteEntry::Attempt(call(AttemptReason::Fallback, 200)),
    ])
}

fn keys(value: &Value) -> Vec<&str> {
    value.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default()
}

#[test]
fn every_entry_serialises_to_the_shape_written_before_typing_key_order_included() {
    let written = serde_json::to_value(typed()).unwrap();
    let before = shapes_before_typing();
    assert_eq!(written, Value::Array(before.clone()));
    for (new, old) in written.as_array().unwrap().iter().zip(&before) {
        assert_eq!(keys(new), keys(old));
    }
}

#[test]
fn unknown_values_are_null_and_a_skip_without_why_has_no_why_key() {
    let bare = AttemptEntry { provider: None, model: None, ..call(AttemptReason::Initial, 200) };
    let value = serde_json::to_value(RouteEntry::Attempt(bare)).unwrap();
    assert_eq!(
        (&value["provider"], &value["model"], &value["error_class"]),
        (&Value::Null, &Value::Null, &Value::Null)
    );
    let skip = serde_json::to_value(RouteEntry::Note(skipped(None))).unwrap();
    assert!(skip.get("why").is_none() && skip.get("virtual_key") == Some(&Value::Null), "{skip}");
}

#[test]
fn rows_stored_before_typing_read_back_typed() {
    let read: Attempts = serde_json::from_value(Value::Array(shapes_before_typing())).unwrap();
    assert_eq!(read, typed());
}

#[test]
fn stored_entries_of_other_shapes_are_kept_verbatim() {
    let odd = vec![
        json!({"target_path": "config.targets[0]", "status": 503, "reason": "initial"}),
        json!({"provider": "openai", "status": 200}),
        json!({"reason": "skipped", "target_path": "t", "state": "open", "until_ms": 5, "provider": null,
               "virtual_key": null, "why": null}),
        json!({"reason": "fallback", "status": 200.5}),
        json!({"reason": "sticky", "group_path": "config", "first_choice": "a", "target_path": "b", "extra": 1}),
        json!("not an object"),
    ];
    let read: Attempts = serde_json::from_value(Value::Array(odd.clone())).unwrap();
    assert!(read.iter().all(|entry| matches!(entry, RouteEntry::Other(_))), "{read:?}");
    assert_eq!(serde_json::to_value(&read).unwrap(), Value::Array(odd));
}

#[test]
fn a_column_that_is_not_an_array_reads_as_no_entries() {
    for stored in ["null", "{}", "3", "\"x\""] {
        assert_eq!(serde_json::from_str::<Attempts>(stored).unwrap(), Attempts::default(), "{stored}");
    }
}

#[test]
fn fallbacks_count_calls_that_moved_to_a_fallback_target() {
    assert_eq!(typed().fallbacks(), 1);
    assert_eq!(typed().calls().count(), 2);
}

#[test]
fn notes_go_after_earlier_notes_and_before_the_calls() {
    let mut attempts = Attempts(vec![RouteEntry::Attempt(call(AttemptReason::Initial, 200))]);
    attempts.push_note(sticky());
    attempts.push_note(RouteNote::FailedOpen);
    let notes: Vec<bool> = attempts.iter().map(RouteEntry::is_note).collect();
    assert_eq!(notes, [true, true, false]);
    assert_eq!(attempts[1], RouteEntry::Note(RouteNote::FailedOpen));
}

#[test]
fn a_reason_reads_as_it_serialises() {
    for reason in [AttemptReason::Initial, AttemptReason::Retry, AttemptReason::Fallback] {
        assert_eq!(serde_json::to_value(reason).unwrap(), json!(reason.as_str()));
    }
}
