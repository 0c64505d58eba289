use super::*;

fn cb() -> CbConfig {
    CbConfig {
        failure_threshold: Some(3),
        failure_threshold_percentage: None,
        minimum_requests: 1,
        cooldown_ms: 30_000,
        failure_status_codes: None,
        window_ms: 60_000,
    }
}

fn fail(b: &mut Breaker, now: u64, cb: &CbConfig) -> Transition {
    b.record(now, true, Some(cb))
}

#[test]
fn it_opens_on_the_failure_count_and_not_before() {
    let (mut b, cb) = (Breaker::default(), cb());
    assert_eq!(fail(&mut b, 0, &cb), Transition::None);
    assert_eq!(fail(&mut b, 1, &cb), Transition::None);
    assert_eq!(b.state(2), BreakerState::Closed);
    assert_eq!(fail(&mut b, 2, &cb), Transition::Opened { until_ms: 30_002 });
    assert_eq!(b.state(3), BreakerState::Open { until_ms: 30_002 });
}

#[test]
fn the_percentage_waits_for_minimum_requests() {
    let cb =
        CbConfig { failure_threshold: None, failure_threshold_percentage: Some(50.0), minimum_requests: 4, ..cb() };
    let mut b = Breaker::default();
    fail(&mut b, 0, &cb);
    b.record(1, false, Some(&cb));
    fail(&mut b, 2, &cb);
    // 2 of 3 failed (67 %), but 4 requests are required.
    assert_eq!(b.state(3), BreakerState::Closed);
    assert_eq!(b.record(3, false, Some(&cb)), Transition::Opened { until_ms: 30_003 });
}

#[test]
fn below_the_percentage_it_stays_closed() {
    let cb =
        CbConfig { failure_threshold: None, failure_threshold_percentage: Some(50.0), minimum_requests: 4, ..cb() };
    let mut b = Breaker::default();
    for (i, failed) in [true, false, false, false, true, false].into_iter().enumerate() {
        assert_eq!(b.record(i as u64, failed, Some(&cb)), Transition::None);
    }
    assert_eq!(b.window(6, &cb), (6, 2));
}

#[test]
fn failures_age_out_of_the_rolling_window() {
    let (mut b, cb) = (Breaker::default(), cb());
    fail(&mut b, 0, &cb);
    fail(&mut b, 1_000, &cb);
    // A minute later both have left the window: this is the first failure again.
    assert_eq!(b.window(61_000, &cb), (0, 0));
    assert_eq!(fail(&mut b, 61_000, &cb), Transition::None);
    assert_eq!(fail(&mut b, 62_000, &cb), Transition::None);
    assert_eq!(b.window(62_000, &cb), (2, 2));
}

#[test]
fn after_the_cooldown_exactly_one_probe_goes() {
    let (mut b, cb) = (Breaker::default(), cb());
    (0..3).for_each(|i| _ = fail(&mut b, i, &cb));
    assert!(!b.try_pass(10_000, 5_000), "open: nothing passes");
    assert_eq!(b.state(30_002), BreakerState::HalfOpen { probing_until_ms: None });
    assert!(b.try_pass(30_002, 5_000), "the first request after the cooldown probes");
    assert!(!b.try_pass(30_003, 5_000), "a second one waits for the probe");
    assert_eq!(b.state(30_003), BreakerState::HalfOpen { probing_until_ms: Some(35_002) });
}

#[test]
fn a_probe_that_never_reports_frees_the_slot_after_its_ttl() {
    let (mut b, cb) = (Breaker::default(), cb());
    (0..3).for_each(|i| _ = fail(&mut b, i, &cb));
    assert!(b.try_pass(30_002, 5_000));
    assert!(b.try_pass(35_002, 5_000), "the lost probe's slot is free again");
}

#[test]
fn a_successful_probe_closes_and_clears_the_window() {
    let (mut b, cb) = (Breaker::default(), cb());
    (0..3).for_each(|i| _ = fail(&mut b, i, &cb));
    assert!(b.try_pass(30_002, 5_000));
    assert_eq!(b.record(30_100, false, Some(&cb)), Transition::Closed);
    assert_eq!(b.state(30_101), BreakerState::Closed);
    assert_eq!(b.window(30_101, &cb), (0, 0));
}

#[test]
fn a_failed_probe_reopens_for_another_cooldown() {
    let (mut b, cb) = (Breaker::default(), cb());
    (0..3).for_each(|i| _ = fail(&mut b, i, &cb));
    assert!(b.try_pass(30_002, 5_000));
    assert_eq!(fail(&mut b, 30_500, &cb), Transition::Opened { until_ms: 60_500 });
    assert_eq!(b.state(60_499), BreakerState::Open { until_ms: 60_500 });
}

#[test]
fn late_answers_do_not_change_an_open_breaker() {
    let (mut b, cb) = (Breaker::default(), cb());
    (0..3).for_each(|i| _ = fail(&mut b, i, &cb));
    assert_eq!(b.record(100, false, Some(&cb)), Transition::None);
    assert_eq!(b.state(101), BreakerState::Open { until_ms: 30_002 });
}

#[test]
fn without_a_config_outcomes_trip_nothing() {
    let mut b = Breaker::default();
    (0..100).for_each(|i| assert_eq!(b.record(i, true, None), Transition::None));
    assert_eq!(b.state(100), BreakerState::Closed);
}

#[test]
fn which_statuses_count_as_failures() {
    let default = cb();
    assert!(default.is_failure(500, false) && default.is_failure(503, false));
    assert!(!default.is_failure(429, false) && !default.is_failure(400, false));
    assert!(default.is_failure(408, true), "a timeout always counts");
    let own = CbConfig { failure_status_codes: Some(vec![429]), ..cb() };
    assert!(own.is_failure(429, false) && !own.is_failure(500, false));
}
