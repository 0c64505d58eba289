//! JSON values kept in text (SQLite) or JSONB (PostgreSQL) columns: writing them as text and reading them back,
//! with unreadable stored JSON reported as [`StoreError::Corrupt`] naming the column.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::db::RowExt;
use crate::error::StoreError;

/// Serialises a value for a JSON column. Maps, vectors of strings and `Value`s cannot fail to serialise; a
/// failure is still reported rather than unwrapped.
pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T, what: &'static str) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::corrupt(what, e))
}

/// Reads a non-null JSON column into `T`.
pub(crate) fn json_column<T: DeserializeOwned>(row: &dyn RowExt, column: &'static str) -> Result<T, StoreError> {
    serde_json::from_str(&row.text(column)?).map_err(|e| StoreError::corrupt(column, e))
}

/// Reads a nullable JSON column: `None` for NULL.
pub(crate) fn opt_json_column<T: DeserializeOwned>(
    row: &dyn RowExt,
    column: &'static str,
) -> Result<Option<T>, StoreError> {
    row.opt_text(column)?
        .map(|text| serde_json::from_str(&text).map_err(|e| StoreError::corrupt(column, e)))
        .transpose()
}

/// Serialises an optional value for a nullable JSON column.
pub(crate) fn opt_to_json<T: Serialize>(value: Option<&T>, what: &'static str) -> Result<Option<String>, StoreError> {
    value.map(|v| to_json(v, what)).transpose()
}

/// Reads an integer column into a narrower type, reporting out-of-range values instead of truncating them.
pub(crate) fn narrow<T: TryFrom<i64>>(row: &dyn RowExt, column: &'static str) -> Result<T, StoreError> {
    let value = row.int(column)?;
    T::try_from(value).map_err(|_| StoreError::corrupt(column, format!("{value} is out of range")))
}
