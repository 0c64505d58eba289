//! Query strings of the logs API. Metadata filters have dynamic names (`metadata.KEY=VALUE`),
//! so the raw pairs are read and checked here: each name known and given once, each value
//! valid, every refusal naming its parameter (`limit: expected 1 to 1000, got 5000`).

use std::collections::BTreeMap;

use crate::http::error::GatewayError;
use axum::extract::Query;
use http::Uri;
use switchboard_store::{LogQuery, StatusFilter, MAX_PAGE_SIZE};

use crate::support::time::parse_instant;

/// Filters shared by the list, the export and (`from`, `to`) the analytics.
pub const FILTERS: &[&str] =
    &["trace_id", "provider", "model", "status", "virtual_key", "config", "api_key_id", "from", "to"];

const METADATA_PREFIX: &str = "metadata.";

/// The parameters a request gave, each at most once; empty values count as absent.
pub struct Params(BTreeMap<String, String>);

fn bad(message: String) -> GatewayError {
    GatewayError::InvalidRequest(message)
}

impl Params {
    /// Reads `uri`'s query, refusing names outside `allowed` (and `metadata.*` unless
    /// `metadata` is true) and names given twice.
    pub fn from_uri(uri: &Uri, allowed: &[&str], metadata: bool) -> Result<Self, GatewayError> {
        let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(uri)
            .map_err(|e| bad(format!("query string is malformed: {e}")))?;
        let mut params = BTreeMap::new();
        for (name, value) in pairs {
            let known = allowed.contains(&name.as_str()) || (metadata && name.starts_with(METADATA_PREFIX));
            if !known {
                return Err(bad(unknown(&name, allowed, metadata)));
            }
            if params.contains_key(&name) {
                return Err(bad(format!("{name}: given more than once")));
            }
            params.insert(name, value);
        }
        params.retain(|_, value| !value.is_empty());
        Ok(Params(params))
    }

    pub fn take(&mut self, name: &str) -> Option<String> {
        self.0.remove(name)
    }

    /// `metadata.KEY=VALUE` pairs, in name order.
    fn take_metadata(&mut self) -> Vec<(String, String)> {
        let names: Vec<String> = self.0.keys().filter(|n| n.starts_with(METADATA_PREFIX)).cloned().collect();
        names
            .into_iter()
            .filter_map(|name| {
                let value = self.0.remove(&name)?;
                Some((name[METADATA_PREFIX.len()..].to_string(), value))
            })
            .collect()
    }

    /// The log filters (not `limit` or `cursor`).
    pub fn log_query(&mut self) -> Result<LogQuery, GatewayError> {
        let (from, to) = self.time_range()?;
        Ok(LogQuery {
            trace_id: self.take("trace_id"),
            provider: self.take("provider"),
            model: self.take("model"),
            status: self.take("status").map(|s| status(&s)).transpose()?,
            virtual_key: self.take("virtual_key"),
            config: self.take("config"),
            api_key_id: self.take("api_key_id"),
            metadata: self.take_metadata(),
            from,
            to,
            ..LogQuery::default()
        })
    }

    /// `from` (inclusive) and `to` (exclusive), `from` before `to`.
    pub fn time_range(&mut self) -> Result<(Option<i64>, Option<i64>), GatewayError> {
        let from = self.take("from").map(|v| instant("from", &v)).transpose()?;
        let to = self.take("to").map(|v| instant("to", &v)).transpose()?;
        if let (Some(from), Some(to)) = (from, to) {
            if from >= to {
                return Err(bad(format!("to: must be after from (from={from}, to={to} in Unix ms)")));
            }
        }
        Ok((from, to))
    }

    /// `limit`: 1 to 1000.
    pub fn limit(&mut self) -> Result<Option<u32>, GatewayError> {
        let Some(text) = self.take("limit") else { return Ok(None) };
        match text.parse::<u64>() {
            Ok(n @ 1..) if n <= u64::from(MAX_PAGE_SIZE) => Ok(u32::try_from(n).ok()),
            Ok(n) => Err(bad(format!("limit: expected 1 to {MAX_PAGE_SIZE}, got {n}"))),
            Err(_) => Err(bad(format!("limit: expected 1 to {MAX_PAGE_SIZE}, got {text:?}"))),
        }
    }

    /// A `true`/`false` switch.
    pub fn flag(&mut self, name: &str) -> Result<bool, GatewayError> {
        match self.take(name).as_deref() {
            None | Some("false") | Some("0") => Ok(false),
            Some("true") | Some("1") => Ok(true),
            Some(other) => Err(bad(format!("{name}: expected true or false, got {other:?}"))),
        }
    }
}

fn unknown(name: &str, allowed: &[&str], metadata: bool) -> String {
    let mut expected = allowed.join(", ");
    if metadata {
        expected.push_str(", metadata.KEY");
    }
    format!("{name}: unknown query parameter (expected {expected})")
}

fn instant(name: &str, value: &str) -> Result<i64, GatewayError> {
    parse_instant(value).ok_or_else(|| {
        bad(format!(
            "{name}: expected Unix milliseconds or an RFC 3339 timestamp (2024-06-10T06:13:20Z), got {value:?}"
        ))
    })
}

/// `200`, `4xx`, `5xx`, or `error` (any status from 400).
fn status(value: &str) -> Result<StatusFilter, GatewayError> {
    if value.eq_ignore_ascii_case("error") {
        return Ok(StatusFilter::Range { min: 400, max: 999 });
    }
    let filter = value
        .parse::<StatusFilter>()
        .map_err(|_| bad(format!("status: expected a code like 429, a class like 5xx, or error, got {value:?}")))?;
    match filter {
        StatusFilter::Exact(code) if !(100..=999).contains(&code) => {
            Err(bad(format!("status: expected a code from 100 to 999, got {code}")))
        }
        filter => Ok(filter),
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "a failed test should stop loudly")]
mod tests {
    use super::*;

    fn params(query: &str, allowed: &[&str]) -> Result<Params, GatewayError> {
        let uri: Uri = format!("/v1/logs?{query}").parse().map_err(|e| bad(format!("{e}")))?;
        Params::from_uri(&uri, allowed, true)
    }

    fn message(err: GatewayError) -> String {
        err.to_string()
    }

    #[test]
    fn metadata_filters_keep_their_key_and_decoded_value() {
        let mut p = params("metadata.user=a%20b&metadata.team=x+y&provider=openai", FILTERS).unwrap();
        let q = p.log_query().unwrap();
        assert_eq!(q.metadata, [("team".to_string(), "x y".to_string()), ("user".to_string(), "a b".to_string())]);
        assert_eq!(q.provider.as_deref(), Some("openai"));
    }

    #[test]
    fn unknown_and_repeated_parameters_are_refused_by_name() {
        let err = message(params("provder=openai", FILTERS).err().unwrap());
        assert!(err.starts_with("provder: unknown query parameter"), "{err}");
        let err = message(params("model=a&model=b", FILTERS).err().unwrap());
        assert_eq!(err, "model: given more than once");
    }

    #[test]
    fn status_accepts_codes_classes_and_error() {
        assert_eq!(status("200").unwrap(), StatusFilter::Exact(200));
        assert_eq!(status("4xx").unwrap(), StatusFilter::Range { min: 400, max: 499 });
        assert_eq!(status("error").unwrap(), StatusFilter::Range { min: 400, max: 999 });
        assert!(message(status("oops").err().unwrap()).starts_with("status: "));
        assert!(message(status("42").err().unwrap()).starts_with("status: "));
    }

    #[test]
    fn limit_outside_one_to_a_thousand_names_the_value() {
        let mut p = params("limit=5000", &["limit"]).unwrap();
        assert_eq!(message(p.limit().err().unwrap()), "limit: expected 1 to 1000, got 5000");
        let mut p = params("limit=ten", &["limit"]).unwrap();
        assert_eq!(message(p.limit().err().unwrap()), "limit: expected 1 to 1000, got \"ten\"");
        let mut p = params("limit=1000", &["limit"]).unwrap();
        assert_eq!(p.limit().unwrap(), Some(1000));
    }

    #[test]
    fn from_must_come_before_to() {
        let mut p = params("from=2024-06-10&to=1000", FILTERS).unwrap();
        assert!(message(p.time_range().err().unwrap()).starts_with("to: must be after from"));
        let mut p = params("from=yesterday", FILTERS).unwrap();
        assert!(message(p.time_range().err().unwrap()).starts_with("from: expected Unix milliseconds"));
    }
}
