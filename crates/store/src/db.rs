//! The one place that knows there are two database engines.
//!
//! Everything above this module writes its SQL once, binds backend-neutral [`Param`]s and reads rows through
//! [`RowExt`]. Fixed statements use `$n` placeholders, which sqlx's SQLite driver accepts too; statements built
//! with [`Sql::arg`] get `$n` on PostgreSQL but plain `?` on SQLite, because SQLite resolves named parameters by a
//! linear search, which made a 15,000-parameter batch INSERT quadratic (0.8 s per 1,000 log rows). This module owns the pools, the
//! transactions and the few spelling differences between the dialects ([`Backend`]). It must not hold any
//! business rule: no table names appear here.

use std::borrow::Cow;

use sqlx::postgres::{PgArguments, PgPool, PgRow, Postgres};
use sqlx::query::Query;
use sqlx::sqlite::{Sqlite, SqliteArguments, SqlitePool, SqliteRow};
use sqlx::{Row, Transaction};

use crate::error::StoreError;

/// Which database engine a [`crate::Store`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The engine's name, for logs and health output.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// The placeholder for the `n`th parameter of a built statement: positional `?` on SQLite (see the module
    /// docs), `$n` on PostgreSQL.
    pub(crate) fn placeholder(self, n: usize) -> String {
        match self {
            Backend::Sqlite => "?".to_owned(),
            Backend::Postgres => format!("${n}"),
        }
    }

    /// Like [`Backend::placeholder`] for JSON text that lands in a JSON column.
    pub(crate) fn json_placeholder(self, n: usize) -> String {
        match self {
            Backend::Sqlite => "?".to_owned(),
            Backend::Postgres => format!("${n}::jsonb"),
        }
    }

    /// A JSON column read back as text.
    pub(crate) fn json_column(self, column: &str) -> String {
        match self {
            Backend::Sqlite => column.to_owned(),
            Backend::Postgres => format!("{column}::text AS {column}"),
        }
    }

    /// The text value of one top-level key of a JSON column. `key_placeholder` must be bound to
    /// [`Backend::json_key_path`] of the key.
    pub(crate) fn json_text_at(self, column: &str, key_placeholder: &str) -> String {
        match self {
            Backend::Sqlite => format!("CAST(json_extract({column}, {key_placeholder}) AS TEXT)"),
            Backend::Postgres => format!("({column} ->> {key_placeholder})"),
        }
    }

    /// How a top-level key is addressed: a quoted JSON path on SQLite (so a dot stays part of the key), the
    /// bare key on PostgreSQL. The caller validates the key first; it never contains a quote.
    pub(crate) fn json_key_path(self, key: &str) -> String {
        match self {
            Backend::Sqlite => format!("$.\"{key}\""),
            Backend::Postgres => key.to_owned(),
        }
    }
}

/// One bound value, independent of the engine.
#[derive(Debug, Clone)]
pub(crate) enum Param<'a> {
    Text(Option<Cow<'a, str>>),
    Int(Option<i64>),
    Real(Option<f64>),
    Bool(bool),
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(value: &'a str) -> Self {
        Param::Text(Some(Cow::Borrowed(value)))
    }
}

impl<'a> From<Option<&'a str>> for Param<'a> {
    fn from(value: Option<&'a str>) -> Self {
        Param::Text(value.map(Cow::Borrowed))
    }
}

impl From<String> for Param<'_> {
    fn from(value: String) -> Self {
        Param::Text(Some(Cow::Owned(value)))
    }
}

impl From<Option<String>> for Param<'_> {
    fn from(value: Option<String>) -> Self {
        Param::Text(value.map(Cow::Owned))
    }
}

impl From<i64> for Param<'_> {
    fn from(value: i64) -> Self {
        Param::Int(Some(value))
    }
}

impl From<Option<i64>> for Param<'_> {
    fn from(value: Option<i64>) -> Self {
        Param::Int(value)
    }
}

impl From<Option<f64>> for Param<'_> {
    fn from(value: Option<f64>) -> Self {
        Param::Real(value)
    }
}

impl From<bool> for Param<'_> {
    fn from(value: bool) -> Self {
        Param::Bool(value)
    }
}

/// SQL text plus its parameters, built together so placeholders and values cannot drift apart.
///
/// A statement built piecewise must write each placeholder from [`Sql::arg`] into the text exactly once, in the
/// order the placeholders were made: on SQLite they are positional. (Statements from [`Sql::with`] number their
/// own `$n` and may repeat one.) Every statement runs on both backends in the test suite, which catches a slip.
#[derive(Debug, Clone)]
pub(crate) struct Sql<'a> {
    backend: Backend,
    text: String,
    params: Vec<Param<'a>>,
}

impl<'a> Sql<'a> {
    pub(crate) fn new(backend: Backend, text: impl Into<String>) -> Self {
        Sql { backend, text: text.into(), params: Vec::new() }
    }

    /// A statement and all its parameters at once (placeholders `$1..$n` in order).
    pub(crate) fn with(backend: Backend, text: &str, params: Vec<Param<'a>>) -> Self {
        Sql { backend, text: text.to_owned(), params }
    }

    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Records a parameter and returns its placeholder, to be written into the text by the caller once, after
    /// every placeholder made before it.
    pub(crate) fn arg(&mut self, value: impl Into<Param<'a>>) -> String {
        self.params.push(value.into());
        self.backend.placeholder(self.params.len())
    }

    /// Records a parameter whose placeholder the text already holds (statements whose text is built once and
    /// reused, in parameter order).
    pub(crate) fn bind(&mut self, value: impl Into<Param<'a>>) {
        self.params.push(value.into());
    }

    /// Like [`Sql::arg`] for JSON text that lands in a JSON column.
    pub(crate) fn json_arg(&mut self, json: String) -> String {
        self.params.push(Param::from(json));
        self.backend.json_placeholder(self.params.len())
    }

    /// The parameters in binding order (the SQLite log writer binds them itself).
    pub(crate) fn params(&self) -> &[Param<'a>] {
        &self.params
    }

    /// Forgets the parameters, keeping their allocation, to bind the statement's next row.
    pub(crate) fn clear_params(&mut self) {
        self.params.clear();
    }

    /// The same statement under `EXPLAIN QUERY PLAN` (SQLite), to check which index a query uses.
    #[cfg(test)]
    pub(crate) fn explained(mut self) -> Self {
        self.text.insert_str(0, "EXPLAIN QUERY PLAN ");
        self
    }

    #[cfg(test)]
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    #[cfg(test)]
    pub(crate) fn param_count(&self) -> usize {
        self.params.len()
    }
}

/// Typed reads from a row of either engine; every failure becomes a [`StoreError`].
pub(crate) trait RowExt {
    fn text(&self, column: &str) -> Result<String, StoreError>;
    fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError>;
    fn int(&self, column: &str) -> Result<i64, StoreError>;
    fn opt_int(&self, column: &str) -> Result<Option<i64>, StoreError>;
    fn real(&self, column: &str) -> Result<f64, StoreError>;
    fn opt_real(&self, column: &str) -> Result<Option<f64>, StoreError>;
    fn flag(&self, column: &str) -> Result<bool, StoreError>;
}

macro_rules! impl_row_ext {
    ($row:ty) => {
        impl RowExt for $row {
            fn text(&self, column: &str) -> Result<String, StoreError> {
                Ok(self.try_get(column)?)
            }
            fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError> {
                Ok(self.try_get(column)?)
            }
            fn int(&self, column: &str) -> Result<i64, StoreError> {
                Ok(self.try_get(column)?)
            }
            fn opt_int(&self, column: &str) -> Result<Option<i64>, StoreError> {
                Ok(self.try_get(column)?)
            }
            fn real(&self, column: &str) -> Result<f64, StoreError> {
                Ok(self.try_get(column)?)
            }
            fn opt_real(&self, column: &str) -> Result<Option<f64>, StoreError> {
                Ok(self.try_get(column)?)
            }
            fn flag(&self, column: &str) -> Result<bool, StoreError> {
                Ok(self.try_get(column)?)
            }
        }
    };
}

impl_row_ext!(SqliteRow);
impl_row_ext!(PgRow);

/// Binds every parameter of `sql` to a query of either engine; the body is the same for both.
macro_rules! bind_params {
    ($sql:expr) => {
        $sql.params.iter().fold(sqlx::query(&$sql.text), |query, param| match param {
            Param::Text(value) => query.bind(value.as_deref()),
            Param::Int(value) => query.bind(*value),
            Param::Real(value) => query.bind(*value),
            Param::Bool(value) => query.bind(*value),
        })
    };
}

fn sqlite_query<'q>(sql: &'q Sql<'q>) -> Query<'q, Sqlite, SqliteArguments<'q>> {
    bind_params!(sql)
}

fn pg_query<'q>(sql: &'q Sql<'q>) -> Query<'q, Postgres, PgArguments> {
    bind_params!(sql)
}

fn map_rows<R: RowExt, T>(
    rows: &[R],
    map: impl Fn(&dyn RowExt) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    rows.iter().map(|row| map(row)).collect()
}

/// A connection pool of either engine. Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Db {
    pub(crate) fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    pub(crate) fn sql<'a>(&self, text: &str, params: Vec<Param<'a>>) -> Sql<'a> {
        Sql::with(self.backend(), text, params)
    }

    /// Runs one statement outside a transaction; returns the number of rows affected.
    pub(crate) async fn execute(&self, sql: &Sql<'_>) -> Result<u64, StoreError> {
        Ok(match self {
            Db::Sqlite(pool) => sqlite_query(sql).execute(pool).await?.rows_affected(),
            Db::Postgres(pool) => pg_query(sql).execute(pool).await?.rows_affected(),
        })
    }

    pub(crate) async fn fetch_all<T>(
        &self,
        sql: &Sql<'_>,
        map: impl Fn(&dyn RowExt) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        match self {
            Db::Sqlite(pool) => map_rows(&sqlite_query(sql).fetch_all(pool).await?, map),
            Db::Postgres(pool) => map_rows(&pg_query(sql).fetch_all(pool).await?, map),
        }
    }

    pub(crate) async fn fetch_optional<T>(
        &self,
        sql: &Sql<'_>,
        map: impl Fn(&dyn RowExt) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        match self {
            Db::Sqlite(pool) => sqlite_query(sql).fetch_optional(pool).await?.map(|row| map(&row)).transpose(),
            Db::Postgres(pool) => pg_query(sql).fetch_optional(pool).await?.map(|row| map(&row)).transpose(),
        }
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock up front (`BEGIN IMMEDIATE`), so a
    /// read-then-write transaction waits for `busy_timeout` instead of failing when another writer got in first.
    pub(crate) async fn begin_write(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    pub(crate) async fn close(&self) {
        match self {
            Db::Sqlite(pool) => pool.close().await,
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

/// An open transaction of either engine. Dropping it without [`Tx::commit`] rolls it back.
pub(crate) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    pub(crate) fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }

    pub(crate) fn sql<'a>(&self, text: &str, params: Vec<Param<'a>>) -> Sql<'a> {
        Sql::with(self.backend(), text, params)
    }

    pub(crate) async fn execute(&mut self, sql: &Sql<'_>) -> Result<u64, StoreError> {
        Ok(match self {
            Tx::Sqlite(tx) => sqlite_query(sql).execute(&mut **tx).await?.rows_affected(),
            Tx::Postgres(tx) => pg_query(sql).execute(&mut **tx).await?.rows_affected(),
        })
    }

    pub(crate) async fn fetch_all<T>(
        &mut self,
        sql: &Sql<'_>,
        map: impl Fn(&dyn RowExt) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        match self {
            Tx::Sqlite(tx) => map_rows(&sqlite_query(sql).fetch_all(&mut **tx).await?, map),
            Tx::Postgres(tx) => map_rows(&pg_query(sql).fetch_all(&mut **tx).await?, map),
        }
    }

    pub(crate) async fn fetch_optional<T>(
        &mut self,
        sql: &Sql<'_>,
        map: impl Fn(&dyn RowExt) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        match self {
            Tx::Sqlite(tx) => sqlite_query(sql).fetch_optional(&mut **tx).await?.map(|row| map(&row)).transpose(),
            Tx::Postgres(tx) => pg_query(sql).fetch_optional(&mut **tx).await?.map(|row| map(&row)).transpose(),
        }
    }

    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }

    /// Commits after `work` succeeded; rolls back at once after it failed. (A dropped sqlx
    /// transaction is rolled back only when its connection is next used, and until then,
    /// on PostgreSQL, it holds its locks: here the control-plane generation row, which every
    /// other control-plane write waits for.)
    pub(crate) async fn finish<T>(self, work: Result<T, StoreError>) -> Result<T, StoreError> {
        match work {
            Ok(value) => {
                self.commit().await?;
                Ok(value)
            }
            Err(err) => {
                if let Err(rollback) = self.rollback().await {
                    tracing::warn!("rollback after a failed write: {rollback}");
                }
                Err(err)
            }
        }
    }

    pub(crate) async fn rollback(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(tx) => tx.rollback().await?,
            Tx::Postgres(tx) => tx.rollback().await?,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_built_statements_use_positional_placeholders() {
        let mut sql = Sql::new(Backend::Sqlite, "");
        assert_eq!((sql.arg(1), sql.json_arg("{}".to_owned())), ("?".to_owned(), "?".to_owned()));
    }

    #[test]
    fn placeholders_number_parameters_in_order() {
        let mut sql = Sql::new(Backend::Postgres, "");
        let a = sql.arg("x");
        let b = sql.json_arg("{}".to_owned());
        assert_eq!((a.as_str(), b.as_str()), ("$1", "$2::jsonb"));
        assert_eq!(sql.param_count(), 2);
    }

    #[test]
    fn sqlite_json_key_path_keeps_dots_inside_the_key() {
        assert_eq!(Backend::Sqlite.json_key_path("user.id"), "$.\"user.id\"");
        assert_eq!(Backend::Postgres.json_key_path("user.id"), "user.id");
    }
}
