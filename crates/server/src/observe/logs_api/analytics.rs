//! `GET /v1/analytics/summary?group_by=provider|model|config|virtual_key&from=&to=`: requests,
//! errors, tokens, cost and latency percentiles per group, aggregated by the store.

use crate::http::error::GatewayError;
use axum::extract::State;
use http::{HeaderMap, Uri};
use serde::Serialize;
use switchboard_store::{GroupBy, SummaryRow};

use super::params::Params;
use super::{admin, json, Reply};
use crate::control::SharedApi;

#[derive(Serialize)]
struct Summary {
    object: &'static str,
    group_by: GroupBy,
    data: Vec<Group>,
}

#[derive(Serialize)]
struct Group {
    key: Option<String>,
    requests: i64,
    errors: i64,
    unpriced: i64,
    prompt_tokens: i64,
    completion_tokens: i64,
    total_tokens: i64,
    cost_usd: f64,
    latency_ms: Percentiles,
}

#[derive(Serialize)]
struct Percentiles {
    p50: i64,
    p95: i64,
    p99: i64,
}

impl From<SummaryRow> for Group {
    fn from(row: SummaryRow) -> Self {
        Group {
            key: row.key,
            requests: row.requests,
            errors: row.errors,
            unpriced: row.unpriced,
            prompt_tokens: row.prompt_tokens,
            completion_tokens: row.completion_tokens,
            total_tokens: row.total_tokens,
            cost_usd: row.cost_usd,
            latency_ms: Percentiles { p50: row.latency_p50_ms, p95: row.latency_p95_ms, p99: row.latency_p99_ms },
        }
    }
}

pub async fn summary(State(state): State<SharedApi>, headers: HeaderMap, uri: Uri) -> Reply {
    summarise(&state, &headers, &uri).await
}

async fn summarise(state: &SharedApi, headers: &HeaderMap, uri: &Uri) -> Reply {
    admin(state, headers).await?;
    let mut params = Params::from_uri(uri, &["group_by", "from", "to"], false)?;
    let group_by = group_by(params.take("group_by").as_deref())?;
    let (from, to) = params.time_range()?;
    let rows = state.control.store.summary(group_by, from, to).await?;
    json(200, &Summary { object: "list", group_by, data: rows.into_iter().map(Group::from).collect() })
}

/// `provider` when not given.
fn group_by(value: Option<&str>) -> Result<GroupBy, GatewayError> {
    value.unwrap_or("provider").parse().map_err(|e| GatewayError::InvalidRequest(format!("group_by: {e}")))
}
