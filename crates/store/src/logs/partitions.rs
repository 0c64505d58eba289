//! PostgreSQL's request log is partitioned by UTC day of `created_at` (migration 0008): one partition a day, named
//! `request_logs_pYYYYMMDD`, plus `request_logs_default` for rows of a day that has none. This module owns that set
//! of partitions: making each day's before its rows arrive (moving out any the DEFAULT partition caught for it),
//! and retention by whole days. It holds no query logic: reads and writes go through the parent table, and
//! PostgreSQL reads only the partitions a time window names. SQLite's log is one table and never gets here.
//!
//! Every change to the set runs in a transaction that first takes one advisory lock (per log table), so gateway
//! instances doing upkeep or retention at the same moment take turns instead of failing on each other's DDL; then
//! its DDL waits at most [`LOCK_TIMEOUT`] for its table locks, because DDL queued behind a long read queues every
//! later read and write of the log behind itself. A pass that gives up is retried by the next one, and days are
//! made ahead of time so that a few missed passes cost nothing.

use switchboard_core::limits::period::civil_from_days;

use crate::db::{Backend, RowExt, Tx};
use crate::error::StoreError;
use crate::store::Store;

const DAY_MS: i64 = 86_400_000;

/// 9999-12-31, the last day that gets a partition (migration 0008 leaves later rows in DEFAULT too).
const LAST_DAY: u64 = 2_932_896;

/// How long partition DDL waits for a table lock before the pass gives up.
const LOCK_TIMEOUT: &str = "2s";

/// Catches rows of days that have no partition (migration 0008).
const DEFAULT_PARTITION: &str = "request_logs_default";

/// What a partition detached by retention is renamed to start with, until it is dropped. A crash between the two
/// leaves a table that the next pass recognises as retention's own (and drops), unlike a partition an operator
/// detached by hand to keep.
const EXPIRED_PREFIX: &str = "request_logs_expired_";

/// One partition of the PostgreSQL request log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogPartition {
    pub name: String,
    /// `created_at` from (inclusive) and to (exclusive), Unix ms; `None` for the DEFAULT partition (and for a
    /// partition made by hand with MINVALUE or MAXVALUE bounds).
    pub range: Option<(i64, i64)>,
}

/// The UTC day (days since the Unix epoch) that `unix_ms` falls on.
fn day_of(unix_ms: i64) -> i64 {
    unix_ms.div_euclid(DAY_MS)
}

/// `request_logs_pYYYYMMDD` for the UTC date of `day`, as migration 0008 names them too. Days before 1970 get no
/// partition of their own (0008 sends them to DEFAULT), so `day` is unsigned.
pub(crate) fn partition_name(day: u64) -> String {
    let (year, month, date) = civil_from_days(day);
    format!("request_logs_p{year:04}{month:02}{date:02}")
}

/// A table name as an SQL identifier.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The range of `FOR VALUES FROM ('a') TO ('b')` (PostgreSQL's text for a range partition's bound); `None` for
/// `DEFAULT` and for bounds that are not plain numbers.
fn parse_bound(bound: &str) -> Option<(i64, i64)> {
    let rest = bound.strip_prefix("FOR VALUES FROM (")?;
    let (from, to) = rest.split_once(") TO (")?;
    let number = |text: &str| text.trim_matches('\'').parse::<i64>().ok();
    Some((number(from)?, number(to.strip_suffix(')')?)?))
}

async fn run(tx: &mut Tx, text: &str) -> Result<u64, StoreError> {
    let sql = tx.sql(text, vec![]);
    tx.execute(&sql).await
}

/// Waits for this log's partition lock (held until the transaction ends), then bounds the DDL's lock waits.
async fn take_turn(tx: &mut Tx) -> Result<(), StoreError> {
    // 0x53424c47 is "SBLG"; the table's oid keeps stores in different schemas of one database apart.
    let lock = "SELECT 1 FROM (SELECT pg_advisory_xact_lock(1396853831, \
                CAST(CAST(CAST('request_logs' AS regclass) AS oid) AS integer))) AS locked";
    run(tx, lock).await?;
    run(tx, &format!("SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")).await?;
    Ok(())
}

async fn table_exists(tx: &mut Tx, name: &str) -> Result<bool, StoreError> {
    let sql = tx.sql("SELECT to_regclass($1) IS NOT NULL AS present", vec![quoted(name).into()]);
    Ok(tx.fetch_optional(&sql, |row| row.flag("present")).await?.unwrap_or(false))
}

impl Store {
    /// Makes the missing request-log partitions for the UTC days from `now_ms`'s through `days_ahead` days after it;
    /// returns how many it made. Rows the DEFAULT partition holds for such a day move into the new partition in the
    /// same transaction. Safe to run from several instances at once. SQLite: nothing to do, `Ok(0)`.
    pub async fn ensure_log_partitions(&self, now_ms: i64, days_ahead: u32) -> Result<u32, StoreError> {
        if self.backend() != Backend::Postgres {
            return Ok(0);
        }
        // A clock before 1970 makes nothing: those days' rows belong in DEFAULT.
        let today = u64::try_from(day_of(now_ms)).unwrap_or(0);
        let mut made = 0;
        for day in today..=today.saturating_add(u64::from(days_ahead)).min(LAST_DAY) {
            let mut tx = self.db.begin_write().await?;
            let work = make_partition(&mut tx, day).await;
            made += u32::from(tx.finish(work).await?);
        }
        Ok(made)
    }

    /// The request log's partitions, oldest first, DEFAULT last. Empty on SQLite.
    pub async fn log_partitions(&self) -> Result<Vec<LogPartition>, StoreError> {
        if self.backend() != Backend::Postgres {
            return Ok(Vec::new());
        }
        let sql = self.db.sql(
            "SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound \
             FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
             WHERE i.inhparent = CAST('request_logs' AS regclass)",
            vec![],
        );
        let row =
            |row: &dyn RowExt| Ok(LogPartition { name: row.text("name")?, range: parse_bound(&row.text("bound")?) });
        let mut partitions = self.db.fetch_all(&sql, row).await?;
        partitions.sort_by_key(|p| (p.range.is_none(), p.range, p.name.clone()));
        Ok(partitions)
    }
}

/// Makes `day`'s partition unless it exists; true when it made it.
async fn make_partition(tx: &mut Tx, day: u64) -> Result<bool, StoreError> {
    take_turn(tx).await?;
    let name = partition_name(day);
    if table_exists(tx, &name).await? {
        return Ok(false);
    }
    let from = DAY_MS * i64::try_from(day.min(LAST_DAY)).unwrap_or_default();
    let (table, to) = (quoted(&name), from + DAY_MS);
    // A table of its own first, holding the day's rows taken out of DEFAULT, then attached: CREATE TABLE ...
    // PARTITION OF fails while DEFAULT holds a row of the range, and it locks the whole log against reads and
    // writes while ATTACH lets the log's writers and readers of other days go on.
    run(tx, &format!("CREATE TABLE {table} (LIKE request_logs INCLUDING DEFAULTS)")).await?;
    run(
        tx,
        &format!(
            "WITH moved AS (DELETE FROM {DEFAULT_PARTITION} WHERE created_at >= {from} AND created_at < {to} \
             RETURNING *) INSERT INTO {table} SELECT * FROM moved"
        ),
    )
    .await?;
    run(tx, &format!("ALTER TABLE request_logs ATTACH PARTITION {table} FOR VALUES FROM ({from}) TO ({to})")).await?;
    Ok(true)
}

/// Retention on PostgreSQL: the days wholly before `cutoff` go by dropping their partitions, then the rows before
/// it in the day that straddles it (and in DEFAULT) by DELETE. Returns how many rows went, counted exactly: each
/// partition is counted after it is detached (no row can reach it then) and before it is dropped.
pub(crate) async fn delete_before(store: &Store, cutoff: i64) -> Result<u64, StoreError> {
    let partitions = store.log_partitions().await?;
    for partition in partitions.iter().filter(|p| p.range.is_some_and(|(_, to)| to <= cutoff)) {
        let mut tx = store.db.begin_write().await?;
        let work = detach(&mut tx, &partition.name).await;
        tx.finish(work).await?;
    }
    let mut deleted = 0;
    for name in expired_tables(store).await? {
        let mut tx = store.db.begin_write().await?;
        let work = count_and_drop(&mut tx, &name).await;
        deleted += tx.finish(work).await?;
    }
    let sql = store.db.sql("DELETE FROM request_logs WHERE created_at < $1", vec![cutoff.into()]);
    Ok(deleted + store.db.execute(&sql).await?)
}

/// Detaches a partition and renames it as expired; nothing when another instance did first. A row of its days
/// written later lands in DEFAULT, where the DELETE of the same pass finds it.
async fn detach(tx: &mut Tx, name: &str) -> Result<(), StoreError> {
    take_turn(tx).await?;
    let attached = tx.sql(
        "SELECT EXISTS (SELECT 1 FROM pg_inherits WHERE inhparent = CAST('request_logs' AS regclass) \
         AND inhrelid = to_regclass($1)) AS attached",
        vec![quoted(name).into()],
    );
    if !tx.fetch_optional(&attached, |row| row.flag("attached")).await?.unwrap_or(false) {
        return Ok(());
    }
    let table = quoted(name);
    run(tx, &format!("ALTER TABLE request_logs DETACH PARTITION {table}")).await?;
    let expired = quoted(&format!("{EXPIRED_PREFIX}{}", name.trim_start_matches("request_logs_")));
    run(tx, &format!("ALTER TABLE {table} RENAME TO {expired}")).await?;
    Ok(())
}

/// Tables retention detached and has not dropped yet (this pass's, or a crashed pass's), in the log's schema.
async fn expired_tables(store: &Store) -> Result<Vec<String>, StoreError> {
    let sql = store.db.sql(
        "SELECT relname AS name FROM pg_class WHERE relkind = 'r' AND starts_with(relname, $1) \
         AND relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = CAST('request_logs' AS regclass))",
        vec![EXPIRED_PREFIX.into()],
    );
    store.db.fetch_all(&sql, |row| row.text("name")).await
}

/// Counts an expired table's rows and drops it; 0 when another instance dropped it first.
async fn count_and_drop(tx: &mut Tx, name: &str) -> Result<u64, StoreError> {
    take_turn(tx).await?;
    if !table_exists(tx, name).await? {
        return Ok(0);
    }
    let table = quoted(name);
    let count = tx.sql(&format!("SELECT count(*) AS n FROM {table}"), vec![]);
    let rows = tx.fetch_optional(&count, |row| row.int("n")).await?.unwrap_or(0);
    run(tx, &format!("DROP TABLE {table}")).await?;
    Ok(u64::try_from(rows).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc_day(unix_ms: i64) -> u64 {
        u64::try_from(day_of(unix_ms)).unwrap()
    }

    #[test]
    fn partitions_are_named_after_their_utc_date() {
        assert_eq!(partition_name(0), "request_logs_p19700101");
        assert_eq!(partition_name(utc_day(1_764_633_599_999)), "request_logs_p20251201");
        assert_eq!(partition_name(utc_day(1_764_633_600_000)), "request_logs_p20251202");
        // Leap days, and a century that is not a leap year.
        assert_eq!(partition_name(utc_day(951_782_400_000)), "request_logs_p20000229");
        assert_eq!(partition_name(utc_day(4_107_542_400_000)), "request_logs_p21000301");
    }

    #[test]
    fn the_last_partitioned_day_is_the_last_day_migration_0008_partitions() {
        assert_eq!(partition_name(LAST_DAY), "request_logs_p99991231");
        assert_eq!(DAY_MS * i64::try_from(LAST_DAY + 1).unwrap() - 1, 253_402_300_799_999);
    }

    #[test]
    fn a_day_starts_at_utc_midnight() {
        assert_eq!((day_of(0), day_of(DAY_MS - 1), day_of(DAY_MS)), (0, 0, 1));
        assert_eq!(day_of(-1), -1, "before 1970 rounds down, not toward zero");
    }

    #[test]
    fn bounds_parse_from_postgres_text() {
        assert_eq!(parse_bound("FOR VALUES FROM ('432000000') TO ('518400000')"), Some((432_000_000, 518_400_000)));
        assert_eq!(parse_bound("DEFAULT"), None);
        assert_eq!(parse_bound("FOR VALUES FROM (MINVALUE) TO ('5')"), None);
    }

    #[test]
    fn names_are_quoted_as_identifiers() {
        assert_eq!(quoted("request_logs_p20261201"), "\"request_logs_p20261201\"");
        assert_eq!(quoted("a\"b"), "\"a\"\"b\"");
    }
}
