//! Label values for the per-request series, made without allocating once a value has been seen: the gateway's
//! own words (provider ids, price-table model ids, `other`) are `&'static str`, and values taken from configs or
//! answers (target paths, dated model ids, a provider outside the table) are shared from a bounded table of
//! `Arc<str>`. A label is its text: two values with the same text are the same label however they are held, so
//! the series and the exposition are what they were with owned strings.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, PoisonError, RwLock};

use prometheus_client::encoding::{EncodeLabelValue, LabelValueEncoder};

/// Distinct shared values kept. Past it a new value is allocated on each use: the same exposition, only dearer.
/// (It bounds this table, not the series: the families keep every label set they are given.)
const MAX_SHARED: usize = 4096;

/// One label value.
#[derive(Clone, Debug)]
pub enum Label {
    Static(&'static str),
    Shared(Arc<str>),
}

impl Label {
    pub fn as_str(&self) -> &str {
        match self {
            Label::Static(text) => text,
            Label::Shared(text) => text,
        }
    }
}

impl PartialEq for Label {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Label {}

impl Hash for Label {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl EncodeLabelValue for Label {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        EncodeLabelValue::encode(&self.as_str(), encoder)
    }
}

/// The shared values seen so far.
#[derive(Default)]
pub struct SharedLabels {
    values: RwLock<HashSet<Arc<str>>>,
}

impl SharedLabels {
    /// `value` as a label, shared with every earlier use of the same text.
    pub fn get(&self, value: &str) -> Label {
        let seen = self.values.read().unwrap_or_else(PoisonError::into_inner).get(value).cloned();
        if let Some(seen) = seen {
            return Label::Shared(seen);
        }
        let value: Arc<str> = Arc::from(value);
        let mut values = self.values.write().unwrap_or_else(PoisonError::into_inner);
        if values.len() < MAX_SHARED {
            values.insert(Arc::clone(&value));
        }
        Label::Shared(value)
    }

    /// A provider id: the provider table's own copy when it is one (or `none`, a request refused before
    /// routing), else shared.
    pub fn provider(&self, id: &str) -> Label {
        if id == "none" {
            return Label::Static("none");
        }
        match switchboard_core::provider::lookup(id) {
            Some(spec) => Label::Static(spec.id),
            None => self.get(id),
        }
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "a failed test should stop loudly")]
mod tests {
    use super::*;

    #[test]
    fn a_label_is_its_text_however_it_is_held() {
        let shared = SharedLabels::default();
        assert_eq!(shared.get("openai"), Label::Static("openai"));
        let state = std::collections::hash_map::RandomState::new();
        let [a, b] = [Label::Static("x"), shared.get("x")].map(|l| std::hash::BuildHasher::hash_one(&state, &l));
        assert_eq!(a, b, "equal labels hash alike, or a family would hold two series for one");
    }

    #[test]
    fn a_value_seen_before_is_shared_not_copied() {
        let shared = SharedLabels::default();
        let (Label::Shared(first), Label::Shared(again)) =
            (shared.get("config.targets[0]"), shared.get("config.targets[0]"))
        else {
            panic!("target paths are shared labels");
        };
        assert!(Arc::ptr_eq(&first, &again));
        assert!(matches!(shared.provider("openai"), Label::Static("openai")));
        assert!(matches!(shared.provider("none"), Label::Static("none")));
        assert_eq!(shared.provider("my-own").as_str(), "my-own");
        assert_eq!(shared.values.read().unwrap().len(), 2);
    }

    #[test]
    fn past_the_bound_values_are_still_labels_but_not_kept() {
        let shared = SharedLabels::default();
        for i in 0..MAX_SHARED + 10 {
            assert_eq!(shared.get(&format!("t{i}")).as_str(), format!("t{i}"));
        }
        assert_eq!(shared.values.read().unwrap().len(), MAX_SHARED);
    }
}
