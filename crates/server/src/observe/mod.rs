//! What the gateway tells about itself: one record per finished request, built as it is
//! routed (`record`), handed to a background writer that batches it into the store (`sink`;
//! the request path never waits on the store: a full queue drops the record and counts it);
//! the logs API that reads those records back (`logs_api`); Prometheus metrics (`metrics`);
//! the OTLP trace exporter (`otlp`); and log retention (`retention`).

pub(crate) mod logs_api;
pub mod metrics;
pub mod otlp;
mod record;
pub mod retention;
mod sink;

pub(crate) use record::capped;
pub(crate) use record::{log_refusal, BodyPolicy, Identity, Recorder, SkipNote, CLIENT_CLOSED};
pub use sink::{spawn_writer, LogSink, WriterHandle, BATCH_SIZE};
