//! The mock's script: how the next requests should misbehave — fail with a status and `Retry-After` (any text, so
//! hostile values too), answer a raw body instead (malformed JSON, an HTML page), redirect, send scripted SSE chunks
//! instead of the normal stream, pad a valid answer past any sane size, add headers, wait, hang, and pace, cut or
//! stall a stream. It owns deciding, one request at a time, what that request gets (parsing the `POST /_script`
//! body lives in `script_parse`). It does no I/O: the HTTP layer applies the [`Turn`] it hands out.

/// How the mock misbehaves. The default is a well-behaved provider.
///
/// Build it with [`Script::from_json`] (the `POST /_script` body), which also rejects contradictory scripts; a
/// struct literal is not checked. `body`, `redirect`, `events` and `status` are *scripted answers*: each replaces
/// the provider's answer for `count` requests, and at most one should be set (`status` may go with `body`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    /// Fail with this status… (with `body`: the raw body's status instead.)
    pub status: Option<u16>,
    /// …for this many requests (-1: forever, the default); then answer normally.
    pub count: i64,
    /// `Retry-After` seconds on scripted failures and raw bodies.
    pub retry_after: Option<u64>,
    /// `Retry-After` sent verbatim (`1e20`, `soon`, an HTTP-date); wins over `retry_after`.
    pub retry_after_text: Option<String>,
    /// `retry-after-ms` sent verbatim on scripted failures and raw bodies.
    pub retry_after_ms: Option<String>,
    /// Extra headers on every provider answer, in order; a name the answer already has is replaced.
    pub headers: Vec<(String, String)>,
    /// Answer this raw body (status `status`, default 200) instead of the provider's answer.
    pub body: Option<String>,
    /// The raw body's `Content-Type` (default `application/json`).
    pub content_type: Option<String>,
    /// A normal 200 JSON answer gets a top-level `"padding"` string of this many bytes.
    pub pad_bytes: usize,
    /// Answer a redirect to this `Location` with an empty body.
    pub redirect: Option<String>,
    /// The redirect's status (default 307).
    pub redirect_status: Option<u16>,
    /// A stream request gets these chunks, verbatim and in order, as its `text/event-stream` body.
    pub events: Option<Vec<String>>,
    /// Delay before answering (every request).
    pub delay_ms: u64,
    /// Never answer (until the client goes away).
    pub hang: bool,
    /// Pause between stream events.
    pub chunk_delay_ms: u64,
    /// Abort the connection mid-stream after N events (no clean end).
    pub cut_after: Option<usize>,
    /// Send N stream events, then nothing more, never ending the body.
    pub stall_after: Option<usize>,
}

impl Default for Script {
    fn default() -> Script {
        Script {
            status: None,
            count: -1,
            retry_after: None,
            retry_after_text: None,
            retry_after_ms: None,
            headers: Vec::new(),
            body: None,
            content_type: None,
            pad_bytes: 0,
            redirect: None,
            redirect_status: None,
            events: None,
            delay_ms: 0,
            hang: false,
            chunk_delay_ms: 0,
            cut_after: None,
            stall_after: None,
        }
    }
}

/// What one request gets, decided when it arrives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Turn {
    /// Replaces the provider's answer when set.
    pub answer: Option<Scripted>,
    /// Added to the answer in order; a later one replaces an earlier one of the same name.
    pub headers: Vec<(String, String)>,
    pub delay_ms: u64,
    pub hang: bool,
    pub pad_bytes: usize,
    pub pacing: Pacing,
}

/// An answer the script gives instead of the provider's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Scripted {
    /// The provider's own error shape with this status.
    Failure(u16),
    Body {
        status: u16,
        content_type: String,
        body: String,
    },
    Redirect {
        status: u16,
        location: String,
    },
    Events(Vec<String>),
}

/// How a stream answer is paced and whether it is cut or stalled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Pacing {
    pub chunk_delay_ms: u64,
    pub cut_after: Option<usize>,
    pub stall_after: Option<usize>,
}

const DEFAULT_CONTENT_TYPE: &str = "application/json";
const DEFAULT_REDIRECT_STATUS: u16 = 307;

impl Script {
    /// Hands out what the next request gets and uses up one scripted answer. `events` only answer stream
    /// requests, so a plain request neither gets nor uses them up.
    pub(crate) fn take_turn(&mut self, stream: bool) -> Turn {
        let answer = self.scripted(stream).filter(|_| self.count != 0);
        if answer.is_some() && self.count > 0 {
            self.count -= 1;
        }
        Turn {
            headers: self.headers_for(answer.as_ref()),
            answer,
            delay_ms: self.delay_ms,
            hang: self.hang,
            pad_bytes: self.pad_bytes,
            pacing: Pacing {
                chunk_delay_ms: self.chunk_delay_ms,
                cut_after: self.cut_after,
                stall_after: self.stall_after,
            },
        }
    }

    /// The scripted answer, ignoring `count`.
    fn scripted(&self, stream: bool) -> Option<Scripted> {
        if let Some(body) = &self.body {
            let content_type = self.content_type.as_deref().unwrap_or(DEFAULT_CONTENT_TYPE).to_string();
            return Some(Scripted::Body { status: self.status.unwrap_or(200), content_type, body: body.clone() });
        }
        if let Some(location) = &self.redirect {
            let status = self.redirect_status.unwrap_or(DEFAULT_REDIRECT_STATUS);
            return Some(Scripted::Redirect { status, location: location.clone() });
        }
        if let Some(events) = &self.events {
            return stream.then(|| Scripted::Events(events.clone()));
        }
        self.status.map(Scripted::Failure)
    }

    /// The scripted headers, then the retry hints when this answer is a scripted failure or raw body.
    fn headers_for(&self, answer: Option<&Scripted>) -> Vec<(String, String)> {
        let mut headers = self.headers.clone();
        if matches!(answer, Some(Scripted::Failure(_) | Scripted::Body { .. })) {
            let seconds = self.retry_after_text.clone().or(self.retry_after.map(|s| s.to_string()));
            headers.extend(seconds.map(|value| ("retry-after".to_string(), value)));
            headers.extend(self.retry_after_ms.clone().map(|value| ("retry-after-ms".to_string(), value)));
        }
        headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failures(script: &mut Script, n: usize) -> Vec<Option<Scripted>> {
        (0..n).map(|_| script.take_turn(false).answer).collect()
    }

    #[test]
    fn count_is_used_up_then_answers_normally() {
        let mut script = Script { status: Some(429), count: 2, ..Script::default() };
        let failure = Some(Scripted::Failure(429));
        assert_eq!(failures(&mut script, 4), vec![failure.clone(), failure, None, None]);
    }

    #[test]
    fn negative_count_never_runs_out() {
        let mut script = Script { status: Some(503), count: -1, ..Script::default() };
        assert!((0..10).all(|_| script.take_turn(false).answer == Some(Scripted::Failure(503))));
    }

    #[test]
    fn the_default_script_answers_normally() {
        let turn = Script::default().take_turn(true);
        assert_eq!(turn.answer, None);
        assert!(turn.headers.is_empty());
    }

    #[test]
    fn a_raw_body_defaults_to_200_json_and_is_used_up_by_count() {
        let mut script = Script { body: Some("{".into()), count: 1, ..Script::default() };
        let body = Scripted::Body { status: 200, content_type: "application/json".into(), body: "{".into() };
        assert_eq!(failures(&mut script, 2), vec![Some(body), None]);
    }

    #[test]
    fn a_redirect_defaults_to_307() {
        let mut script = Script { redirect: Some("http://x/".into()), ..Script::default() };
        let redirect = Scripted::Redirect { status: 307, location: "http://x/".into() };
        assert_eq!(script.take_turn(false).answer, Some(redirect));
    }

    #[test]
    fn events_answer_only_stream_requests_and_only_those_use_up_count() {
        let mut script = Script { events: Some(vec![": hi\n\n".into()]), count: 1, ..Script::default() };
        assert_eq!(script.take_turn(false).answer, None);
        assert_eq!(script.take_turn(true).answer, Some(Scripted::Events(vec![": hi\n\n".into()])));
        assert_eq!(script.take_turn(true).answer, None);
    }

    #[test]
    fn retry_hints_go_on_failures_only_and_text_wins_over_seconds() {
        let mut script = Script {
            status: Some(429),
            count: 1,
            retry_after: Some(7),
            retry_after_text: Some("soon".into()),
            retry_after_ms: Some("250".into()),
            headers: vec![("x-ratelimit-remaining-requests".into(), "0".into())],
            ..Script::default()
        };
        let names = |turn: Turn| turn.headers.into_iter().map(|(name, value)| format!("{name}={value}")).collect();
        let failed: Vec<String> = names(script.take_turn(false));
        assert_eq!(failed, ["x-ratelimit-remaining-requests=0", "retry-after=soon", "retry-after-ms=250"]);
        let normal: Vec<String> = names(script.take_turn(false));
        assert_eq!(normal, ["x-ratelimit-remaining-requests=0"]);
    }
}
