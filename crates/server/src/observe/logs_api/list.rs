//! `GET /v1/logs` (filtered, keyset-paged, newest first) and `GET /v1/logs/{id}` (one record
//! with its bodies, attempts and the feedback on its trace).

use crate::control::api_error::ApiError;
use axum::extract::{Path, State};
use http::{HeaderMap, Uri};
use serde::Serialize;
use switchboard_store::{Feedback, LogRecord};

use super::params::{Params, FILTERS};
use super::{admin, json, Reply};
use crate::control::SharedApi;

#[derive(Serialize)]
struct ListPage<'a> {
    object: &'static str,
    data: &'a [LogRecord],
    next_cursor: Option<&'a str>,
}

#[derive(Serialize)]
struct LogDetail {
    #[serde(flatten)]
    record: LogRecord,
    feedback: Vec<Feedback>,
}

const LIST_PARAMS: &[&str] = &["limit", "cursor", "include_bodies"];

pub async fn list(State(state): State<SharedApi>, headers: HeaderMap, uri: Uri) -> Reply {
    list_page(&state, &headers, &uri).await
}

async fn list_page(state: &SharedApi, headers: &HeaderMap, uri: &Uri) -> Reply {
    admin(state, headers).await?;
    let allowed = [FILTERS, LIST_PARAMS].concat();
    let mut params = Params::from_uri(uri, &allowed, true)?;
    let mut query = params.log_query()?;
    query.limit = params.limit()?;
    query.cursor = params.take("cursor");
    query.include_bodies = params.flag("include_bodies")?;
    let page = state.control.store.query_logs(&query).await?;
    json(200, &ListPage { object: "list", data: &page.items, next_cursor: page.next_cursor.as_deref() })
}

pub async fn get_one(State(state): State<SharedApi>, headers: HeaderMap, Path(id): Path<String>) -> Reply {
    detail(&state, &headers, &id).await
}

async fn detail(state: &SharedApi, headers: &HeaderMap, id: &str) -> Reply {
    admin(state, headers).await?;
    let store = &state.control.store;
    let record = store.get_log(id).await?.ok_or_else(|| ApiError::NotFound(format!("log \"{id}\" does not exist")))?;
    let feedback = match record.trace_id.as_deref() {
        Some(trace_id) => store.feedback_for_trace(trace_id).await?,
        None => Vec::new(),
    };
    json(200, &LogDetail { record, feedback })
}
