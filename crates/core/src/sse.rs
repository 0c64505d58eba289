//! Server-sent events: an incremental decoder for upstream byte streams (events may be split
//! across reads at any byte) and the encoder for what Switchboard writes to clients.
//!
//! This is the one home of SSE framing in the workspace. It knows lines and fields only; what
//! an event *means* belongs to the provider codecs. It must not allocate per byte: the decoder
//! keeps one byte buffer, scans it for line ends and decodes UTF-8 a whole line at a time, so a
//! character split across reads is never cut.

use bytes::Bytes;

/// One decoded SSE event. `data` joins multi-line data fields with `\n`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

/// The terminator OpenAI-compatible clients expect at the end of a stream.
pub const DONE: &[u8] = b"data: [DONE]\n\n";

/// Frames one JSON payload as an SSE `data:` event. A payload containing newlines (never the
/// case for `serde_json::to_string` output) is split over several `data:` lines, as the
/// format requires, rather than corrupting the stream.
pub fn encode_data(json: &str) -> Bytes {
    let mut out = Vec::with_capacity(json.len() + 8);
    for line in json.split('\n') {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out.push(b'\n');
    Bytes::from(out)
}

/// Frames one JSON payload as a named SSE event (`event: {name}` then its `data:` lines), the
/// way Anthropic's and OpenAI's Responses streams name their events.
pub fn encode_event(name: &str, json: &str) -> Bytes {
    let data = encode_data(json);
    let mut out = Vec::with_capacity(name.len() + 8 + data.len());
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(name.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(&data);
    Bytes::from(out)
}

/// Incremental SSE decoder: push bytes as they arrive, take whole events out.
#[derive(Debug, Default)]
pub struct SseDecoder {
    /// Bytes of the line being read (never contains a complete line after `push` returns).
    buf: Vec<u8>,
    /// The last byte seen was `\r`: a `\n` arriving next belongs to the same line end.
    after_cr: bool,
    /// Whether the start of the stream (and a possible byte-order mark) is behind us.
    started: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
}

impl SseDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next chunk of the stream; returns every event it completes, in order.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        let mut events = Vec::new();
        let mut chunk = self.skip_bom(chunk);
        if chunk.is_empty() {
            return events;
        }
        if std::mem::replace(&mut self.after_cr, false) && chunk[0] == b'\n' {
            chunk = &chunk[1..];
        }
        let mut start = 0;
        while let Some(pos) = find_line_end(&chunk[start..]) {
            let end = start + pos;
            self.take_line(&chunk[start..end], &mut events);
            start = end + 1;
            if chunk[end] == b'\r' {
                match chunk.get(start) {
                    Some(b'\n') => start += 1,
                    None => self.after_cr = true,
                    Some(_) => {}
                }
            }
        }
        self.buf.extend_from_slice(&chunk[start..]);
        events
    }

    /// Bytes held for the event being read (its unfinished line and its data so far): a
    /// caller that must bound what one event may take checks this after each push.
    pub fn pending_len(&self) -> usize {
        self.buf.len() + self.data.len()
    }

    /// Ends the stream: returns a last event that was never closed by a blank line.
    pub fn finish(&mut self) -> Option<SseEvent> {
        let mut events = Vec::new();
        if !self.buf.is_empty() {
            let line = std::mem::take(&mut self.buf);
            self.field(&line);
        }
        self.dispatch(&mut events);
        self.after_cr = false;
        events.pop()
    }

    /// Drops a UTF-8 byte-order mark at the very start of the stream, even when it arrives
    /// split over several chunks.
    fn skip_bom<'a>(&mut self, chunk: &'a [u8]) -> &'a [u8] {
        const BOM: &[u8] = b"\xEF\xBB\xBF";
        if self.started {
            return chunk;
        }
        let seen = self.buf.len();
        let wanted = &BOM[seen..];
        let n = wanted.len().min(chunk.len());
        if chunk[..n] != wanted[..n] {
            self.started = true;
            // Bytes held back as a possible BOM were ordinary data after all.
            return chunk;
        }
        if seen + n == BOM.len() {
            self.started = true;
            self.buf.clear();
        } else {
            self.buf.extend_from_slice(&chunk[..n]);
        }
        &chunk[n..]
    }

    /// Handles one complete line: the held-back prefix in `buf` plus `tail`.
    fn take_line(&mut self, tail: &[u8], events: &mut Vec<SseEvent>) {
        if self.buf.is_empty() {
            self.line(tail, events);
        } else {
            let mut line = std::mem::take(&mut self.buf);
            line.extend_from_slice(tail);
            self.line(&line, events);
            line.clear();
            self.buf = line;
        }
    }

    fn line(&mut self, line: &[u8], events: &mut Vec<SseEvent>) {
        if line.is_empty() {
            self.dispatch(events);
        } else {
            self.field(line);
        }
    }

    fn field(&mut self, line: &[u8]) {
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(0) => return, // a comment
            Some(i) => (&line[..i], strip_one_space(&line[i + 1..])),
            None => (line, &[][..]),
        };
        match name {
            b"event" => self.event = Some(String::from_utf8_lossy(value).into_owned()),
            b"data" => self.push_data(value),
            _ => {} // id, retry and unknown fields do not matter to a proxy
        }
    }

    fn push_data(&mut self, value: &[u8]) {
        if self.has_data {
            self.data.push('\n');
        }
        self.data.push_str(&String::from_utf8_lossy(value));
        self.has_data = true;
    }

    fn dispatch(&mut self, events: &mut Vec<SseEvent>) {
        let event = self.event.take().filter(|name| !name.is_empty());
        let data = std::mem::take(&mut self.data);
        let has_data = std::mem::replace(&mut self.has_data, false);
        if has_data || event.is_some() {
            events.push(SseEvent { event, data });
        }
    }
}

fn find_line_end(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n' || b == b'\r')
}

fn strip_one_space(value: &[u8]) -> &[u8] {
    value.strip_prefix(b" ").unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(event: Option<&str>, data: &str) -> SseEvent {
        SseEvent { event: event.map(str::to_owned), data: data.to_owned() }
    }

    fn decode_in_pieces(stream: &[u8], cuts: &[usize]) -> Vec<SseEvent> {
        let mut decoder = SseDecoder::new();
        let mut events = Vec::new();
        let mut from = 0;
        for &cut in cuts {
            events.extend(decoder.push(&stream[from..cut]));
            from = cut;
        }
        events.extend(decoder.push(&stream[from..]));
        events.extend(decoder.finish());
        events
    }

    /// Mixed line ends, a multi-byte character, comments, ignored fields and multi-line data.
    const MIXED: &[u8] = "\u{feff}: comment\r\nevent: message_start\r\ndata: {\"a\":\"h\u{e9}llo \u{1f600}\"}\r\n\r\n\
id: 7\nretry: 100\ndata:first\ndata:  second\n\nevent: ping\r\rdata: x\r\n\n:only a comment\n\n"
        .as_bytes();

    fn mixed_expected() -> Vec<SseEvent> {
        vec![
            ev(Some("message_start"), "{\"a\":\"h\u{e9}llo \u{1f600}\"}"),
            ev(None, "first\n second"),
            ev(Some("ping"), ""),
            ev(None, "x"),
        ]
    }

    #[test]
    fn a_named_event_decodes_back_to_its_name_and_data() {
        let mut decoder = SseDecoder::new();
        let events = decoder.push(&encode_event("message_stop", "{\"type\":\"message_stop\"}"));
        assert_eq!(events, vec![ev(Some("message_stop"), "{\"type\":\"message_stop\"}")]);
    }

    #[test]
    fn whole_stream_decodes_every_field_rule() {
        assert_eq!(decode_in_pieces(MIXED, &[]), mixed_expected());
    }

    #[test]
    fn any_single_split_point_gives_the_same_events() {
        for cut in 0..=MIXED.len() {
            assert_eq!(decode_in_pieces(MIXED, &[cut]), mixed_expected(), "split at byte {cut}");
        }
    }

    #[test]
    fn any_two_split_points_give_the_same_events() {
        for a in 0..=MIXED.len() {
            for b in a..=MIXED.len() {
                assert_eq!(decode_in_pieces(MIXED, &[a, b]), mixed_expected(), "split at {a} and {b}");
            }
        }
    }

    #[test]
    fn byte_at_a_time_gives_the_same_events() {
        let cuts: Vec<usize> = (1..MIXED.len()).collect();
        assert_eq!(decode_in_pieces(MIXED, &cuts), mixed_expected());
    }

    #[test]
    fn cr_at_chunk_end_then_lf_is_one_line_end() {
        let mut decoder = SseDecoder::new();
        assert_eq!(decoder.push(b"data: a\r"), vec![]);
        assert_eq!(decoder.push(b"\n\r"), vec![ev(None, "a")]);
        assert_eq!(decoder.push(b"\ndata: b\n\n"), vec![ev(None, "b")]);
    }

    #[test]
    fn blank_lines_without_fields_dispatch_nothing() {
        let mut decoder = SseDecoder::new();
        assert_eq!(decoder.push(b"\n\n\r\n: keepalive\n\n"), vec![]);
    }

    #[test]
    fn empty_data_line_is_an_event_with_empty_data() {
        let mut decoder = SseDecoder::new();
        assert_eq!(decoder.push(b"data:\n\n"), vec![ev(None, "")]);
    }

    #[test]
    fn field_without_colon_has_empty_value() {
        let mut decoder = SseDecoder::new();
        assert_eq!(decoder.push(b"data\ndata\n\n"), vec![ev(None, "\n")]);
    }

    #[test]
    fn pending_len_counts_the_unfinished_event() {
        let mut decoder = SseDecoder::new();
        assert_eq!(decoder.push(b"data: abc\ndata: de"), vec![]);
        assert_eq!(decoder.pending_len(), 3 + 8);
        assert_eq!(decoder.push(b"\n\n").len(), 1);
        assert_eq!(decoder.pending_len(), 0);
    }

    #[test]
    fn finish_returns_an_unterminated_last_event() {
        let mut decoder = SseDecoder::new();
        assert_eq!(decoder.push(b"event: message_stop\ndata: {}"), vec![]);
        assert_eq!(decoder.finish(), Some(ev(Some("message_stop"), "{}")));
        assert_eq!(decoder.finish(), None);
    }

    #[test]
    fn finish_on_a_clean_end_returns_nothing() {
        let mut decoder = SseDecoder::new();
        assert_eq!(decoder.push(b"data: 1\n\n"), vec![ev(None, "1")]);
        assert_eq!(decoder.finish(), None);
    }

    #[test]
    fn bom_split_over_chunks_is_dropped() {
        let mut decoder = SseDecoder::new();
        assert_eq!(decoder.push(b"\xEF"), vec![]);
        assert_eq!(decoder.push(b"\xBB"), vec![]);
        assert_eq!(decoder.push(b"\xBFdata: a\n\n"), vec![ev(None, "a")]);
    }

    #[test]
    fn bom_is_only_dropped_at_the_start() {
        let mut decoder = SseDecoder::new();
        let events = decoder.push("data: \u{feff}a\n\n".as_bytes());
        assert_eq!(events, vec![ev(None, "\u{feff}a")]);
    }

    #[test]
    fn empty_push_between_cr_and_lf_keeps_one_line_end() {
        let mut decoder = SseDecoder::new();
        assert_eq!(decoder.push(b"data: a\r"), vec![]);
        assert_eq!(decoder.push(b""), vec![]);
        assert_eq!(decoder.push(b"\n"), vec![]);
        assert_eq!(decoder.push(b"\n"), vec![ev(None, "a")]);
    }

    #[test]
    fn invalid_utf8_is_replaced_not_dropped() {
        let mut decoder = SseDecoder::new();
        assert_eq!(decoder.push(b"data: a\xFFb\n\n"), vec![ev(None, "a\u{fffd}b")]);
    }

    #[test]
    fn encode_data_frames_one_event() {
        assert_eq!(&encode_data("{\"a\":1}")[..], b"data: {\"a\":1}\n\n");
    }

    #[test]
    fn encode_data_splits_newlines_into_data_lines() {
        let framed = encode_data("{\n\"a\": 1\n}");
        let mut decoder = SseDecoder::new();
        assert_eq!(decoder.push(&framed), vec![ev(None, "{\n\"a\": 1\n}")]);
    }

    #[test]
    fn done_is_a_data_event() {
        let mut decoder = SseDecoder::new();
        assert_eq!(decoder.push(DONE), vec![ev(None, "[DONE]")]);
    }
}
