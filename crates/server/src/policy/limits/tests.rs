//! The limiter's rules, run against both backends: in memory, and the machine's Redis
//! (127.0.0.1:6379, or SWITCHBOARD_TEST_REDIS_URL) under a namespace of the test's own. The
//! Redis scripts restate core's arithmetic, so each case must hold for both.

#![expect(clippy::unwrap_used, reason = "tests")]

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use switchboard_core::limits::{parse_key_limits, Amounts, KeyLimits};

use super::*;
use crate::settings::SharedSettings;

fn limits(rate: Value, usage: Value) -> KeyLimits {
    parse_key_limits(Some(&rate), Some(&usage), "").unwrap()
}

fn tokens(n: u64) -> Amounts {
    Amounts { requests: 1, tokens: n, nano_usd: 0 }
}

fn redis_url() -> String {
    std::env::var("SWITCHBOARD_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string())
}

fn shared_limiter(url: &str, namespace: &str, fail_closed: bool) -> Limiter {
    let settings = SharedSettings {
        redis_url: Some(switchboard_core::secret::Secret::new(url)),
        redis_namespace: namespace.to_string(),
        limits_fail_closed: fail_closed,
    };
    Limiter::from_settings(&settings, LimitMetrics::default()).unwrap()
}

fn namespace() -> String {
    format!("test-{}:", uuid::Uuid::new_v4().simple())
}

/// Runs `case` on an in-memory limiter, then on one shared through Redis.
async fn on_both<F, Fut>(case: F)
where
    F: Fn(Arc<Limiter>) -> Fut,
    Fut: Future<Output = ()>,
{
    case(Arc::new(Limiter::local(LimitMetrics::default()))).await;
    let shared = Arc::new(shared_limiter(&redis_url(), &namespace(), true));
    case(shared.clone()).await;
    assert!(!shared.degraded(), "Redis at {} answered every call (it must be running for these tests)", redis_url());
}

/// Waits (boundedly) for a settle that runs in the background (Redis) to land.
async fn eventually<F, Fut>(check: F) -> bool
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..200 {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

/// A reservation, once the settles before it have landed.
async fn admitted(limiter: &Arc<Limiter>, key: &KeyRef, limits: &KeyLimits, estimate: Amounts) -> Reservation {
    for _ in 0..200 {
        if let Ok(reservation) = limiter.reserve(key.clone(), limits, estimate).await {
            return reservation;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{key:?} was never admitted again")
}

#[tokio::test]
async fn a_request_limit_admits_its_value_then_refuses_with_a_truthful_wait() {
    on_both(|limiter| async move {
        let (key, five) = (
            KeyRef::virtual_key("vk-5"),
            limits(json!([{"type": "requests", "unit": "rpm", "value": 5}]), Value::Null),
        );
        for _ in 0..5 {
            limiter.reserve(key.clone(), &five, tokens(10)).await.unwrap().settle(Some(10), None);
        }
        let refused = limiter.reserve(key.clone(), &five, tokens(10)).await.map(|_| ());
        let Err(GatewayError::RateLimited { retry_after_ms, .. }) = refused else { panic!("{refused:?}") };
        assert!(retry_after_ms > 0 && retry_after_ms <= 60_000, "{retry_after_ms}");
        assert!(limiter.limited_until("vk-5", now_ms()).is_some(), "the planner can see it is limited");
    })
    .await;
}

#[tokio::test]
async fn a_refusal_in_one_bucket_charges_none() {
    on_both(|limiter| async move {
        let key = KeyRef::api_key("k-all-or-nothing");
        let both = limits(
            json!([{"type": "requests", "unit": "rpm", "value": 2}, {"type": "tokens", "unit": "rpm", "value": 100}]),
            Value::Null,
        );
        let first = limiter.reserve(key.clone(), &both, tokens(150)).await.unwrap();
        let refused = limiter.reserve(key.clone(), &both, tokens(1)).await.map(|_| ());
        assert!(matches!(refused, Err(GatewayError::RateLimited { .. })), "the token window is full: {refused:?}");
        first.settle(Some(0), None);
        // Had the refused request been counted, this would be the third of 2 (and never admitted).
        admitted(&limiter, &key, &both, tokens(1)).await;
    })
    .await;
}

#[tokio::test]
async fn a_budget_admits_below_its_limit_and_settles_refunds_and_extra_charges() {
    on_both(|limiter| async move {
        let key = KeyRef::virtual_key("vk-budget");
        let budget = limits(Value::Null, json!({"credit_limit": 100, "type": "tokens", "alert_threshold": 50}));
        let a = limiter.reserve(key.clone(), &budget, tokens(90)).await.unwrap();
        let b = limiter.reserve(key.clone(), &budget, tokens(20)).await.unwrap();
        let refused = limiter.reserve(key.clone(), &budget, tokens(1)).await.map(|_| ());
        assert!(matches!(refused, Err(GatewayError::QuotaExhausted { retry_after_ms: None, .. })), "{refused:?}");
        a.settle(Some(10), None);
        b.settle(Some(10), None);
        let c = admitted(&limiter, &key, &budget, tokens(5)).await;
        assert!(!limiter.exhausted(&key, &budget).await);
        c.settle(Some(120), None);
        let metrics = limiter.metrics.clone();
        let alerted = || async {
            let labels = AlertLabels { key_kind: "virtual_key".into(), key: "vk-budget".into() };
            metrics.budget_alerts.get_or_create(&labels).get() == 1
        };
        assert!(eventually(alerted).await, "crossing 50 raised one alert");
        assert!(eventually(|| async { limiter.exhausted(&key, &budget).await }).await, "140 of 100 spent");
    })
    .await;
}

#[tokio::test]
async fn a_dropped_reservation_charges_its_estimate() {
    on_both(|limiter| async move {
        let key = KeyRef::api_key("k-dropped");
        let budget = limits(Value::Null, json!({"credit_limit": 100, "type": "tokens", "periodic_reset": "monthly"}));
        drop(limiter.reserve(key.clone(), &budget, tokens(100)).await.unwrap());
        assert!(eventually(|| async { limiter.exhausted(&key, &budget).await }).await);
        let refused = limiter.reserve(key.clone(), &budget, tokens(1)).await.map(|_| ());
        let Err(GatewayError::QuotaExhausted { retry_after_ms: Some(ms), .. }) = refused else { panic!("{refused:?}") };
        assert!(ms <= 31 * 86_400_000, "until the month ends: {ms}");
    })
    .await;
}

#[tokio::test]
async fn a_rate_limit_of_zero_disables_the_key() {
    on_both(|limiter| async move {
        let off = limits(json!([{"type": "requests", "unit": "rpd", "value": 0}]), Value::Null);
        let refused = limiter.reserve(KeyRef::virtual_key("vk-off"), &off, tokens(1)).await.map(|_| ());
        assert!(matches!(refused, Err(GatewayError::KeyDisabled { .. })), "{refused:?}");
        assert_eq!(limiter.limited_until("vk-off", now_ms()), Some(u64::MAX));
    })
    .await;
}

#[tokio::test]
async fn two_limiters_on_one_redis_count_together() {
    let ns = namespace();
    let (a, b) = (Arc::new(shared_limiter(&redis_url(), &ns, true)), Arc::new(shared_limiter(&redis_url(), &ns, true)));
    let three = limits(json!([{"type": "requests", "unit": "rph", "value": 3}]), Value::Null);
    let key = KeyRef::virtual_key("vk-shared");
    for limiter in [&a, &b, &a] {
        limiter.reserve(key.clone(), &three, tokens(1)).await.unwrap().settle(Some(1), None);
    }
    assert!(b.reserve(key.clone(), &three, tokens(1)).await.is_err(), "the fourth, wherever it arrives, is refused");
}

#[tokio::test]
async fn a_reservation_whose_instance_died_expires_at_its_estimate() {
    let limiter = Arc::new(shared_limiter(&redis_url(), &namespace(), true).with_expiry(Duration::from_millis(1)));
    let budget = limits(Value::Null, json!({"credit_limit": 100, "type": "tokens"}));
    let key = KeyRef::api_key("k-died");
    // The instance dies with the request in flight: nothing settles it.
    std::mem::forget(limiter.reserve(key.clone(), &budget, tokens(100)).await.unwrap());
    assert!(!limiter.exhausted(&key, &budget).await, "reserved, not yet spent");
    tokio::time::sleep(Duration::from_millis(20)).await;
    // Any reservation purges the expired ones.
    let other = limits(json!([{"type": "requests", "unit": "rpm", "value": 9}]), Value::Null);
    limiter.reserve(KeyRef::api_key("k-other"), &other, tokens(1)).await.unwrap().settle(Some(1), None);
    assert!(limiter.exhausted(&key, &budget).await, "the expired reservation was charged its estimate");
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn redis_unreachable_serves_on_local_state_and_says_so() {
    let url = format!("redis://127.0.0.1:{}", closed_port());
    let limiter = Arc::new(shared_limiter(&url, &namespace(), false));
    let two = limits(json!([{"type": "requests", "unit": "rpm", "value": 2}]), Value::Null);
    let key = KeyRef::virtual_key("vk-open");
    for _ in 0..2 {
        let admitted = limiter.reserve(key.clone(), &two, tokens(1)).await;
        assert!(admitted.is_ok(), "{admitted:?}");
    }
    assert!(limiter.degraded());
    assert_eq!(limiter.metrics.shared_state_degraded.get(), 1);
    assert!(limiter.reserve(key, &two, tokens(1)).await.is_err(), "the local state still limits");
}

#[tokio::test]
async fn redis_unreachable_failing_closed_refuses_limited_keys() {
    let url = format!("redis://127.0.0.1:{}", closed_port());
    let limiter = Arc::new(shared_limiter(&url, &namespace(), true));
    let two = limits(json!([{"type": "requests", "unit": "rpm", "value": 2}]), Value::Null);
    let first = limiter.reserve(KeyRef::virtual_key("vk-closed"), &two, tokens(1)).await.map(|_| ());
    assert!(matches!(first, Err(GatewayError::SharedStateUnavailable { .. })), "{first:?}");
    assert_eq!(GatewayError::SharedStateUnavailable { who: "k".into() }.status(), 503);
}
