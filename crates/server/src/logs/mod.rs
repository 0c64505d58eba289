//! Request logs, write side: the [`Recorder`] builds one record per request as it is routed
//! (every attempt included), and the [`LogSink`] hands finished records to a background
//! writer that batches them into the store. The request path never waits on the store: a
//! full queue drops the record and counts it.

mod record;
mod sink;

pub(crate) use record::capped;
pub use record::{log_refusal, AttemptNote, BodyPolicy, Identity, Recorder, CLIENT_CLOSED};
pub use sink::{spawn_writer, LogSink, WriterHandle, BATCH_SIZE};
