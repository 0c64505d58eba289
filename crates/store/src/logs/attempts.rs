//! A log record's `attempts`: the routing notes (targets passed over, a sticky assignment, a fail-open) and then
//! the upstream calls, as typed values. The JSON they serialise to is the logs API's and the dashboard's and is
//! what stored rows hold, so its shape is fixed: every key an entry has today, `null` where a value is unknown,
//! and the one key written only when known (a skipped target's `why`) left out otherwise.
//!
//! Reading is lenient, because rows written by older versions (or by hand through the log-insert API) must still
//! read back: an entry is typed only when writing it again gives back exactly what was stored; anything else is
//! kept verbatim as [`RouteEntry::Other`]. A column that is not an array reads as no entries rather than failing
//! the page it is on.

use std::borrow::Cow;
use std::ops::{Deref, DerefMut};

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// A record's entries, routing notes first, in the order they were made.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Attempts(pub Vec<RouteEntry>);

/// One entry of [`Attempts`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum RouteEntry {
    /// An upstream call.
    Attempt(AttemptEntry),
    /// What routing decided before (or instead of) a call.
    Note(RouteNote),
    /// A stored entry of a shape this type does not describe, kept as it was.
    Other(Value),
}

/// One upstream call. Provider, error class and reason are the gateway's own words, so a fresh record borrows
/// them; a stored one owns them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptEntry {
    pub target_path: String,
    pub provider: Option<Cow<'static, str>>,
    /// The model the call asked for.
    pub model: Option<String>,
    pub status: u16,
    pub latency_ms: u64,
    /// When the call started, in milliseconds after the request arrived.
    pub start_offset_ms: u64,
    /// `None` for a success.
    pub error_class: Option<Cow<'static, str>>,
    pub retry: u32,
    pub backoff_ms: u64,
    pub reason: AttemptReason,
}

/// Why a call happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptReason {
    Initial,
    Retry,
    Fallback,
}

/// A routing note; its `reason` comes first in its JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum RouteNote {
    /// A target routing passed over: which (its path, and the provider or virtual key it names), why (`state`:
    /// open, half_open, cooling, no_headroom, limited, unsupported; `why`: what an unsupported target's
    /// provider cannot do) and until when.
    Skipped {
        target_path: String,
        state: Cow<'static, str>,
        until_ms: Option<u64>,
        provider: Option<String>,
        virtual_key: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        why: Option<String>,
    },
    /// A sticky loadbalance's assignment: the group, its first choice for the request's `hash_key` value, and
    /// the target it went to.
    Sticky { group_path: String, first_choice: String, target_path: String },
    /// Nothing was available: the router tried a target anyway.
    FailedOpen,
}

impl RouteEntry {
    /// Whether this entry is a routing note (they go before the calls).
    pub fn is_note(&self) -> bool {
        matches!(self, RouteEntry::Note(_))
    }

    /// A stored entry: typed when the type writes it back unchanged, else kept as it is.
    fn read(value: Value) -> Self {
        let exact = |typed: &RouteEntry| serde_json::to_value(typed).is_ok_and(|again| again == value);
        let typed = match value.get("reason").and_then(Value::as_str) {
            Some("initial" | "retry" | "fallback") => AttemptEntry::deserialize(&value).ok().map(RouteEntry::Attempt),
            Some(_) => RouteNote::deserialize(&value).ok().map(RouteEntry::Note),
            None => None,
        };
        match typed {
            Some(typed) if exact(&typed) => typed,
            _ => RouteEntry::Other(value),
        }
    }
}

impl AttemptReason {
    /// The reason as the log writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptReason::Initial => "initial",
            AttemptReason::Retry => "retry",
            AttemptReason::Fallback => "fallback",
        }
    }
}

impl<'de> Deserialize<'de> for RouteEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(RouteEntry::read)
    }
}

impl<'de> Deserialize<'de> for Attempts {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let entries = match Value::deserialize(deserializer)? {
            Value::Array(entries) => entries.into_iter().map(RouteEntry::read).collect(),
            _ => Vec::new(),
        };
        Ok(Attempts(entries))
    }
}

impl Attempts {
    /// How many calls moved on to a fallback target.
    pub fn fallbacks(&self) -> usize {
        self.calls().filter(|call| call.reason == AttemptReason::Fallback).count()
    }

    /// The upstream calls, in order.
    pub fn calls(&self) -> impl Iterator<Item = &AttemptEntry> {
        self.0.iter().filter_map(|entry| match entry {
            RouteEntry::Attempt(call) => Some(call),
            _ => None,
        })
    }

    /// Adds a routing note after the notes already made and before the calls.
    pub fn push_note(&mut self, note: RouteNote) {
        let at = self.0.iter().take_while(|entry| entry.is_note()).count();
        self.0.insert(at, RouteEntry::Note(note));
    }
}

impl Deref for Attempts {
    type Target = Vec<RouteEntry>;
    fn deref(&self) -> &Vec<RouteEntry> {
        &self.0
    }
}

impl DerefMut for Attempts {
    fn deref_mut(&mut self) -> &mut Vec<RouteEntry> {
        &mut self.0
    }
}

impl FromIterator<RouteEntry> for Attempts {
    fn from_iter<I: IntoIterator<Item = RouteEntry>>(iter: I) -> Self {
        Attempts(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests;
