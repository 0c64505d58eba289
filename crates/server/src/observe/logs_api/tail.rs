//! `GET /v1/logs/tail` (the list's filters): new log rows as server-sent events, read from the store once a
//! second, so the tail sees every instance's requests and survives a restart (the browser's `EventSource`
//! resumes from the last event id by itself).
//!
//! Rows follow the order the writers stored them (`logged_at`). Writers on several instances commit a little
//! out of that order, so each poll reads again from [`OVERLAP_MS`] before the newest row seen and drops the
//! ids it has already sent; a client resuming from an event id gets the overlap again and drops repeats by
//! `id`. A tail that falls more than [`MAX_LAG_MS`] behind jumps to the present and says so (`event: gap`).
//! Each stream ends after [`MAX_STREAM_MS`], so a long-open tab is authenticated again when it reconnects,
//! and at most [`MAX_TAILS`] run at once.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::IntoResponse;
use futures_util::stream::{self, Stream};
use http::{HeaderMap, Uri};
use switchboard_store::{LogQuery, Store, TailFrom, TailRow};
use tokio::sync::Semaphore;

use super::params::{Params, FILTERS};
use super::{admin, Reply};
use crate::control::api_error::ApiError;
use crate::control::SharedApi;
use crate::http::error::GatewayError;

/// How far back each poll reads again, for rows another writer committed late.
pub const OVERLAP_MS: i64 = 5_000;
/// How far behind the present a tail may fall before it skips ahead.
pub const MAX_LAG_MS: i64 = 30_000;
/// How long one stream lasts before the client reconnects.
pub const MAX_STREAM_MS: u64 = 10 * 60 * 1000;
/// Tails open at once, per instance.
pub const MAX_TAILS: usize = 64;
const POLL: Duration = Duration::from_secs(1);
const PAGE: u32 = 200;
const PAGES_PER_POLL: usize = 5;

static TAILS: Semaphore = Semaphore::const_new(MAX_TAILS);

pub async fn tail(State(state): State<SharedApi>, headers: HeaderMap, uri: Uri) -> Reply {
    admin(&state, &headers).await?;
    let mut params = Params::from_uri(&uri, &[FILTERS, &["cursor"]].concat(), true)?;
    let resume = params.take("cursor").or_else(|| last_event_id(&headers));
    let query = params.log_query()?;
    let since = match resume {
        Some(text) => text.parse::<i64>().map_err(|_| {
            ApiError::BadQuery(format!("cursor: expected an event id sent by this stream, got {text:?}"))
        })?,
        None => crate::support::clock::unix_ms(),
    };
    let slot = Slot::take().ok_or(GatewayError::Busy { limit: MAX_TAILS })?;
    let follower = Follower::new(state.control.store.clone(), query, since, slot);
    Ok(Sse::new(events(follower)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response())
}

fn last_event_id(headers: &HeaderMap) -> Option<String> {
    headers.get("last-event-id").and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// One of the [`MAX_TAILS`] slots, given back when the stream is dropped (the client left or the stream ended).
struct Slot;

impl Slot {
    fn take() -> Option<Slot> {
        TAILS.try_acquire().ok()?.forget();
        Some(Slot)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        TAILS.add_permits(1);
    }
}

/// One tail's position: the newest `logged_at` sent, the ids sent within the overlap, and events not yet sent.
struct Follower {
    store: Store,
    query: LogQuery,
    since: i64,
    seen: HashMap<String, i64>,
    pending: VecDeque<Event>,
    started: tokio::time::Instant,
    _slot: Slot,
}

impl Follower {
    fn new(store: Store, query: LogQuery, since: i64, slot: Slot) -> Self {
        Follower {
            store,
            query,
            since,
            seen: HashMap::new(),
            pending: VecDeque::new(),
            started: tokio::time::Instant::now(),
            _slot: slot,
        }
    }

    /// Reads what was stored since the last poll and queues its events.
    async fn poll(&mut self) {
        let mut from = TailFrom { since: self.since - OVERLAP_MS, after_id: None };
        for _ in 0..PAGES_PER_POLL {
            let rows = match self.store.tail_logs(&self.query, &from, PAGE).await {
                Ok(rows) => rows,
                Err(err) => {
                    tracing::warn!(error = %err, "live tail: reading the log failed; trying again");
                    return;
                }
            };
            let full = rows.len() == PAGE as usize;
            if let Some(last) = rows.last() {
                from = TailFrom { since: last.logged_at, after_id: Some(last.record.id.clone()) };
            }
            rows.into_iter().for_each(|row| self.queue(row));
            if !full {
                break;
            }
        }
        self.skip_ahead_when_behind(crate::support::clock::unix_ms());
        self.seen.retain(|_, logged_at| *logged_at >= self.since - OVERLAP_MS);
    }

    fn queue(&mut self, row: TailRow) {
        if self.seen.contains_key(&row.record.id) {
            return;
        }
        self.since = self.since.max(row.logged_at);
        let data = serde_json::to_string(&row.record).unwrap_or_default();
        self.pending.push_back(Event::default().event("log").id(row.logged_at.to_string()).data(data));
        self.seen.insert(row.record.id, row.logged_at);
    }

    fn skip_ahead_when_behind(&mut self, now: i64) {
        if self.pending.len() >= PAGE as usize * PAGES_PER_POLL && now - self.since > MAX_LAG_MS {
            self.since = now;
            self.seen.clear();
            let data = format!("{{\"skipped\":null,\"resumed_at\":{now}}}");
            self.pending.push_back(Event::default().event("gap").id(now.to_string()).data(data));
        }
    }
}

fn events(follower: Follower) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold(follower, |mut follower| async move {
        loop {
            if let Some(event) = follower.pending.pop_front() {
                return Some((Ok(event), follower));
            }
            if follower.started.elapsed() >= Duration::from_millis(MAX_STREAM_MS) {
                return None;
            }
            tokio::time::sleep(POLL).await;
            follower.poll().await;
        }
    })
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "a failed test should stop loudly")]
mod tests {
    use super::*;
    use switchboard_store::LogRecord;

    async fn follower() -> (Follower, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("switchboard-tail-{}", uuid::Uuid::new_v4().simple()));
        let store = switchboard_store::open(&switchboard_store::StoreLocation::Sqlite(dir.clone())).await.unwrap();
        (Follower::new(store, LogQuery::default(), 0, Slot::take().unwrap()), dir)
    }

    fn row(id: &str, logged_at: i64) -> TailRow {
        TailRow { logged_at, record: LogRecord::new(id, 1, "openai", "gpt-4o") }
    }

    #[tokio::test]
    async fn rows_seen_in_the_overlap_are_sent_once() {
        let (mut f, dir) = follower().await;
        f.queue(row("a", 100));
        f.queue(row("b", 200));
        f.queue(row("a", 100));
        assert_eq!(f.pending.len(), 2);
        assert_eq!(f.since, 200);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn a_tail_far_behind_skips_to_the_present_and_says_so() {
        let (mut f, dir) = follower().await;
        for n in 0..(PAGE as usize * PAGES_PER_POLL) {
            f.queue(row(&format!("r{n}"), 1_000));
        }
        f.skip_ahead_when_behind(1_000 + MAX_LAG_MS - 1);
        assert_eq!(f.since, 1_000, "not far enough behind yet");
        f.skip_ahead_when_behind(1_000 + MAX_LAG_MS + 1);
        assert_eq!(f.since, 1_000 + MAX_LAG_MS + 1);
        assert!(f.seen.is_empty());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn the_slot_is_given_back_when_the_tail_ends() {
        let before = TAILS.available_permits();
        let (f, dir) = follower().await;
        assert_eq!(TAILS.available_permits(), before - 1);
        drop(f);
        assert_eq!(TAILS.available_permits(), before);
        let _ = std::fs::remove_dir_all(dir);
    }
}
