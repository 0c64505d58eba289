//! `GET /v1/logs/tail` (the list's filters): new log rows as server-sent events, read from the store once a
//! second, so the tail sees every instance's requests and survives a restart (the browser's `EventSource`
//! resumes from the last event id by itself).
//!
//! Rows come in the order they were stored, from the store's tail position (`switchboard_store::TailPosition`:
//! SQLite's rowid, PostgreSQL's write time). Each poll resumes from the last position, which on PostgreSQL
//! reads a few seconds again for rows other writers committed late; ids already sent are dropped here (the
//! last [`SEEN`] of them), and a client resuming from an event id drops repeats by `id`. A tail that
//! fills every page of a poll has fallen behind: it jumps to the present and says so (`event: gap`). Each
//! stream ends after [`MAX_STREAM_MS`], so a long-open tab is authenticated again when it reconnects, and at
//! most [`MAX_TAILS`] run at once.

use std::collections::{HashSet, VecDeque};
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::IntoResponse;
use futures_util::stream::{self, Stream};
use http::{HeaderMap, Uri};
use switchboard_store::{LogQuery, Store, TailFrom, TailPosition, TailRow};
use tokio::sync::Semaphore;

use super::params::{Params, FILTERS};
use super::{admin, Reply};
use crate::control::SharedApi;
use crate::http::error::GatewayError;

/// How long one stream lasts before the client reconnects.
pub const MAX_STREAM_MS: u64 = 10 * 60 * 1000;
/// Tails open at once, per instance.
pub const MAX_TAILS: usize = 64;
/// Ids remembered to drop repeats.
pub const SEEN: usize = 4096;
const POLL: Duration = Duration::from_secs(1);
const PAGE: u32 = 200;
const PAGES_PER_POLL: usize = 5;

static TAILS: Semaphore = Semaphore::const_new(MAX_TAILS);

pub async fn tail(State(state): State<SharedApi>, headers: HeaderMap, uri: Uri) -> Reply {
    admin(&state, &headers).await?;
    let mut params = Params::from_uri(&uri, &[FILTERS, &["cursor"]].concat(), true)?;
    let resume = params.take("cursor").or_else(|| last_event_id(&headers));
    let query = params.log_query()?;
    let store = &state.control.store;
    let position = match resume {
        Some(text) => TailPosition::parse(&text, store.backend())
            .map_err(|_| GatewayError::InvalidRequest(format!("cursor: not an event id this tail sent: {text:?}")))?,
        None => store.tail_now().await?,
    };
    let slot = Slot::take().ok_or(GatewayError::Busy { limit: MAX_TAILS })?;
    let follower = Follower::new(store.clone(), query, position, slot);
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

/// One tail: where it is, the ids it sent lately, and events not yet sent.
struct Follower {
    store: Store,
    query: LogQuery,
    position: TailPosition,
    seen: HashSet<String>,
    seen_order: VecDeque<String>,
    pending: VecDeque<Event>,
    started: tokio::time::Instant,
    _slot: Slot,
}

impl Follower {
    fn new(store: Store, query: LogQuery, position: TailPosition, slot: Slot) -> Self {
        Follower {
            store,
            query,
            position,
            seen: HashSet::new(),
            seen_order: VecDeque::new(),
            pending: VecDeque::new(),
            started: tokio::time::Instant::now(),
            _slot: slot,
        }
    }

    /// Reads what was stored since the last poll and queues its events.
    async fn poll(&mut self) {
        let mut from = TailFrom::Resume(self.position.clone());
        for _ in 0..PAGES_PER_POLL {
            let rows = match self.store.tail_logs(&self.query, &from, PAGE).await {
                Ok(rows) => rows,
                Err(err) => {
                    tracing::warn!(error = %err, "live tail: reading the log failed; trying again");
                    return;
                }
            };
            let full = rows.len() == PAGE as usize;
            let Some(last) = rows.last().map(|row| row.position.clone()) else { return self.rewind_if_emptied().await };
            rows.into_iter().for_each(|row| self.queue(row));
            self.position = last.clone();
            if !full {
                return;
            }
            from = TailFrom::After(last);
        }
        self.skip_to(self.store.tail_now().await.ok());
    }

    fn queue(&mut self, row: TailRow) {
        if !self.remember(&row.record.id) {
            return;
        }
        let data = serde_json::to_string(&row.record).unwrap_or_default();
        self.pending.push_back(Event::default().event("log").id(row.position.to_string()).data(data));
    }

    /// Whether `id` is new; remembers the last [`SEEN`] ids.
    fn remember(&mut self, id: &str) -> bool {
        if self.seen.contains(id) {
            return false;
        }
        if self.seen_order.len() == SEEN {
            if let Some(oldest) = self.seen_order.pop_front() {
                self.seen.remove(&oldest);
            }
        }
        self.seen.insert(id.to_owned());
        self.seen_order.push_back(id.to_owned());
        true
    }

    /// SQLite numbers rows from 1 again once retention has emptied the log: a tail past the last row then
    /// follows from the last row.
    async fn rewind_if_emptied(&mut self) {
        if let (TailPosition::Row(at), Ok(TailPosition::Row(last))) = (&self.position, self.store.tail_now().await) {
            if last < *at {
                self.position = TailPosition::Row(last);
            }
        }
    }

    /// Behind by more than a poll can read: on to the present, saying so.
    fn skip_to(&mut self, now: Option<TailPosition>) {
        let Some(now) = now else { return };
        self.pending.push_back(Event::default().event("gap").id(now.to_string()).data("{\"skipped\":null}"));
        self.position = now;
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
        (Follower::new(store, LogQuery::default(), TailPosition::Row(0), Slot::take().unwrap()), dir)
    }

    fn row(id: &str, rowid: i64) -> TailRow {
        TailRow { position: TailPosition::Row(rowid), record: LogRecord::new(id, 1, "openai", "gpt-4o") }
    }

    #[tokio::test]
    async fn rows_read_again_are_sent_once() {
        let (mut f, dir) = follower().await;
        f.queue(row("a", 1));
        f.queue(row("b", 2));
        f.queue(row("a", 1));
        assert_eq!(f.pending.len(), 2);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn the_ids_remembered_are_bounded() {
        let (mut f, dir) = follower().await;
        for n in 0..(SEEN + 10) {
            assert!(f.remember(&format!("id-{n}")));
        }
        assert_eq!((f.seen.len(), f.seen_order.len()), (SEEN, SEEN));
        assert!(f.remember("id-0"), "the oldest were forgotten");
        assert!(!f.remember(&format!("id-{}", SEEN + 9)), "the newest are remembered");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn a_tail_that_falls_behind_skips_to_the_present_and_says_so() {
        let (mut f, dir) = follower().await;
        let mut rows: Vec<LogRecord> = (0..PAGE as usize * PAGES_PER_POLL + 1)
            .map(|n| LogRecord::new(format!("r{n:05}"), 1, "openai", "m"))
            .collect();
        f.store.insert_logs(&mut rows).await.unwrap();
        f.poll().await;
        let queued = f.pending.len();
        assert_eq!(queued, PAGE as usize * PAGES_PER_POLL + 1, "every page's rows and one gap");
        assert_eq!(f.position, f.store.tail_now().await.unwrap(), "on at the present");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn a_position_past_an_emptied_log_follows_its_new_rows() {
        let (mut f, dir) = follower().await;
        f.position = TailPosition::Row(5_000);
        f.poll().await;
        assert_eq!(f.position, TailPosition::Row(0));
        f.store.insert_logs(&mut vec![LogRecord::new("new", 1, "openai", "m")]).await.unwrap();
        f.poll().await;
        assert_eq!(f.pending.len(), 1);
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
