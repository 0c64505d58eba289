//! Conditional routing: queries over request metadata and params (`$eq $ne $gt $gte $lt $lte
//! $in $nin $regex $and $or`), as in Portkey's `strategy.mode: conditional`.
//!
//! Parsing happens once, during validation, and reports into its error list; evaluation is
//! pure and cannot fail: a missing or mistyped field simply does not match (except under
//! `$ne`/`$nin`). Metadata is string-valued, so comparisons are lenient where a string meets
//! a number (see [`loose_eq`]).

use serde_json::{Map, Value};

use crate::problem::{check_keys, join};
use crate::problem::{got, Problems};

/// What a conditional query can look at: the request's `x-portkey-metadata` and its body.
#[derive(Debug, Clone, Copy)]
pub struct RequestFacts<'a> {
    pub metadata: &'a Map<String, Value>,
    pub params: &'a Map<String, Value>,
}

/// One `conditions[i]` entry: when `query` matches, route to `targets[then]`.
#[derive(Debug, Clone)]
pub struct Condition {
    pub query: Query,
    /// Index into the group's `targets` of the target named by `then`.
    pub then: usize,
}

#[derive(Debug, Clone)]
pub enum Query {
    And(Vec<Query>),
    Or(Vec<Query>),
    /// `"metadata.plan": {"$eq": "paid", …}`: every operator must hold.
    Field {
        field: Field,
        ops: Vec<(Op, Operand)>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// `metadata.KEY`
    Metadata(String),
    /// `params.a.b` (a path into the request body)
    Params(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
    In,
    Nin,
    Regex,
}

#[derive(Debug, Clone)]
pub enum Operand {
    Value(Value),
    List(Vec<Value>),
    Regex(regex::Regex),
}

/// Operators a field may use, in the order error messages list them.
const OPS: [(&str, Op); 9] = [
    ("$eq", Op::Eq),
    ("$ne", Op::Ne),
    ("$gt", Op::Gt),
    ("$gte", Op::Gte),
    ("$lt", Op::Lt),
    ("$lte", Op::Lte),
    ("$in", Op::In),
    ("$nin", Op::Nin),
    ("$regex", Op::Regex),
];

/// A user's regex is compiled per config; keep a hostile one from taking much memory.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

impl Condition {
    pub fn matches(&self, facts: &RequestFacts) -> bool {
        self.query.matches(facts)
    }
}

impl Query {
    pub fn matches(&self, facts: &RequestFacts) -> bool {
        match self {
            Query::And(all) => all.iter().all(|q| q.matches(facts)),
            Query::Or(any) => any.iter().any(|q| q.matches(facts)),
            Query::Field { field, ops } => {
                let actual = field.lookup(facts);
                ops.iter().all(|(op, operand)| op_holds(*op, operand, actual))
            }
        }
    }
}

impl Field {
    /// The request's value for this field; `params.a.1` also indexes into arrays.
    pub fn lookup<'a>(&self, facts: &RequestFacts<'a>) -> Option<&'a Value> {
        match self {
            Field::Metadata(key) => facts.metadata.get(key),
            Field::Params(path) => {
                let (first, rest) = path.split_first()?;
                rest.iter().try_fold(facts.params.get(first)?, |v, seg| step(v, seg))
            }
        }
    }
}

fn step<'a>(value: &'a Value, segment: &str) -> Option<&'a Value> {
    match value {
        Value::Object(map) => map.get(segment),
        Value::Array(items) => items.get(segment.parse::<usize>().ok()?),
        _ => None,
    }
}

/// A missing field satisfies only the negative operators (`$ne`, `$nin`).
fn op_holds(op: Op, operand: &Operand, actual: Option<&Value>) -> bool {
    let Some(actual) = actual else {
        return matches!(op, Op::Ne | Op::Nin);
    };
    match (op, operand) {
        (Op::Eq, Operand::Value(v)) => loose_eq(actual, v),
        (Op::Ne, Operand::Value(v)) => !loose_eq(actual, v),
        (Op::In, Operand::List(list)) => list.iter().any(|v| loose_eq(actual, v)),
        (Op::Nin, Operand::List(list)) => !list.iter().any(|v| loose_eq(actual, v)),
        (Op::Regex, Operand::Regex(re)) => actual.as_str().is_some_and(|s| re.is_match(s)),
        (Op::Gt | Op::Gte | Op::Lt | Op::Lte, Operand::Value(v)) => compare(op, actual, v),
        _ => false,
    }
}

fn compare(op: Op, actual: &Value, bound: &Value) -> bool {
    let (Some(a), Some(b)) = (as_number(actual), as_number(bound)) else {
        return false;
    };
    match op {
        Op::Gt => a > b,
        Op::Gte => a >= b,
        Op::Lt => a < b,
        _ => a <= b,
    }
}

/// Equality of JSON values, lenient where Portkey's string-valued metadata meets a typed
/// operand: a string equals a number when it parses to the same number (`"5" == 5`), and a
/// string equals a boolean when it spells it (`"true" == true`). Numbers compare by value
/// (`1 == 1.0`). Everything else compares strictly.
fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(_), Value::Number(_))
        | (Value::String(_), Value::Number(_))
        | (Value::Number(_), Value::String(_)) => as_number(a).zip(as_number(b)).is_some_and(|(x, y)| x == y),
        (Value::String(s), Value::Bool(t)) | (Value::Bool(t), Value::String(s)) => *s == t.to_string(),
        _ => a == b,
    }
}

/// A number, or a string that parses as a finite one (metadata values are strings).
fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

/// Parses `strategy.conditions`: each `{query, then}`, with `then` resolved to an index of
/// `names` (the group's target names).
pub(super) fn parse_conditions(
    value: &Value,
    path: &str,
    names: &[Option<String>],
    errs: &mut Problems,
) -> Vec<Condition> {
    let items = match value.as_array() {
        Some(items) if !items.is_empty() => items,
        _ => {
            errs.push(path, format!("expected a non-empty array of {{\"query\", \"then\"}}, got {}", got(value)));
            return Vec::new();
        }
    };
    let parsed = items.iter().enumerate().map(|(i, c)| parse_condition(c, &format!("{path}[{i}]"), names, errs));
    parsed.flatten().collect()
}

fn parse_condition(value: &Value, path: &str, names: &[Option<String>], errs: &mut Problems) -> Option<Condition> {
    let Some(obj) = value.as_object() else {
        errs.push(path, format!("expected an object {{\"query\", \"then\"}}, got {}", got(value)));
        return None;
    };
    check_keys(obj, path, &["query", "then"], errs);
    let query = required(obj, path, "query", errs).and_then(|q| parse_query(q, &join(path, "query"), errs));
    let then = required(obj, path, "then", errs).and_then(|t| resolve_target(t, &join(path, "then"), names, errs));
    Some(Condition { query: query?, then: then? })
}

fn required<'a>(obj: &'a Map<String, Value>, path: &str, key: &str, errs: &mut Problems) -> Option<&'a Value> {
    let found = obj.get(key);
    if found.is_none() {
        errs.push(join(path, key), "required");
    }
    found
}

/// The index of the target whose `name` is `value` (for `then` and `default`).
pub(super) fn resolve_target(
    value: &Value,
    path: &str,
    names: &[Option<String>],
    errs: &mut Problems,
) -> Option<usize> {
    let Some(name) = value.as_str() else {
        errs.push(path, format!("expected the name of a target, got {}", got(value)));
        return None;
    };
    let found = names.iter().position(|n| n.as_deref() == Some(name));
    if found.is_none() {
        errs.push(path, format!("no target named \"{name}\" ({})", known_names(names)));
    }
    found
}

fn known_names(names: &[Option<String>]) -> String {
    let quoted: Vec<String> = names.iter().flatten().map(|n| format!("\"{n}\"")).collect();
    if quoted.is_empty() {
        return "no target in this group has a \"name\"".to_string();
    }
    format!("targets here are named {}", quoted.join(", "))
}

/// Parses one query object (Portkey's Mongo-like syntax). Several keys must all hold.
pub(super) fn parse_query(value: &Value, path: &str, errs: &mut Problems) -> Option<Query> {
    let obj = match value.as_object() {
        Some(obj) if !obj.is_empty() => obj,
        _ => {
            errs.push(path, format!("expected a non-empty query object, got {}", got(value)));
            return None;
        }
    };
    let parts: Vec<Option<Query>> = obj.iter().map(|(k, v)| parse_clause(k, v, &join(path, k), errs)).collect();
    let mut parts: Vec<Query> = parts.into_iter().collect::<Option<_>>()?;
    Some(if parts.len() == 1 { parts.remove(0) } else { Query::And(parts) })
}

fn parse_clause(key: &str, value: &Value, path: &str, errs: &mut Problems) -> Option<Query> {
    match key {
        "$and" => parse_query_list(value, path, errs).map(Query::And),
        "$or" => parse_query_list(value, path, errs).map(Query::Or),
        _ if key.starts_with('$') => {
            errs.push(path, format!("unknown operator \"{key}\" here (expected $and, $or, or a field \"metadata.KEY\" / \"params.KEY\")"));
            None
        }
        _ => {
            let field = parse_field(key, path, errs);
            let ops = parse_ops(value, path, errs);
            Some(Query::Field { field: field?, ops: ops? })
        }
    }
}

fn parse_query_list(value: &Value, path: &str, errs: &mut Problems) -> Option<Vec<Query>> {
    let items = match value.as_array() {
        Some(items) if !items.is_empty() => items,
        _ => {
            errs.push(path, format!("expected a non-empty array of queries, got {}", got(value)));
            return None;
        }
    };
    let parsed: Vec<Option<Query>> =
        items.iter().enumerate().map(|(i, q)| parse_query(q, &format!("{path}[{i}]"), errs)).collect();
    parsed.into_iter().collect()
}

pub(super) fn parse_field(key: &str, path: &str, errs: &mut Problems) -> Option<Field> {
    let field = if let Some(name) = key.strip_prefix("metadata.") {
        (!name.is_empty()).then(|| Field::Metadata(name.to_string()))
    } else if let Some(rest) = key.strip_prefix("params.") {
        let segments: Vec<String> = rest.split('.').map(str::to_string).collect();
        segments.iter().all(|s| !s.is_empty()).then_some(Field::Params(segments))
    } else {
        None
    };
    if field.is_none() {
        errs.push(path, "a field must be \"metadata.KEY\" or \"params.PATH\" (e.g. \"params.model\")");
    }
    field
}

/// `{"$gt": 1, "$lt": 9}` (all must hold) or a plain value (meaning `$eq`).
fn parse_ops(value: &Value, path: &str, errs: &mut Problems) -> Option<Vec<(Op, Operand)>> {
    let Some(obj) = value.as_object().filter(|o| o.keys().any(|k| k.starts_with('$'))) else {
        return Some(vec![(Op::Eq, Operand::Value(value.clone()))]);
    };
    let parsed: Vec<Option<(Op, Operand)>> = obj.iter().map(|(k, v)| parse_op(k, v, &join(path, k), errs)).collect();
    parsed.into_iter().collect()
}

fn parse_op(key: &str, value: &Value, path: &str, errs: &mut Problems) -> Option<(Op, Operand)> {
    let Some(op) = OPS.iter().find(|(name, _)| *name == key).map(|(_, op)| *op) else {
        let valid: Vec<&str> = OPS.iter().map(|(name, _)| *name).collect();
        errs.push(path, format!("unknown operator \"{key}\" (expected one of {})", valid.join(", ")));
        return None;
    };
    match parse_operand(op, value) {
        Ok(operand) => Some((op, operand)),
        Err(message) => {
            errs.push(path, message);
            None
        }
    }
}

fn parse_operand(op: Op, value: &Value) -> Result<Operand, String> {
    match op {
        Op::Eq | Op::Ne => Ok(Operand::Value(value.clone())),
        Op::Gt | Op::Gte | Op::Lt | Op::Lte if value.is_number() => Ok(Operand::Value(value.clone())),
        Op::Gt | Op::Gte | Op::Lt | Op::Lte => Err(format!("expected a number, got {}", got(value))),
        Op::In | Op::Nin => value
            .as_array()
            .map(|l| Operand::List(l.clone()))
            .ok_or_else(|| format!("expected an array, got {}", got(value))),
        Op::Regex => parse_regex(value).map(Operand::Regex),
    }
}

fn parse_regex(value: &Value) -> Result<regex::Regex, String> {
    let pattern =
        value.as_str().ok_or_else(|| format!("expected a regular expression (a string), got {}", got(value)))?;
    let compiled = regex::RegexBuilder::new(pattern).size_limit(REGEX_SIZE_LIMIT).build();
    compiled.map_err(|e| format!("invalid regular expression: {}", regex_reason(&e)))
}

/// The regex crate's message spans lines (pattern, caret, reason); keep the reason.
fn regex_reason(error: &regex::Error) -> String {
    let text = error.to_string();
    let reason = text.lines().rev().find_map(|l| l.trim().strip_prefix("error: "));
    reason.map_or_else(|| text.split_whitespace().collect::<Vec<_>>().join(" "), str::to_string)
}

#[cfg(test)]
mod tests;
