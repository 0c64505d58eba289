//! `GET /v1/logs/export?format=ndjson|csv&<filters>`: every matching log, newest first,
//! streamed one store page at a time so memory stays flat however many rows match. The
//! first page is read before answering, so a bad cursor or filter is still a clean 400.
//! `include_bodies=true` adds the capped bodies to NDJSON; CSV has a fixed column list.

use crate::http::error::GatewayError;
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use bytes::Bytes;
use futures_util::stream::{self, Stream, StreamExt};
use http::{HeaderMap, HeaderValue, Uri};
use switchboard_store::{LogPage, LogQuery, LogRecord, Store, MAX_PAGE_SIZE};

use super::params::{Params, FILTERS};
use super::{admin, Reply};
use crate::control::SharedApi;
use crate::support::time::format_rfc3339;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Ndjson,
    Csv,
}

impl Format {
    fn parse(value: Option<&str>) -> Result<Self, GatewayError> {
        match value {
            None | Some("ndjson") => Ok(Format::Ndjson),
            Some("csv") => Ok(Format::Csv),
            Some(other) => Err(GatewayError::InvalidRequest(format!("format: expected ndjson or csv, got {other:?}"))),
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Ndjson => "application/x-ndjson",
            Format::Csv => "text/csv; charset=utf-8",
        }
    }

    fn disposition(self) -> &'static str {
        match self {
            Format::Ndjson => "attachment; filename=\"switchboard-logs.ndjson\"",
            Format::Csv => "attachment; filename=\"switchboard-logs.csv\"",
        }
    }

    fn render(self, records: &[LogRecord]) -> Result<Bytes, BoxError> {
        let mut out = Vec::new();
        for record in records {
            match self {
                Format::Ndjson => {
                    serde_json::to_writer(&mut out, record)?;
                    out.push(b'\n');
                }
                Format::Csv => out.extend_from_slice(csv_row(record).as_bytes()),
            }
        }
        Ok(Bytes::from(out))
    }
}

const EXPORT_PARAMS: &[&str] = &["format", "cursor", "include_bodies"];

pub async fn export(State(state): State<SharedApi>, headers: HeaderMap, uri: Uri) -> Reply {
    start(&state, &headers, &uri).await
}

async fn start(state: &SharedApi, headers: &HeaderMap, uri: &Uri) -> Reply {
    admin(state, headers).await?;
    let allowed = [FILTERS, EXPORT_PARAMS].concat();
    let mut params = Params::from_uri(uri, &allowed, true)?;
    let format = Format::parse(params.take("format").as_deref())?;
    let mut query = params.log_query()?;
    query.limit = Some(MAX_PAGE_SIZE);
    query.cursor = params.take("cursor");
    query.include_bodies = params.flag("include_bodies")? && format == Format::Ndjson;
    let store = state.control.store.clone();
    let first = store.query_logs(&query).await?;
    let header = match format {
        Format::Csv => Bytes::from(csv_header()),
        Format::Ndjson => Bytes::new(),
    };
    let body = stream::once(async move { Ok(header) }).chain(pages(store, query, first, format));
    Ok(attachment(Body::from_stream(body), format))
}

fn attachment(body: Body, format: Format) -> Response {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    headers.insert(http::header::CONTENT_DISPOSITION, HeaderValue::from_static(format.disposition()));
    response
}

/// Where the export is: the query (its cursor moves on) and a page read but not yet sent.
struct Position {
    store: Store,
    query: LogQuery,
    pending: Option<LogPage>,
}

/// One rendered chunk per page, following `next_cursor` until the last page.
fn pages(
    store: Store,
    query: LogQuery,
    first: LogPage,
    format: Format,
) -> impl Stream<Item = Result<Bytes, BoxError>> + Send + 'static {
    let start = Position { store, query, pending: Some(first) };
    stream::unfold(Some(start), move |position| async move {
        let mut position = position?;
        let page = match position.pending.take() {
            Some(page) => page,
            None => match position.store.query_logs(&position.query).await {
                Ok(page) => page,
                Err(err) => {
                    tracing::warn!("log export stopped: {err}");
                    return Some((Err(BoxError::from(err)), None));
                }
            },
        };
        let chunk = format.render(&page.items);
        position.query.cursor = page.next_cursor;
        let next = position.query.cursor.is_some().then_some(position);
        Some((chunk, next))
    })
}

/// The CSV columns, in order.
pub const CSV_COLUMNS: [&str; 20] = [
    "id",
    "created_at",
    "trace_id",
    "provider",
    "requested_model",
    "served_model",
    "status",
    "latency_ms",
    "ttfb_ms",
    "stream",
    "retry_count",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cost_usd",
    "unpriced",
    "target_path",
    "config_slug",
    "virtual_key",
    "error",
];

fn csv_header() -> String {
    format!("{}\r\n", CSV_COLUMNS.join(","))
}

fn csv_row(r: &LogRecord) -> String {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let number = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    let fields = [
        r.id.clone(),
        format_rfc3339(r.created_at),
        text(&r.trace_id),
        r.provider.clone(),
        r.requested_model.clone(),
        text(&r.served_model),
        r.status.to_string(),
        r.latency_ms.to_string(),
        number(r.ttfb_ms),
        r.stream.to_string(),
        r.retry_count.to_string(),
        number(r.prompt_tokens),
        number(r.completion_tokens),
        number(r.total_tokens),
        r.cost_usd.map(|c| c.to_string()).unwrap_or_default(),
        r.unpriced.to_string(),
        text(&r.target_path),
        text(&r.config_slug),
        text(&r.virtual_key),
        text(&r.error),
    ];
    let quoted: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
    format!("{}\r\n", quoted.join(","))
}

/// RFC 4180: a field holding a comma, quote or line break is quoted, quotes doubled.
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_with_commas_quotes_or_newlines_are_quoted() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field(""), "");
    }

    #[test]
    fn format_defaults_to_ndjson_and_names_bad_values() {
        assert_eq!(Format::parse(None).ok(), Some(Format::Ndjson));
        assert_eq!(Format::parse(Some("csv")).ok(), Some(Format::Csv));
        let err = Format::parse(Some("xml")).err().map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("format: expected ndjson or csv, got \"xml\""));
    }
}
