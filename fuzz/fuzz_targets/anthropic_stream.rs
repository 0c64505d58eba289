//! Any bytes as an Anthropic stream: every decoded event goes through the translation, which
//! answers chunks or an error, never a panic (also after an error or `message_stop`, which the
//! relay would not send on but the state machine must survive).
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_core::provider::anthropic::ChatStream;
use switchboard_core::sse::SseDecoder;

fuzz_target!(|data: &[u8]| {
    let mut decoder = SseDecoder::new();
    let mut events = decoder.push(data);
    events.extend(decoder.finish());
    let include_usage = data.len().is_multiple_of(2);
    let mut stream = ChatStream::new(include_usage, 1_700_000_000);
    for event in &events {
        if let Ok(step) = stream.on_event(event) {
            for chunk in &step.chunks {
                assert!(chunk.is_object(), "a client chunk is a JSON object: {chunk}");
            }
        }
    }
    let _ = stream.usage();
});
