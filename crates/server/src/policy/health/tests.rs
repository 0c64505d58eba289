use super::*;

fn label(model: &str) -> TargetLabel {
    TargetLabel {
        id: TargetId(switchboard_core::health::rendezvous::stable_hash(model.as_bytes())),
        provider: "openai".into(),
        credential: "vk:prod".into(),
        destination: "default".into(),
        model: model.into(),
    }
}

fn report(
    table: &HealthTable,
    label: &TargetLabel,
    outcome: &Outcome,
    cb: Option<&CbConfig>,
    now_ms: u64,
) -> Transition {
    table.report(label.id, || label.clone(), &label.provider, outcome, (cb, now_ms))
}

fn failure(status: u16) -> Outcome {
    Outcome { status, class: Some("server_error"), ..Outcome::default() }
}

fn cb(threshold: u32) -> CbConfig {
    CbConfig {
        failure_threshold: Some(threshold),
        failure_threshold_percentage: None,
        minimum_requests: 1,
        cooldown_ms: 30_000,
        failure_status_codes: None,
        window_ms: 60_000,
    }
}

#[test]
fn an_unknown_identity_is_available_and_takes_no_entry() {
    let table = HealthTable::default();
    assert_eq!(table.state(&label("m").id, 0, &|| 0), TargetState::Available);
    assert!(table.try_pass(&label("m").id, 0, 1_000));
    assert!(table.view(0).is_empty());
}

#[test]
fn the_breaker_opens_for_every_model_key_pair_separately() {
    let (table, cb) = (HealthTable::default(), cb(2));
    report(&table, &label("a"), &failure(500), Some(&cb), 1);
    assert_eq!(report(&table, &label("a"), &failure(502), Some(&cb), 2), Transition::Opened { until_ms: 30_002 });
    assert_eq!(table.state(&label("a").id, 3, &|| 0), TargetState::Open { until_ms: 30_002 });
    assert_eq!(table.state(&label("b").id, 3, &|| 0), TargetState::Available);
}

#[test]
fn a_retry_after_cools_the_identity_even_without_a_breaker() {
    let table = HealthTable::default();
    let limited =
        Outcome { status: 429, class: Some("rate_limit"), retry_after_ms: Some(30_000), ..Outcome::default() };
    report(&table, &label("a"), &limited, None, 1_000);
    assert_eq!(table.state(&label("a").id, 1_001, &|| 0), TargetState::Cooling { until_ms: 31_000 });
    assert_eq!(table.state(&label("a").id, 31_000, &|| 0), TargetState::Available);
}

#[test]
fn a_probe_is_claimed_once_and_its_success_closes_the_breaker() {
    let (table, cb) = (HealthTable::default(), cb(1));
    report(&table, &label("a"), &failure(500), Some(&cb), 0);
    let id = label("a").id;
    assert_eq!(table.state(&id, 30_000, &|| 0), TargetState::HalfOpen { probing_until_ms: None });
    assert!(table.try_pass(&id, 30_000, 5_000));
    assert!(!table.try_pass(&id, 30_001, 5_000));
    let ok = Outcome { status: 200, ..Outcome::default() };
    assert_eq!(report(&table, &label("a"), &ok, Some(&cb), 30_100), Transition::Closed);
    assert_eq!(table.state(&id, 30_101, &|| 0), TargetState::Available);
}

#[test]
fn a_client_error_does_not_trip_the_default_breaker() {
    let (table, cb) = (HealthTable::default(), cb(1));
    let bad = Outcome { status: 400, class: Some("invalid_request"), ..Outcome::default() };
    assert_eq!(report(&table, &label("a"), &bad, Some(&cb), 0), Transition::None);
    let view = table.view(1);
    assert_eq!((view[0].failures, view[0].last_error), (1, Some("invalid_request")));
}

#[test]
fn the_table_is_bounded() {
    let table = HealthTable::default();
    for i in 0..(MAX_IDENTITIES * 2) {
        report(&table, &label(&format!("m{i}")), &failure(500), None, i as u64);
    }
    let kept = table.view(0).len();
    assert!(kept <= MAX_IDENTITIES, "{kept}");
    let newest = format!("m{}", MAX_IDENTITIES * 2 - 1);
    assert!(table.view(0).iter().any(|v| v.label.model == newest), "the newest entry is kept");
}
