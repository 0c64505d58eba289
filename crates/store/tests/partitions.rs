//! PostgreSQL's request log partitioned by day: upkeep that makes days ahead (also from several instances at
//! once, also after DEFAULT caught rows of the day), retention that drops whole days yet deletes exactly the rows
//! before its cutoff, and migration 0008 keeping every row of an unpartitioned log. SQLite has none of this: its
//! calls are no-ops.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use sqlx::PgPool;
use switchboard_store::{open, LogPartition, LogQuery, LogRecord, Store, StoreLocation};

use common::log;

const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;
/// 2024-10-04T00:00:00Z: the tests' "today" (upkeep and retention take the time as an argument).
const TODAY: i64 = 20_000 * DAY;

fn url(location: &StoreLocation) -> &str {
    match location {
        StoreLocation::Postgres(url) => url,
        StoreLocation::Sqlite(_) => unreachable!("a PostgreSQL test"),
    }
}

async fn raw(location: &StoreLocation) -> PgPool {
    PgPool::connect(url(location)).await.unwrap()
}

/// Which partition holds each row, by id.
async fn placement(pool: &PgPool) -> BTreeMap<String, String> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT id, tableoid::regclass::text FROM request_logs").fetch_all(pool).await.unwrap();
    rows.into_iter().collect()
}

fn names(partitions: &[LogPartition]) -> Vec<&str> {
    partitions.iter().map(|p| p.name.as_str()).collect()
}

async fn all_ids(store: &Store) -> BTreeSet<String> {
    let page = store.query_logs(&LogQuery { limit: Some(1000), ..LogQuery::default() }).await.unwrap();
    assert_eq!(page.next_cursor, None);
    page.items.into_iter().map(|r| r.id).collect()
}

#[tokio::test]
async fn sqlite_has_no_partitions_to_keep() {
    let db = common::sqlite().await;
    assert_eq!(db.store.ensure_log_partitions(TODAY, 3).await.unwrap(), 0);
    assert!(db.store.log_partitions().await.unwrap().is_empty());
}

#[tokio::test]
async fn upkeep_makes_today_and_the_days_ahead_once() {
    let Some(db) = common::postgres().await else { return };
    let fresh = db.store.log_partitions().await.unwrap();
    assert_eq!(names(&fresh), ["request_logs_default"], "an empty log has only DEFAULT");
    assert_eq!(db.store.ensure_log_partitions(TODAY + 5 * HOUR, 3).await.unwrap(), 4);
    assert_eq!(db.store.ensure_log_partitions(TODAY + 6 * HOUR, 3).await.unwrap(), 0, "nothing twice");
    let partitions = db.store.log_partitions().await.unwrap();
    let want = ["request_logs_p20241004", "request_logs_p20241005", "request_logs_p20241006", "request_logs_p20241007"];
    assert_eq!(names(&partitions), [&want[..], &["request_logs_default"]].concat());
    assert_eq!(partitions[0].range, Some((TODAY, TODAY + DAY)));
    assert_eq!(partitions[3].range, Some((TODAY + 3 * DAY, TODAY + 4 * DAY)));
    assert_eq!(partitions[4].range, None);
    // The next day's pass adds one more day.
    assert_eq!(db.store.ensure_log_partitions(TODAY + DAY, 3).await.unwrap(), 1);
}

#[tokio::test]
async fn a_row_of_a_day_without_a_partition_lands_in_default_and_its_batch_succeeds() {
    let Some(db) = common::postgres().await else { return };
    db.store.ensure_log_partitions(TODAY, 1).await.unwrap();
    let (today, past, future) = (log(1, TODAY + HOUR), log(2, 1_000), log(3, 4_102_444_800_000));
    db.store.insert_logs(&mut vec![today.clone(), past.clone(), future.clone()]).await.unwrap();
    let pool = raw(&db.location).await;
    let placed = placement(&pool).await;
    assert_eq!(placed[&today.id], "request_logs_p20241004");
    assert_eq!(
        (placed[&past.id].as_str(), placed[&future.id].as_str()),
        ("request_logs_default", "request_logs_default")
    );
    for record in [today, past, future] {
        assert_eq!(db.store.get_log(&record.id).await.unwrap(), Some(record));
    }
    assert_eq!(all_ids(&db.store).await.len(), 3);
}

#[tokio::test]
async fn upkeep_moves_the_rows_default_caught_into_the_day_it_makes() {
    let Some(db) = common::postgres().await else { return };
    let later = TODAY + 10 * DAY;
    let mut early: Vec<LogRecord> = (0..120).map(|n| log(n, later + (n as i64) * 60_000)).collect();
    let other_day = log(500, later + DAY + HOUR);
    db.store.insert_logs(&mut early).await.unwrap();
    db.store.insert_logs(&mut vec![other_day.clone()]).await.unwrap();
    assert_eq!(
        db.store.ensure_log_partitions(later, 0).await.unwrap(),
        1,
        "DEFAULT holding the day's rows is no error"
    );
    let placed = placement(&raw(&db.location).await).await;
    assert!(early.iter().all(|r| placed[&r.id] == "request_logs_p20241014"), "{placed:?}");
    assert_eq!(placed[&other_day.id], "request_logs_default", "another day's row stays");
    assert_eq!(db.store.get_log(&early[7].id).await.unwrap(), Some(early[7].clone()));
    // The writer's retry of a batch already stored still skips every row (ON CONFLICT on (id, created_at)).
    db.store.insert_logs(&mut early).await.unwrap();
    assert_eq!(all_ids(&db.store).await.len(), 121);
    // And the next pass finds the day made.
    assert_eq!(db.store.ensure_log_partitions(later, 1).await.unwrap(), 1);
}

#[tokio::test]
async fn instances_doing_upkeep_at_once_never_fail_and_make_each_day_once() {
    let Some(db) = common::postgres().await else { return };
    let others = [open(&db.location).await.unwrap(), open(&db.location).await.unwrap()];
    db.store.insert_logs(&mut vec![log(1, TODAY + 2 * DAY)]).await.unwrap();
    let (a, b, c) = tokio::join!(
        db.store.ensure_log_partitions(TODAY, 5),
        others[0].ensure_log_partitions(TODAY, 5),
        others[1].ensure_log_partitions(TODAY, 5),
    );
    assert_eq!(a.unwrap() + b.unwrap() + c.unwrap(), 6);
    assert_eq!(db.store.log_partitions().await.unwrap().len(), 7);
    assert_eq!(placement(&raw(&db.location).await).await["log-0000001"], "request_logs_p20241006");
}

/// Four days of partitions from two days before [`TODAY`], with rows every six hours of each, two rows in DEFAULT
/// long before and one after.
async fn four_days_of_logs(store: &Store) -> Vec<LogRecord> {
    let first = TODAY - 2 * DAY;
    store.ensure_log_partitions(first, 3).await.unwrap();
    let mut rows: Vec<LogRecord> = (0..16).map(|n| log(n, first + (n as i64) * 6 * HOUR)).collect();
    rows.extend([log(100, 1_000), log(101, 2_000), log(102, TODAY + 30 * DAY)]);
    store.insert_logs(&mut rows).await.unwrap();
    rows
}

#[tokio::test]
async fn retention_drops_whole_days_and_deletes_exactly_the_rows_before_the_cutoff() {
    let Some(db) = common::postgres().await else { return };
    let rows = four_days_of_logs(&db.store).await;
    // Mid-morning of the third day: days one and two go whole, the third loses its 00:00 and 06:00 rows.
    let cutoff = TODAY + 9 * HOUR;
    let gone = rows.iter().filter(|r| r.created_at < cutoff).count() as u64;
    assert_eq!(gone, 8 + 2 + 2);
    assert_eq!(db.store.delete_logs_before(cutoff).await.unwrap(), gone);
    let kept: BTreeSet<String> = rows.iter().filter(|r| r.created_at >= cutoff).map(|r| r.id.clone()).collect();
    assert_eq!(all_ids(&db.store).await, kept);
    let partitions = db.store.log_partitions().await.unwrap();
    assert_eq!(names(&partitions), ["request_logs_p20241004", "request_logs_p20241005", "request_logs_default"]);
    let pool = raw(&db.location).await;
    let tables: Vec<(String,)> =
        sqlx::query_as("SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(tables.iter().all(|(t,)| !t.contains("20241002") && !t.contains("20241003")), "dropped: {tables:?}");
    assert_eq!(db.store.delete_logs_before(cutoff).await.unwrap(), 0, "a second pass finds nothing");
    // Upkeep after retention still works, and rows still land where they belong.
    assert_eq!(db.store.ensure_log_partitions(TODAY, 3).await.unwrap(), 2);
    db.store.insert_logs(&mut vec![log(200, TODAY + DAY + HOUR)]).await.unwrap();
    assert_eq!(placement(&pool).await["log-0000200"], "request_logs_p20241005");
}

#[tokio::test]
async fn retention_counts_and_drops_a_partition_a_crashed_pass_detached() {
    let Some(db) = common::postgres().await else { return };
    let rows = four_days_of_logs(&db.store).await;
    // A pass that died after detaching and renaming day one, before dropping it.
    let pool = raw(&db.location).await;
    sqlx::raw_sql(
        "ALTER TABLE request_logs DETACH PARTITION request_logs_p20241002; \
         ALTER TABLE request_logs_p20241002 RENAME TO request_logs_expired_p20241002",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(all_ids(&db.store).await.len(), rows.len() - 4, "a detached day is out of the log");
    // The next pass, with a cutoff that takes nothing else but the two old DEFAULT rows, drops it and counts it.
    assert_eq!(db.store.delete_logs_before(TODAY - 2 * DAY).await.unwrap(), 4 + 2);
    let left: Option<(String,)> = sqlx::query_as(
        "SELECT relname::text FROM pg_class WHERE relname LIKE '%expired%' \
         AND relnamespace = CAST(current_schema() AS regnamespace)",
    )
    .fetch_optional(&pool)
    .await
    .unwrap();
    assert_eq!(left, None);
}

#[tokio::test]
async fn retention_from_several_instances_at_once_counts_each_row_once() {
    let Some(db) = common::postgres().await else { return };
    let rows = four_days_of_logs(&db.store).await;
    let other = open(&db.location).await.unwrap();
    let cutoff = TODAY + 9 * HOUR;
    let (a, b) = tokio::join!(db.store.delete_logs_before(cutoff), other.delete_logs_before(cutoff));
    let gone = rows.iter().filter(|r| r.created_at < cutoff).count() as u64;
    assert_eq!(a.unwrap() + b.unwrap(), gone);
    assert_eq!(all_ids(&db.store).await.len(), rows.len() - gone as usize);
}

/// Migrations 0001 to 0007 only: the log as it was before partitioning.
async fn migrate_to_0007(pool: &PgPool) {
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let dir = common::temp_dir();
    for entry in std::fs::read_dir(&source).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name.as_str() < "0008" {
            std::fs::copy(&path, dir.join(&name)).unwrap();
        }
    }
    sqlx::migrate::Migrator::new(dir.clone()).await.unwrap().run(pool).await.unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}

/// A row as a gateway before migration 0008 wrote it (no store of this version can write that table).
async fn insert_old_row(pool: &PgPool, record: &LogRecord, logged_at: Option<i64>) {
    sqlx::query(
        "INSERT INTO request_logs (id, created_at, trace_id, metadata, provider, requested_model, status, latency_ms, \
         stream, retry_count, unpriced, attempts, error_class, logged_at) \
         VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13, $14)",
    )
    .bind(&record.id)
    .bind(record.created_at)
    .bind(&record.trace_id)
    .bind(serde_json::to_string(&record.metadata).unwrap())
    .bind(&record.provider)
    .bind(&record.requested_model)
    .bind(i64::from(record.status))
    .bind(record.latency_ms)
    .bind(record.stream)
    .bind(i64::from(record.retry_count))
    .bind(record.unpriced)
    .bind(serde_json::to_string(&record.attempts).unwrap())
    .bind(&record.error_class)
    .bind(logged_at)
    .execute(pool)
    .await
    .unwrap();
}

fn old_row(n: usize, created_at: i64) -> LogRecord {
    let mut record = LogRecord::new(format!("old-{n:03}"), created_at, "openai", "gpt-4o");
    record.trace_id = Some(format!("trace-{}", n % 3));
    record.metadata = serde_json::Map::from_iter([("user".to_owned(), serde_json::json!(format!("u{n}")))]);
    (record.status, record.latency_ms, record.stream) = (200, 10 + n as i64, n % 2 == 0);
    record.attempts = serde_json::from_value(serde_json::json!([{"provider": "openai", "status": 200}])).unwrap();
    record.error_class = (n == 3).then(|| "rate_limit".to_owned());
    record
}

#[tokio::test]
async fn migration_to_partitions_keeps_every_row_of_an_unpartitioned_log() {
    let Some((location, _cleanup)) = common::postgres_schema().await else { return };
    let pool = raw(&location).await;
    migrate_to_0007(&pool).await;
    // Three days with rows, one row before 1970 and one past year 9999 (both for DEFAULT), one never tailed.
    let mut rows: Vec<LogRecord> = (0..30).map(|n| old_row(n, TODAY - DAY + (n as i64) * 2 * HOUR)).collect();
    rows.extend([old_row(90, -5), old_row(91, 253_402_300_800_000)]);
    for (n, record) in rows.iter().enumerate() {
        insert_old_row(&pool, record, (n != 4).then_some(record.created_at + 7)).await;
    }
    let store = open(&location).await.unwrap();
    let partitions = store.log_partitions().await.unwrap();
    let want = ["request_logs_p20241003", "request_logs_p20241004", "request_logs_p20241005", "request_logs_default"];
    assert_eq!(names(&partitions), want);
    for record in &rows {
        assert_eq!(store.get_log(&record.id).await.unwrap().as_ref(), Some(record), "{}", record.id);
    }
    let placed = placement(&pool).await;
    assert_eq!(
        (placed["old-090"].as_str(), placed["old-091"].as_str()),
        ("request_logs_default", "request_logs_default")
    );
    assert_eq!(all_ids(&store).await.len(), rows.len());
    // Every index came back (and 0009's are there), on the parent and so on each partition.
    let indexes: Vec<(String,)> = sqlx::query_as(
        "SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'request_logs' \
         ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut indexes: Vec<&str> = indexes.iter().map(|(name,)| name.as_str()).collect();
    indexes.sort_unstable();
    let expected = [
        "request_logs_api_key",
        "request_logs_config",
        "request_logs_created",
        "request_logs_failed",
        "request_logs_logged_at",
        "request_logs_pkey",
        "request_logs_provider",
        "request_logs_provider_failed",
        "request_logs_requested_model",
        "request_logs_served_model",
        "request_logs_trace",
        "request_logs_virtual_key",
    ];
    assert_eq!(indexes, expected);
    let (on_a_day,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() \
         AND tablename = 'request_logs_p20241004'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(on_a_day, expected.len() as i64, "a partition has each of the parent's indexes");
    // Upkeep finds the migration's days made under the names it would have given them.
    assert_eq!(store.ensure_log_partitions(TODAY - DAY, 2).await.unwrap(), 0);
}
