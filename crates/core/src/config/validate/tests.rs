use super::*;
use crate::provider::{known_ids, ProviderOptions};
use serde_json::json;

fn tree(config: Value) -> RouteTree {
    match validate_config(&config) {
        Ok(tree) => tree,
        Err(e) => panic!("{config} should validate: {e}"),
    }
}

fn errors(config: Value) -> Vec<String> {
    match validate_config(&config) {
        Ok(_) => panic!("{config} should be rejected"),
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

/// Each case: a config and exactly the errors it must produce, in order.
fn assert_errors(cases: &[(Value, &[&str])]) {
    for (config, want) in cases {
        assert_eq!(errors(config.clone()), *want, "for {config}");
    }
}

fn openai(key: &str) -> Value {
    json!({"provider": "openai", "api_key": key})
}

fn leaves(node: &Node) -> Vec<&Leaf> {
    match node {
        Node::Leaf(leaf) => vec![leaf],
        Node::Group(group) => group.targets.iter().flat_map(|c| leaves(&c.node)).collect(),
    }
}

fn root_group(tree: &RouteTree) -> &Group {
    match &tree.root {
        Node::Group(group) => group,
        Node::Leaf(_) => panic!("root should be a group"),
    }
}

#[test]
fn bare_leaf_is_the_root_at_path_config() {
    let t = tree(openai("sk-1"));
    let Node::Leaf(leaf) = &t.root else { panic!("root should be a leaf") };
    assert_eq!((leaf.path.as_str(), leaf.provider.as_deref()), ("config", Some("openai")));
    assert_eq!((leaf.retry.clone(), leaf.api_key.as_ref().map(Secret::expose)), (Retry::default(), Some("sk-1")));
    assert_eq!(t.mode(), Mode::Single);
}

#[test]
fn cookbook_config_validates() {
    let with_virtual_keys = json!({"strategy": {"mode": "loadbalance"}, "targets": [
        {"virtual_key": "anthropic-vk", "weight": 0.5,
         "override_params": {"max_tokens": 200, "model": "claude-3-opus-20240229"}},
        {"strategy": {"mode": "fallback"}, "weight": 0.5,
         "targets": [{"virtual_key": "openai-vk"}, {"virtual_key": "azure-vk"}]}]});
    let with_keys = json!({"strategy": {"mode": "loadbalance"}, "targets": [
        {"provider": "anthropic", "api_key": "sk-ant", "weight": 0.5,
         "override_params": {"max_tokens": 200, "model": "claude-3-opus-20240229"}},
        {"strategy": {"mode": "fallback"}, "weight": 0.5, "targets": [
            {"provider": "openai", "api_key": "sk-oai", "custom_host": "http://127.0.0.1:9000/v1/"},
            {"provider": "azure-openai", "api_key": "az", "custom_host": "https://proxy.example.com/openai",
             "deployment_id": "gpt35", "api_version": "2024-02-01"}]}]});
    for config in [with_virtual_keys, with_keys] {
        let t = tree(config);
        let group = root_group(&t);
        assert_eq!((group.mode, group.targets[0].weight, group.targets[1].weight), (Mode::Loadbalance, 0.5, 0.5));
        let all = leaves(&t.root);
        let paths: Vec<&str> = all.iter().map(|l| l.path.as_str()).collect();
        assert_eq!(paths, ["config.targets[0]", "config.targets[1].targets[0]", "config.targets[1].targets[1]"]);
        assert_eq!(
            Value::Object(all[0].override_params.clone()),
            json!({"max_tokens": 200, "model": "claude-3-opus-20240229"})
        );
        assert!(all[1].override_params.is_empty());
    }
    let canary = json!({"strategy": {"mode": "loadbalance"}, "targets": [
        {"virtual_key": "openai-vk", "weight": 0.9},
        {"virtual_key": "anyscale-vk", "weight": 0.1, "override_params": {"model": "meta-llama/Llama-2-70b-chat-hf"}}]});
    assert_eq!(root_group(&tree(canary)).targets[1].weight, 0.1);
}

#[test]
fn custom_host_keeps_url_without_trailing_slash() {
    let t = tree(json!({"provider": "openai", "custom_host": "http://127.0.0.1:9000/v1/"}));
    assert_eq!(leaves(&t.root)[0].custom_host.as_deref(), Some("http://127.0.0.1:9000/v1"));
    let bad = "expected an http(s) URL such as \"https://example.com/v1\", got";
    assert_errors(&[
        (json!({"provider": "openai", "custom_host": "ftp://x"}), &[&format!("config.custom_host: {bad} \"ftp://x\"")]),
        (
            json!({"provider": "openai", "custom_host": "https://"}),
            &[&format!("config.custom_host: {bad} \"https://\"")],
        ),
        (json!({"provider": "openai", "custom_host": 5}), &[&format!("config.custom_host: {bad} 5")]),
    ]);
}

#[test]
fn unknown_mode_names_path_and_choices() {
    let with_mode = |mode: Value| json!({"strategy": {"mode": mode}, "targets": [openai("a")]});
    assert_errors(&[
        (
            with_mode(json!("roundrobin")),
            &["config.strategy.mode: unknown mode \"roundrobin\" (expected single, loadbalance, fallback, conditional)"],
        ),
        (
            with_mode(json!(3)),
            &["config.strategy.mode: expected one of single, loadbalance, fallback, conditional, got 3"],
        ),
        (
            json!({"strategy": {}, "targets": [openai("a")]}),
            &["config.strategy.mode: required (expected single, loadbalance, fallback, conditional)"],
        ),
    ]);
}

#[test]
fn typo_key_suggests_spelling() {
    assert_errors(&[
        (
            json!({"strategy": {"mode": "fallback"}, "targets": [openai("a"),
                {"provider": "openai", "overide_params": {"model": "x"}}]}),
            &["config.targets[1].overide_params: unknown key (did you mean \"override_params\"?)"],
        ),
        (
            json!({"provider": "openai", "retry": {"atempts": 2}}),
            &[
                "config.retry.atempts: unknown key (did you mean \"attempts\"?)",
                "config.retry.attempts: required (an integer from 0 to 5)",
            ],
        ),
        (
            json!({"strategy": {"mode": "fallback", "on_status_code": [429]}, "targets": [openai("a")]}),
            &["config.strategy.on_status_code: unknown key (did you mean \"on_status_codes\"?)"],
        ),
        (
            json!({"provider": "openai", "zzz": 1}),
            &["config.zzz: unknown key (expected one of provider, api_key, virtual_key, override_params, weight, \
               name, retry, request_timeout, stream_idle_timeout, forward_headers, pricing, custom_host, resource_name, \
               deployment_id, api_version, deployment_config, anthropic_version, anthropic_beta)"],
        ),
    ]);
}

#[test]
fn camel_case_key_suggests_snake_case() {
    assert_errors(&[
        (
            json!({"provider": "openai", "overrideParams": {}}),
            &["config.overrideParams: use the snake_case spelling \"override_params\""],
        ),
        (
            json!({"virtualKey": "vk"}),
            &[
                "config.virtualKey: use the snake_case spelling \"virtual_key\"",
                "config: a target needs \"provider\" or \"virtual_key\"",
            ],
        ),
        (
            json!({"strategy": {"mode": "fallback", "onStatusCodes": [429]}, "targets": [openai("a")]}),
            &["config.strategy.onStatusCodes: use the snake_case spelling \"on_status_codes\""],
        ),
        (
            json!({"provider": "openai", "retry": {"attempts": 1, "useRetryAfterHeader": true}}),
            &["config.retry.useRetryAfterHeader: use the snake_case spelling \"use_retry_after_header\""],
        ),
    ]);
}

#[test]
fn cache_key_refused_explicitly() {
    assert_errors(&[
        (
            json!({"cache": {"mode": "simple"}, "provider": "openai"}),
            &["config.cache: not supported by Switchboard yet (Portkey's cache); remove it"],
        ),
        (
            json!({"strategy": {"mode": "fallback"}, "targets": [{"provider": "openai", "input_guardrails": ["g"]}]}),
            &["config.targets[0].input_guardrails: not supported by Switchboard yet (Portkey's guardrails); remove it"],
        ),
        (
            json!({"provider": "openai", "afterRequestHooks": []}),
            &["config.afterRequestHooks: not supported by Switchboard yet (Portkey's hooks); remove it"],
        ),
    ]);
    for (key, _) in UNSUPPORTED {
        let message = errors(json!({"provider": "openai", key: true})).join("; ");
        assert!(message.starts_with(&format!("config.{key}: not supported by Switchboard yet")), "{message}");
    }
}

#[test]
fn credentials_and_provider_options_rejected_on_groups() {
    let group = |key: &str| json!({"strategy": {"mode": "fallback"}, key: "x", "targets": [openai("a")]});
    assert_errors(&[
        (group("api_key"), &["config.api_key: credentials belong on a target, not on a group with targets"]),
        (group("virtual_key"), &["config.virtual_key: credentials belong on a target, not on a group with targets"]),
        (group("provider"), &["config.provider: credentials belong on a target, not on a group with targets"]),
        (
            group("resource_name"),
            &["config.resource_name: provider options belong on a target, not on a group with targets"],
        ),
    ]);
}

#[test]
fn retry_inherited_credentials_not() {
    let t = tree(json!({"strategy": {"mode": "fallback"}, "retry": {"attempts": 2}, "request_timeout": 1000,
        "custom_host": "https://gw.example.com/v1", "forward_headers": ["x-trace"],
        "targets": [
            {"provider": "openai", "api_key": "a"},
            {"strategy": {"mode": "single"}, "retry": {"attempts": 4, "on_status_codes": [503]},
             "request_timeout": 50, "targets": [{"provider": "groq", "forward_headers": []}]},
            {"provider": "anthropic", "custom_host": "http://localhost:8080"}]}));
    let all = leaves(&t.root);
    let retries: Vec<(u32, Vec<u16>)> =
        all.iter().map(|l| (l.retry.attempts, l.retry.on_status_codes.clone())).collect();
    assert_eq!(retries, [(2, DEFAULT_RETRY_STATUS.to_vec()), (4, vec![503]), (2, DEFAULT_RETRY_STATUS.to_vec())]);
    let timeouts: Vec<Option<u64>> = all.iter().map(|l| l.request_timeout_ms).collect();
    assert_eq!(timeouts, [Some(1000), Some(50), Some(1000)]);
    let hosts: Vec<Option<&str>> = all.iter().map(|l| l.custom_host.as_deref()).collect();
    assert_eq!(
        hosts,
        [Some("https://gw.example.com/v1"), Some("https://gw.example.com/v1"), Some("http://localhost:8080")]
    );
    let headers: Vec<Vec<String>> = all.iter().map(|l| l.forward_headers.clone()).collect();
    assert_eq!(headers, [vec!["x-trace".to_string()], vec![], vec!["x-trace".to_string()]]);
    let keys: Vec<Option<&str>> = all.iter().map(|l| l.api_key.as_ref().map(Secret::expose)).collect();
    assert_eq!(keys, [Some("a"), None, None]);
}

#[test]
fn override_params_deep_merge_child_wins() {
    let t = tree(json!({"strategy": {"mode": "fallback"},
        "override_params": {"model": "root", "max_tokens": 10, "metadata": {"a": 1, "b": 2}},
        "targets": [
            {"strategy": {"mode": "fallback"}, "override_params": {"metadata": {"b": 3}},
             "targets": [{"provider": "openai", "override_params": {"model": "leaf", "metadata": {"c": 4}}}]},
            {"provider": "openai"}]}));
    let all = leaves(&t.root);
    assert_eq!(
        Value::Object(all[0].override_params.clone()),
        json!({"model": "leaf", "max_tokens": 10, "metadata": {"a": 1, "b": 3, "c": 4}})
    );
    assert_eq!(
        Value::Object(all[1].override_params.clone()),
        json!({"model": "root", "max_tokens": 10, "metadata": {"a": 1, "b": 2}})
    );
    assert_errors(&[(
        json!({"provider": "openai", "override_params": [1]}),
        &["config.override_params: expected an object, got [1]"],
    )]);
}

#[test]
fn all_zero_weights_rejected() {
    let lb = |w0: Value, w1: Value| {
        json!({"strategy": {"mode": "loadbalance"},
        "targets": [{"provider": "openai", "weight": w0}, {"provider": "openai", "weight": w1}]})
    };
    assert_errors(&[(lb(json!(0), json!(0.0)), &["config.targets: every target has weight 0: nothing can be picked"])]);
    let t = tree(lb(json!(0), json!(2)));
    let weights: Vec<f64> = root_group(&t).targets.iter().map(|c| c.weight).collect();
    assert_eq!(weights, [0.0, 2.0]);
    // Only loadbalance picks by weight; a fallback of zero weights is fine.
    tree(json!({"strategy": {"mode": "fallback"}, "targets": [{"provider": "openai", "weight": 0}]}));
}

#[test]
fn weight_is_a_non_negative_number_default_one() {
    let lb = |w: Value| json!({"strategy": {"mode": "loadbalance"}, "targets": [openai("a"), {"provider": "openai", "weight": w}]});
    assert_errors(&[
        (lb(json!(-1)), &["config.targets[1].weight: expected a number ≥ 0, got -1"]),
        (lb(json!("0.5")), &["config.targets[1].weight: expected a number ≥ 0, got \"0.5\""]),
        (lb(json!(null)), &["config.targets[1].weight: expected a number ≥ 0, got null"]),
    ]);
    let t = tree(json!({"strategy": {"mode": "loadbalance"}, "targets": [openai("a")]}));
    assert_eq!(root_group(&t).targets[0].weight, 1.0);
}

#[test]
fn leaf_needs_provider_or_virtual_key() {
    assert_errors(&[
        (json!({"api_key": "sk"}), &["config: a target needs \"provider\" or \"virtual_key\""]),
        (
            json!({"strategy": {"mode": "fallback"}, "targets": [openai("a"), {}]}),
            &["config.targets[1]: a target needs \"provider\" or \"virtual_key\""],
        ),
    ]);
    tree(json!({"virtual_key": "vk"}));
}

#[test]
fn unknown_provider_lists_known_ids() {
    let want = format!("config.targets[0].provider: unknown provider \"open-ai\" (expected one of {})", known_ids());
    let got = errors(json!({"strategy": {"mode": "single"}, "targets": [{"provider": "open-ai"}]}));
    assert_eq!(got, [want]);
    assert!(known_ids().starts_with("openai, azure-openai, anthropic"));
}

#[test]
fn azure_needs_resource_deployment_version_unless_virtual_key() {
    let need = "required for provider \"azure-openai\"";
    assert_errors(&[
        (
            json!({"provider": "azure-openai", "api_key": "k"}),
            &[
                &format!("config.resource_name: {need} (or set custom_host)"),
                &format!("config.deployment_id: {need} (or a deployment_config entry)"),
                &format!("config.api_version: {need} (here or in the default deployment_config entry)"),
            ],
        ),
        (
            json!({"provider": "azure-openai", "custom_host": "https://az.example.com/openai", "deployment_id": "d"}),
            &[&format!("config.api_version: {need} (here or in the default deployment_config entry)")],
        ),
    ]);
    tree(json!({"provider": "azure-openai", "virtual_key": "vk"}));
    let t = tree(
        json!({"provider": "azure-openai", "api_key": "k", "resource_name": "r", "deployment_id": "d", "api_version": "v"}),
    );
    let want = ProviderOptions {
        resource_name: Some("r".into()),
        deployment_id: Some("d".into()),
        api_version: Some("v".into()),
        ..ProviderOptions::default()
    };
    assert_eq!(leaves(&t.root)[0].options, want);
}

#[test]
fn provider_options_of_another_provider_refused() {
    assert_errors(&[
        (
            json!({"provider": "openai", "anthropic_version": "2023-06-01"}),
            &["config.anthropic_version: only used by provider \"anthropic\""],
        ),
        (
            json!({"provider": "anthropic", "deployment_id": "d"}),
            &["config.deployment_id: only used by provider \"azure-openai\""],
        ),
    ]);
    let t = tree(json!({"provider": "anthropic", "anthropic_version": "2023-06-01", "anthropic_beta": "tools-2024"}));
    assert_eq!(leaves(&t.root)[0].options.anthropic_beta.as_deref(), Some("tools-2024"));
    tree(json!({"virtual_key": "vk", "anthropic_version": "2023-06-01"}));
}

#[test]
fn wrong_types_name_the_expected_type() {
    assert_errors(&[
        (
            json!({"provider": "openai", "retry": {"attempts": 9}}),
            &["config.retry.attempts: expected an integer from 0 to 5, got 9"],
        ),
        (
            json!({"provider": "openai", "retry": {"attempts": 1, "on_status_codes": [429, 42], "use_retry_after_header": "yes"}}),
            &[
                "config.retry.on_status_codes[1]: expected an HTTP status code from 100 to 599, got 42",
                "config.retry.use_retry_after_header: expected true or false, got \"yes\"",
            ],
        ),
        (
            json!({"provider": "openai", "retry": {"attempts": 1, "on_status_codes": []}}),
            &["config.retry.on_status_codes: expected a non-empty array of HTTP status codes, got []"],
        ),
        (
            json!({"provider": "openai", "retry": 3}),
            &["config.retry: expected an object such as {\"attempts\": 3}, got 3"],
        ),
        (
            json!({"provider": "openai", "request_timeout": 0}),
            &["config.request_timeout: expected a positive integer (milliseconds), got 0"],
        ),
        (
            json!({"provider": "openai", "forward_headers": ["x-ok", "bad header"]}),
            &["config.forward_headers[1]: expected an HTTP header name, got \"bad header\""],
        ),
        (
            json!({"provider": "openai", "forward_headers": "x-a"}),
            &["config.forward_headers: expected an array of header names, got \"x-a\""],
        ),
        (
            json!({"provider": "", "name": 7}),
            &[
                "config.name: expected a non-empty string, got 7",
                "config.provider: expected a non-empty string, got \"\"",
            ],
        ),
        (
            json!([1, 2]),
            &["config: expected an object (a target, or a group with \"strategy\" and \"targets\"), got [1,2]"],
        ),
    ]);
}

#[test]
fn credentials_never_echoed_in_errors() {
    let got = errors(json!({"provider": "openai", "api_key": 123456789, "virtual_key": ["vk-secret"]}));
    assert_eq!(
        got,
        [
            "config.api_key: expected a non-empty string, got a number",
            "config.virtual_key: expected a non-empty string, got an array"
        ]
    );
}

#[test]
fn long_values_are_quoted_short() {
    let long = "x".repeat(100);
    let got = errors(json!({"provider": "openai", "weight": long}));
    assert_eq!(got, [format!("config.weight: expected a number ≥ 0, got \"{}…", "x".repeat(39))]);
}

#[test]
fn group_needs_strategy_and_non_empty_targets() {
    assert_errors(&[
        (
            json!({"targets": [openai("a")]}),
            &["config.strategy: required next to \"targets\" (e.g. {\"mode\": \"fallback\"})"],
        ),
        (
            json!({"strategy": {"mode": "fallback"}}),
            &["config.targets: required next to \"strategy\" (a non-empty array of targets)"],
        ),
        (
            json!({"strategy": {"mode": "fallback"}, "targets": []}),
            &["config.targets: expected a non-empty array of targets, got []"],
        ),
        (
            json!({"strategy": "fallback", "targets": [openai("a")]}),
            &["config.strategy: expected an object such as {\"mode\": \"fallback\"}, got \"fallback\""],
        ),
    ]);
}

#[test]
fn single_mode_accepts_several_targets() {
    let t = tree(json!({"strategy": {"mode": "single"}, "targets": [openai("a"), openai("b")]}));
    assert_eq!((t.mode(), root_group(&t).targets.len()), (Mode::Single, 2));
}

#[test]
fn fallback_on_status_codes_only_for_fallback() {
    let t = tree(json!({"strategy": {"mode": "fallback", "on_status_codes": [429, 503]}, "targets": [openai("a")]}));
    assert_eq!(root_group(&t).on_status_codes, Some(vec![429, 503]));
    assert_eq!(
        root_group(&tree(json!({"strategy": {"mode": "fallback"}, "targets": [openai("a")]}))).on_status_codes,
        None
    );
    assert_errors(&[(
        json!({"strategy": {"mode": "loadbalance", "on_status_codes": [429]}, "targets": [openai("a")]}),
        &["config.strategy.on_status_codes: only used by mode \"fallback\" (this group's mode is \"loadbalance\")"],
    )]);
}

fn conditional(strategy_extra: Value, targets: Value) -> Value {
    let mut strategy = json!({"mode": "conditional"});
    if let (Some(s), Some(extra)) = (strategy.as_object_mut(), strategy_extra.as_object()) {
        s.extend(extra.clone());
    }
    json!({"strategy": strategy, "targets": targets})
}

fn named(name: &str) -> Value {
    json!({"name": name, "provider": "openai"})
}

#[test]
fn conditions_only_with_conditional_and_required_there() {
    assert_errors(&[
        (
            json!({"strategy": {"mode": "fallback", "conditions": [], "default": "a"}, "targets": [named("a")]}),
            &[
                "config.strategy.conditions: only used by mode \"conditional\" (this group's mode is \"fallback\")",
                "config.strategy.default: only used by mode \"conditional\" (this group's mode is \"fallback\")",
            ],
        ),
        (
            conditional(json!({"default": "a"}), json!([named("a")])),
            &["config.strategy.conditions: required for mode \"conditional\" (a non-empty array of {\"query\", \"then\"})"],
        ),
        (
            conditional(json!({"conditions": []}), json!([named("a")])),
            &["config.strategy.conditions: expected a non-empty array of {\"query\", \"then\"}, got []"],
        ),
    ]);
}

#[test]
fn conditional_then_and_default_must_name_a_target() {
    let query = json!({"metadata.plan": "paid"});
    assert_errors(&[
        (
            conditional(
                json!({"conditions": [{"query": query, "then": "x"}], "default": "y"}),
                json!([named("a"), named("b")]),
            ),
            &[
                "config.strategy.conditions[0].then: no target named \"x\" (targets here are named \"a\", \"b\")",
                "config.strategy.default: no target named \"y\" (targets here are named \"a\", \"b\")",
            ],
        ),
        (
            conditional(json!({"conditions": [{"query": query, "then": "x"}]}), json!([openai("k")])),
            &["config.strategy.conditions[0].then: no target named \"x\" (no target in this group has a \"name\")"],
        ),
        (
            conditional(json!({"conditions": [{"query": query}, {"then": "a", "if": 1}]}), json!([named("a")])),
            &[
                "config.strategy.conditions[0].then: required",
                "config.strategy.conditions[1].if: unknown key (expected one of query, then)",
                "config.strategy.conditions[1].query: required",
            ],
        ),
    ]);
    let t = tree(conditional(
        json!({"conditions": [{"query": query, "then": "b"}], "default": "a"}),
        json!([named("a"), named("b")]),
    ));
    let group = root_group(&t);
    assert_eq!((group.conditions[0].then, group.default), (1, Some(0)));
}

#[test]
fn conditional_target_names_unique() {
    assert_errors(&[(
        conditional(
            json!({"conditions": [{"query": {"metadata.a": "1"}, "then": "a"}]}),
            json!([named("a"), named("b"), named("a")]),
        ),
        &["config.targets[2].name: \"a\" is already the name of config.targets[0]"],
    )]);
}

#[test]
fn every_error_is_collected() {
    let got = errors(json!({
        "strategy": {"mode": "loadbalance"}, "cache": {"mode": "simple"},
        "targets": [
            {"provider": "open-ai", "weight": -2},
            {"strategy": {"mode": "fallback"}, "targets": [{"api_key": "sk"}, {"virtual_key": "vk", "overide_params": {}}]},
            {"provider": "openai", "retry": {"attempts": 9}, "request_timeout": -5}]}));
    let want = [
        "config.cache: not supported by Switchboard yet (Portkey's cache); remove it".to_string(),
        "config.targets[0].weight: expected a number ≥ 0, got -2".to_string(),
        format!("config.targets[0].provider: unknown provider \"open-ai\" (expected one of {})", known_ids()),
        "config.targets[1].targets[0]: a target needs \"provider\" or \"virtual_key\"".to_string(),
        "config.targets[1].targets[1].overide_params: unknown key (did you mean \"override_params\"?)".to_string(),
        "config.targets[2].retry.attempts: expected an integer from 0 to 5, got 9".to_string(),
        "config.targets[2].request_timeout: expected a positive integer (milliseconds), got -5".to_string(),
    ];
    assert_eq!(got, want);
}

#[test]
fn invalid_json_reports_line_and_column() {
    let Err(Problems(errs)) = parse_config("{\n  \"provider\": \"openai\",\n}") else { panic!("should fail") };
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].path, "config");
    assert!(
        errs[0].message.starts_with("invalid JSON: ") && errs[0].message.contains("line 3 column 1"),
        "{}",
        errs[0].message
    );
    assert!(parse_config("{\"provider\": \"openai\"}").is_ok());
}

#[test]
fn suggestions_come_from_edit_distance_two_or_less() {
    let cases = [
        ("overide_params", Some("override_params")),
        ("virtal_key", Some("virtual_key")),
        ("targts", Some("targets")),
        ("wieght", Some("weight")),
        ("model", None),
    ];
    let candidates: Vec<&str> = LEAF_KEYS.iter().chain(&GROUP_KEYS[..2]).copied().collect();
    for (key, want) in cases {
        let message = unknown_key(key, &LEAF_KEYS, &candidates);
        let suggested = message.strip_prefix("unknown key (did you mean \"").and_then(|m| m.strip_suffix("\"?)"));
        assert_eq!(suggested, want, "{key}: {message}");
    }
}

#[test]
fn pricing_override_is_read_and_checked() {
    let t = tree(json!({"provider": "openai", "api_key": "k", "pricing": {"input": 1.5, "output": 2}}));
    let Node::Leaf(leaf) = &t.root else { panic!("a leaf") };
    assert_eq!(leaf.pricing.map(|p| (p.input, p.output, p.cached_input)), Some((1.5, 2.0, None)));
    let errs = errors(json!({"provider": "openai", "api_key": "k", "pricing": {"input": -1, "output": 2}}));
    assert_eq!(errs, ["config.pricing: input: expected a price ≥ 0 in USD per 1M tokens"]);
}

#[test]
fn secrets_in_the_wrong_place_are_never_echoed() {
    for bad in [
        json!({"provider": "openai", "api_key": "k", "weight": "sk-live-abc123"}),
        json!({"provider": "openai", "api_key": "k", "targets": "Zk29fjA83kdLq0PzXv77"}),
        json!({"provider": "openai", "api_key": "k", "retry": {"attempts": ["sk-x"]}}),
    ] {
        let errs = errors(bad.clone()).join("; ");
        for secret in ["sk-live-abc123", "Zk29fjA83kdLq0PzXv77", "sk-x"] {
            assert!(!errs.contains(secret), "{secret} echoed in: {errs}");
        }
    }
    let mode = errors(json!({"strategy": {"mode": "roundrobin"}, "targets": [{"provider": "openai", "api_key": "k"}]}));
    assert!(mode[0].contains("\"roundrobin\""), "ordinary values are still quoted: {mode:?}");
}

#[test]
fn a_targets_provider_options_meet_the_virtual_key_rules() {
    let t = tree(json!({"provider": "azure-openai", "api_key": "k", "resource_name": "r",
        "deployment_config": [{"deployment_name": "d", "api_version": "v", "is_default": true}]}));
    let options = &leaves(&t.root)[0].options;
    assert_eq!((options.deployment_id.as_deref(), options.api_version.as_deref()), (Some("d"), Some("v")));
    assert_errors(&[
        (
            json!({"strategy": {"mode": "fallback"}, "targets": [openai("a"), {"provider": "openai", "api_key": "b",
                "custom_host": "http://u:p@gw.internal/v1"}]}),
            &["config.targets[1].custom_host: must not contain credentials (user:password@): a URL is shown and logged, \
               a key is not"],
        ),
        (
            json!({"provider": "azure-openai", "resource_name": "r", "deployment_id": "d", "api_version": "v",
                "deployment_config": {}}),
            &["config.deployment_config: expected a non-empty array like [{\"deployment_name\": \"gpt-4o\", \
               \"api_version\": \"2024-02-01\", \"is_default\": true}], got {}"],
        ),
    ]);
}
