use super::*;
use crate::config::{group_pick_conditional, Group};
use serde_json::json;

fn parse(query: &Value) -> Result<Query, Vec<String>> {
    let mut errs = Problems::default();
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
        (json!({"metadata.n": {"$regex": "(a"}}), &["q.metadata.n.$regex: invalid regular expression: unclosed group"]),
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
        hash_key: None,
        fail_when_all_unavailable: false,
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
