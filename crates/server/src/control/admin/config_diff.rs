//! A line diff between two versions of a saved config, for `GET /v1/configs/{slug}/diff`: both versions are
//! pretty-printed the same way (two-space indent, keys in their stored order), then compared line by line
//! with `similar` (Myers' algorithm), so a diff shows what changed and not how it was typed.

use serde::Serialize;
use serde_json::Value;
use similar::{ChangeTag, TextDiff};

/// One line of the diff; `old` and `new` are 1-based line numbers on each side (absent on the other side of an
/// insert or a delete).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffLine {
    pub op: &'static str,
    pub old: Option<usize>,
    pub new: Option<usize>,
    pub text: String,
}

/// Every line of both versions, in order: `equal`, `delete` (only in `old`) or `insert` (only in `new`).
pub fn diff(old: &Value, new: &Value) -> Vec<DiffLine> {
    let (old, new) = (pretty(old), pretty(new));
    let lines = TextDiff::from_lines(&old, &new);
    lines
        .iter_all_changes()
        .map(|change| DiffLine {
            op: match change.tag() {
                ChangeTag::Equal => "equal",
                ChangeTag::Delete => "delete",
                ChangeTag::Insert => "insert",
            },
            old: change.old_index().map(|i| i + 1),
            new: change.new_index().map(|i| i + 1),
            text: change.value().trim_end_matches('\n').to_owned(),
        })
        .collect()
}

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ops(lines: &[DiffLine]) -> Vec<(&str, &str)> {
        lines.iter().filter(|l| l.op != "equal").map(|l| (l.op, l.text.trim())).collect()
    }

    #[test]
    fn a_changed_weight_is_one_line_out_and_one_in() {
        let old = json!({"strategy": {"mode": "loadbalance"}, "targets": [{"weight": 0.9}, {"weight": 0.1}]});
        let new = json!({"strategy": {"mode": "loadbalance"}, "targets": [{"weight": 0.8}, {"weight": 0.1}]});
        let lines = diff(&old, &new);
        assert_eq!(ops(&lines), [("delete", "\"weight\": 0.9"), ("insert", "\"weight\": 0.8")]);
        let changed: Vec<_> = lines.iter().filter(|l| l.op != "equal").map(|l| (l.old, l.new)).collect();
        assert_eq!(changed, [(Some(7), None), (None, Some(7))], "line numbers on each side");
    }

    #[test]
    fn equal_versions_have_no_changes_and_every_line_is_listed() {
        let config = json!({"retry": {"attempts": 3}});
        let lines = diff(&config, &config);
        assert!(ops(&lines).is_empty());
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[0], DiffLine { op: "equal", old: Some(1), new: Some(1), text: "{".into() });
    }

    #[test]
    fn an_added_target_is_inserted_lines_only() {
        let old = json!({"targets": [{"provider": "openai"}]});
        let new = json!({"targets": [{"provider": "openai"}, {"provider": "anthropic"}]});
        let lines = diff(&old, &new);
        assert!(lines.iter().all(|l| l.op != "delete" || l.text.trim() == "}"), "{lines:?}");
        assert!(ops(&lines).contains(&("insert", "\"provider\": \"anthropic\"")));
    }
}
