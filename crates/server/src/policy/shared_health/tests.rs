use super::*;
use switchboard_core::health::TargetState;

#[test]
fn report_arguments_carry_the_breaker_and_relative_resets() {
    let cb = CbConfig {
        failure_threshold: Some(3),
        failure_threshold_percentage: Some(50.0),
        minimum_requests: 4,
        cooldown_ms: 5_000,
        failure_status_codes: None,
        window_ms: 60_000,
    };
    let headroom = Headroom {
        requests: Some(Quota { remaining: 0, limit: Some(10), reset_at_ms: 1_500 }),
        tokens: Some(Quota { remaining: 9, limit: None, reset_at_ms: 900 }),
    };
    let outcome = Outcome {
        status: 429,
        class: Some("rate_limit"),
        retry_after_ms: Some(2_000),
        headroom: Some(headroom),
        ..Outcome::default()
    };
    let args = report_args(&outcome, true, Some(&cb), 1_000);
    let want = ["1", "1", "3", "50", "4", "5000", "60000", "2000", "0", "500", "-1", "0"];
    assert_eq!(args, want, "a stale token quota is not sent");
}

#[test]
fn without_a_breaker_the_defaults_are_sent() {
    let args = report_args(&Outcome { status: 200, ..Outcome::default() }, false, None, 0);
    assert_eq!(args[..8], ["0", "0", "0", "0", "1", "30000", "60000", "0"]);
}

#[test]
fn redis_instants_are_moved_onto_this_instances_clock() {
    // Redis is 100 ms behind this instance.
    let view = report_view(&[1, 10_000, 12_000, 5, 11_000, -1, -1, 9_900, 1], 10_000).unwrap_or_default();
    assert_eq!(view.open_until_ms, Some(10_100));
    assert_eq!(view.cool_until_ms, Some(12_100));
    assert_eq!(view.headroom.requests.map(|q| (q.remaining, q.reset_at_ms)), Some((5, 11_100)));
    assert_eq!(view.headroom.tokens, None);
}

#[test]
fn a_closed_identity_has_no_open_instant() {
    let view = report_view(&[0, 0, -1, -1, -1, -1, -1, 1_000, 2], 1_000).unwrap_or_default();
    assert_eq!(view, SharedView::default());
    assert_eq!(view.state(1_000, &|| 0), TargetState::Available);
}

#[test]
fn read_answers_of_the_wrong_length_are_refused() {
    assert!(read_views(&[1_000, 0, 0, -1, -1, -1, -1, -1, -1], 1, 1_000).is_some());
    assert!(read_views(&[1_000, 0, 0], 1, 1_000).is_none());
    assert!(read_views(&[], 0, 1_000).is_none());
    assert!(report_view(&[1, 2], 0).is_none());
}

#[test]
fn a_shared_view_gives_the_planners_states() {
    let open = SharedView { open_until_ms: Some(2_000), ..SharedView::default() };
    assert_eq!(open.state(1_000, &|| 0), TargetState::Open { until_ms: 2_000 });
    assert_eq!(open.state(2_000, &|| 0), TargetState::HalfOpen { probing_until_ms: None });
    let probing = SharedView { probe_until_ms: Some(2_500), ..open };
    assert_eq!(probing.state(2_100, &|| 0), TargetState::HalfOpen { probing_until_ms: Some(2_500) });
    let cooling = SharedView { cool_until_ms: Some(3_000), ..SharedView::default() };
    assert_eq!(cooling.state(1_000, &|| 0), TargetState::Cooling { until_ms: 3_000 });
}
