//! Conditional routing: queries over request metadata and params (`$eq $ne $gt $gte $lt $lte
//! $in $nin $regex $and $or`), as in Portkey's `strategy.mode: conditional`.

use serde_json::{Map, Value};

use super::model::Group;
use super::validate::{check_keys, got, join, ConfigErrors};

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

/// The target a conditional group routes to: the first matching condition's `then`, else
/// its `default`; `None` when neither applies (the planner reports "no route").
pub fn group_pick_conditional(group: &Group, facts: &RequestFacts) -> Option<usize> {
    group.conditions.iter().find(|c| c.matches(facts)).map(|c| c.then).or(group.default)
}

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
    fn lookup<'a>(&self, facts: &RequestFacts<'a>) -> Option<&'a Value> {
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
    errs: &mut ConfigErrors,
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

fn parse_condition(value: &Value, path: &str, names: &[Option<String>], errs: &mut ConfigErrors) -> Option<Condition> {
    let Some(obj) = value.as_object() else {
        errs.push(path, format!("expected an object {{\"query\", \"then\"}}, got {}", got(value)));
        return None;
    };
    check_keys(obj, path, &["query", "then"], errs);
    let query = required(obj, path, "query", errs).and_then(|q| parse_query(q, &join(path, "query"), errs));
    let then = required(obj, path, "then", errs).and_then(|t| resolve_target(t, &join(path, "then"), names, errs));
    Some(Condition { query: query?, then: then? })
}

fn required<'a>(obj: &'a Map<String, Value>, path: &str, key: &str, errs: &mut ConfigErrors) -> Option<&'a Value> {
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
    errs: &mut ConfigErrors,
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
pub(super) fn parse_query(value: &Value, path: &str, errs: &mut ConfigErrors) -> Option<Query> {
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

fn parse_clause(key: &str, value: &Value, path: &str, errs: &mut ConfigErrors) -> Option<Query> {
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

fn parse_query_list(value: &Value, path: &str, errs: &mut ConfigErrors) -> Option<Vec<Query>> {
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

fn parse_field(key: &str, path: &str, errs: &mut ConfigErrors) -> Option<Field> {
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
fn parse_ops(value: &Value, path: &str, errs: &mut ConfigErrors) -> Option<Vec<(Op, Operand)>> {
    let Some(obj) = value.as_object().filter(|o| o.keys().any(|k| k.starts_with('$'))) else {
        return Some(vec![(Op::Eq, Operand::Value(value.clone()))]);
    };
    let parsed: Vec<Option<(Op, Operand)>> = obj.iter().map(|(k, v)| parse_op(k, v, &join(path, k), errs)).collect();
    parsed.into_iter().collect()
}

fn parse_op(key: &str, value: &Value, path: &str, errs: &mut ConfigErrors) -> Option<(Op, Operand)> {
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
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(query: &Value) -> Result<Query, Vec<String>> {
        let mut errs = ConfigErrors(Vec::new());
        let parsed = parse_query(query, "q", &mut errs);
        match parsed {
            Some(q) if errs.0.is_empty() => Ok(q),
            _ => Err(errs.0.iter().map(ToString::to_string).collect()),
        }
    }

    fn object(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            other => panic!("not an object: {other}"),
        }
    }

    /// Each case: a query, the request's metadata and params, and whether it must match.
    fn assert_matches(cases: &[(Value, Value, Value, bool)]) {
        for (query, metadata, params, want) in cases {
            let q = parse(query).unwrap_or_else(|e| panic!("{query} should parse: {e:?}"));
            let (m, p) = (object(metadata.clone()), object(params.clone()));
            let facts = RequestFacts { metadata: &m, params: &p };
            assert_eq!(q.matches(&facts), *want, "{query} on metadata {metadata} params {params}");
        }
    }

    /// Cases over metadata only.
    fn assert_on_metadata(cases: &[(Value, Value, bool)]) {
        let cases: Vec<_> = cases.iter().map(|(q, m, want)| (q.clone(), m.clone(), json!({}), *want)).collect();
        assert_matches(&cases);
    }

    fn assert_parse_errors(cases: &[(Value, &[&str])]) {
        for (query, want) in cases {
            assert_eq!(parse(query).err().unwrap_or_default(), *want, "for {query}");
        }
    }

    #[test]
    fn eq_compares_values_with_string_number_leniency() {
        assert_on_metadata(&[
            (json!({"metadata.plan": {"$eq": "paid"}}), json!({"plan": "paid"}), true),
            (json!({"metadata.plan": {"$eq": "paid"}}), json!({"plan": "free"}), false),
            (json!({"metadata.plan": "paid"}), json!({"plan": "paid"}), true),
            (json!({"metadata.tier": {"$eq": 5}}), json!({"tier": "5"}), true),
            (json!({"metadata.tier": {"$eq": 5}}), json!({"tier": "5.0"}), true),
            (json!({"metadata.tier": {"$eq": 5}}), json!({"tier": "6"}), false),
            (json!({"metadata.tier": {"$eq": "5"}}), json!({"tier": "5.0"}), false),
            (json!({"metadata.beta": {"$eq": true}}), json!({"beta": "true"}), true),
            (json!({"metadata.beta": {"$eq": true}}), json!({"beta": "yes"}), false),
        ]);
        assert_matches(&[
            (json!({"params.temperature": 1}), json!({}), json!({"temperature": 1.0}), true),
            (json!({"params.stop": ["a"]}), json!({}), json!({"stop": ["a"]}), true),
            (
                json!({"params.response_format": {"type": "json"}}),
                json!({}),
                json!({"response_format": {"type": "json"}}),
                true,
            ),
        ]);
    }

    #[test]
    fn ne_negates_eq() {
        assert_on_metadata(&[
            (json!({"metadata.plan": {"$ne": "paid"}}), json!({"plan": "free"}), true),
            (json!({"metadata.plan": {"$ne": "paid"}}), json!({"plan": "paid"}), false),
            (json!({"metadata.tier": {"$ne": 5}}), json!({"tier": "5"}), false),
        ]);
    }

    #[test]
    fn gt_gte_lt_lte_compare_numbers_parsed_from_strings() {
        assert_on_metadata(&[
            (json!({"metadata.n": {"$gt": 5}}), json!({"n": "6"}), true),
            (json!({"metadata.n": {"$gt": 5}}), json!({"n": "5"}), false),
            (json!({"metadata.n": {"$gte": 5}}), json!({"n": "5"}), true),
            (json!({"metadata.n": {"$gte": 5}}), json!({"n": "4.9"}), false),
            (json!({"metadata.n": {"$lt": 5}}), json!({"n": "-1"}), true),
            (json!({"metadata.n": {"$lt": 5}}), json!({"n": "5"}), false),
            (json!({"metadata.n": {"$lte": 5}}), json!({"n": 5}), true),
            (json!({"metadata.n": {"$lte": 5}}), json!({"n": "10"}), false),
            (json!({"metadata.n": {"$gt": 5}}), json!({"n": "many"}), false),
            (json!({"metadata.n": {"$lt": 5}}), json!({"n": "NaN"}), false),
        ]);
        assert_matches(&[(json!({"params.max_tokens": {"$gte": 1000}}), json!({}), json!({"max_tokens": 4096}), true)]);
    }

    #[test]
    fn in_and_nin_test_membership() {
        assert_on_metadata(&[
            (json!({"metadata.region": {"$in": ["eu", "us"]}}), json!({"region": "eu"}), true),
            (json!({"metadata.region": {"$in": ["eu", "us"]}}), json!({"region": "ap"}), false),
            (json!({"metadata.tier": {"$in": [1, 2]}}), json!({"tier": "2"}), true),
            (json!({"metadata.region": {"$nin": ["eu", "us"]}}), json!({"region": "ap"}), true),
            (json!({"metadata.region": {"$nin": ["eu", "us"]}}), json!({"region": "us"}), false),
        ]);
    }

    #[test]
    fn regex_matches_strings_only() {
        assert_on_metadata(&[
            (json!({"metadata.user": {"$regex": "^team-"}}), json!({"user": "team-ops"}), true),
            (json!({"metadata.user": {"$regex": "^team-"}}), json!({"user": "ops-team-"}), false),
        ]);
        assert_matches(&[
            (json!({"params.model": {"$regex": "^gpt-4"}}), json!({}), json!({"model": "gpt-4o"}), true),
            (json!({"params.n": {"$regex": "1"}}), json!({}), json!({"n": 1}), false),
        ]);
    }

    #[test]
    fn missing_field_satisfies_only_ne_and_nin() {
        let none = json!({});
        assert_on_metadata(&[
            (json!({"metadata.x": {"$ne": "a"}}), none.clone(), true),
            (json!({"metadata.x": {"$nin": ["a"]}}), none.clone(), true),
            (json!({"metadata.x": {"$eq": "a"}}), none.clone(), false),
            (json!({"metadata.x": {"$in": ["a"]}}), none.clone(), false),
            (json!({"metadata.x": {"$gt": 0}}), none.clone(), false),
            (json!({"metadata.x": {"$regex": ".*"}}), none.clone(), false),
            (json!({"metadata.x": null}), none, false),
        ]);
        assert_matches(&[(json!({"params.a.b": {"$ne": 1}}), json!({}), json!({"a": 5}), true)]);
    }

    #[test]
    fn and_or_nest() {
        let query = json!({"$or": [
            {"$and": [{"metadata.plan": "paid"}, {"metadata.n": {"$gte": 10}}]},
            {"metadata.vip": "true"}]});
        assert_on_metadata(&[
            (query.clone(), json!({"plan": "paid", "n": "12"}), true),
            (query.clone(), json!({"plan": "paid", "n": "2"}), false),
            (query.clone(), json!({"plan": "free", "n": "12", "vip": "true"}), true),
            (query, json!({"plan": "free"}), false),
        ]);
    }

    #[test]
    fn several_keys_and_operators_must_all_hold() {
        assert_on_metadata(&[
            (json!({"metadata.n": {"$gt": 1, "$lt": 5}}), json!({"n": "3"}), true),
            (json!({"metadata.n": {"$gt": 1, "$lt": 5}}), json!({"n": "7"}), false),
            (json!({"metadata.a": "1", "metadata.b": "2"}), json!({"a": "1", "b": "2"}), true),
            (json!({"metadata.a": "1", "metadata.b": "2"}), json!({"a": "1", "b": "3"}), false),
        ]);
    }

    #[test]
    fn params_path_walks_objects_and_arrays() {
        let params = json!({"model": "gpt-4o", "messages": [{"role": "system"}], "metadata": {"a": {"b": "c"}}});
        assert_matches(&[
            (json!({"params.model": "gpt-4o"}), json!({}), params.clone(), true),
            (json!({"params.messages.0.role": "system"}), json!({}), params.clone(), true),
            (json!({"params.messages.1.role": "system"}), json!({}), params.clone(), false),
            (json!({"params.metadata.a.b": "c"}), json!({}), params.clone(), true),
            (json!({"params.model.x": "gpt-4o"}), json!({}), params, false),
        ]);
    }

    #[test]
    fn unknown_operator_lists_valid_ones() {
        assert_parse_errors(&[
            (
                json!({"metadata.a": {"$exists": true}}),
                &["q.metadata.a.$exists: unknown operator \"$exists\" (expected one of $eq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $regex)"],
            ),
            (
                json!({"$not": [{"metadata.a": "1"}]}),
                &["q.$not: unknown operator \"$not\" here (expected $and, $or, or a field \"metadata.KEY\" / \"params.KEY\")"],
            ),
        ]);
    }

    #[test]
    fn operands_are_typed_per_operator() {
        assert_parse_errors(&[
            (json!({"metadata.n": {"$gt": "5"}}), &["q.metadata.n.$gt: expected a number, got \"5\""]),
            (json!({"metadata.n": {"$in": "a"}}), &["q.metadata.n.$in: expected an array, got \"a\""]),
            (json!({"metadata.n": {"$nin": 1}}), &["q.metadata.n.$nin: expected an array, got 1"]),
            (
                json!({"metadata.n": {"$regex": 1}}),
                &["q.metadata.n.$regex: expected a regular expression (a string), got 1"],
            ),
            (
                json!({"metadata.n": {"$regex": "(a"}}),
                &["q.metadata.n.$regex: invalid regular expression: unclosed group"],
            ),
        ]);
    }

    #[test]
    fn fields_start_with_metadata_or_params() {
        let hint = "a field must be \"metadata.KEY\" or \"params.PATH\" (e.g. \"params.model\")";
        assert_parse_errors(&[
            (json!({"user.plan": "paid"}), &[&format!("q.user.plan: {hint}")]),
            (json!({"metadata.": "paid"}), &[&format!("q.metadata.: {hint}")]),
            (json!({"params.a..b": 1}), &[&format!("q.params.a..b: {hint}")]),
        ]);
    }

    #[test]
    fn queries_and_their_lists_are_non_empty() {
        assert_parse_errors(&[
            (json!({}), &["q: expected a non-empty query object, got {}"]),
            (json!("paid"), &["q: expected a non-empty query object, got \"paid\""]),
            (json!({"$and": []}), &["q.$and: expected a non-empty array of queries, got []"]),
            (
                json!({"$or": [{"x": 1}, 5]}),
                &[
                    "q.$or[0].x: a field must be \"metadata.KEY\" or \"params.PATH\" (e.g. \"params.model\")",
                    "q.$or[1]: expected a non-empty query object, got 5",
                ],
            ),
        ]);
    }

    fn group(conditions: Vec<Condition>, default: Option<usize>) -> Group {
        Group {
            path: "config".into(),
            mode: crate::config::Mode::Conditional,
            targets: Vec::new(),
            on_status_codes: None,
            conditions,
            default,
        }
    }

    #[test]
    fn group_pick_first_match_else_default() {
        let condition = |q: Value, then| Condition { query: parse(&q).unwrap_or_else(|e| panic!("{e:?}")), then };
        let conditions =
            vec![condition(json!({"metadata.plan": "paid"}), 2), condition(json!({"metadata.n": {"$gt": 0}}), 1)];
        let cases = [(json!({"plan": "paid", "n": "1"}), Some(2)), (json!({"n": "1"}), Some(1)), (json!({}), Some(0))];
        let params = Map::new();
        for (metadata, want) in cases {
            let m = object(metadata);
            let facts = RequestFacts { metadata: &m, params: &params };
            assert_eq!(group_pick_conditional(&group(conditions.clone(), Some(0)), &facts), want);
        }
        let (m, p) = (Map::new(), Map::new());
        assert_eq!(group_pick_conditional(&group(conditions, None), &RequestFacts { metadata: &m, params: &p }), None);
    }
}
