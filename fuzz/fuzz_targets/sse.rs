//! An SSE stream split into two reads at a fuzzer-chosen byte decodes to the same events as the
//! whole stream in one read: framing never depends on where the network cut it.
//! Input: two bytes (little-endian split point, taken modulo the stream's length), then the stream.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_core::sse::{SseDecoder, SseEvent};

fn decode(chunks: &[&[u8]]) -> Vec<SseEvent> {
    let mut decoder = SseDecoder::new();
    let mut events: Vec<SseEvent> = chunks.iter().flat_map(|chunk| decoder.push(chunk)).collect();
    events.extend(decoder.finish());
    events
}

fuzz_target!(|data: &[u8]| {
    let Some((split, stream)) = data.split_first_chunk::<2>() else { return };
    let at = usize::from(u16::from_le_bytes(*split)) % (stream.len() + 1);
    let (first, second) = stream.split_at(at);
    assert_eq!(decode(&[first, second]), decode(&[stream]), "split at byte {at}");
});
