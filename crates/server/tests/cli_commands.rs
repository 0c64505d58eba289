//! The control-plane commands on the real binary against a temporary SQLite data directory:
//! results parsed from `--json`, errors as one clear line with exit code 1 (2 for usage
//! errors), and no secret in any output. Rotation keeps every secret readable under the new
//! key, and `serve` refuses the old one at start.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli_common;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use cli_common::*;
use serde_json::{json, Value};
use switchboard_store::vault::{parse_master_key, MASTER_KEY_FILE};
use switchboard_store::{hash_api_key, Store, StoreLocation, Vault};

const OPENAI_SECRET: &str = "sk-proj-SECRET-0123456789abcdef";
const ANTHROPIC_SECRET: &str = "sk-ant-SECRET-fedcba9876543210";

async fn open(data: &Path) -> Store {
    switchboard_store::open(&StoreLocation::Sqlite(data.to_owned())).await.unwrap()
}

fn file_key(data: &Path) -> [u8; 32] {
    let text = std::fs::read_to_string(data.join(MASTER_KEY_FILE)).unwrap();
    parse_master_key(&text, "test").unwrap()
}

/// The plaintext of virtual key `slug` under `key`.
async fn decrypt(data: &Path, slug: &str, key: [u8; 32]) -> Result<String, String> {
    let store = open(data).await;
    let record = store.get_virtual_key(slug).await.unwrap().unwrap();
    let secret = Vault::from_master_key(key).decrypt(&record.secret).map_err(|e| e.to_string());
    store.close().await;
    secret.map(|s| s.expose().to_owned())
}

fn add_openai(data: &Path) -> Run {
    let args = ["virtual-keys", "add", "--name", "OpenAI prod", "--provider", "openai", "--key-env", "OPENAI_KEY"];
    run_env(data, &args, &[("OPENAI_KEY", OPENAI_SECRET)])
}

fn assert_no_secret(runs: &[&Run]) {
    for run in runs {
        for secret in [OPENAI_SECRET, ANTHROPIC_SECRET] {
            assert!(!run.all().contains(secret), "a secret was printed: {run:?}");
        }
    }
}

#[tokio::test]
async fn virtual_keys_are_added_listed_and_removed_without_showing_the_secret() {
    let dir = TempDir::new("sb-cli-vk");
    let data = dir.data();
    let added = add_openai(&data);
    let stdin_args = ["virtual-keys", "add", "--name", "Claude", "--provider", "anthropic", "--key-stdin", "--json"];
    let claude = run_stdin(&data, &stdin_args, &format!("{ANTHROPIC_SECRET}\n"));
    assert_eq!(claude.json()["slug"], "claude");
    let listed = run(&data, &["virtual-keys", "list", "--json"]);
    let keys = listed.json();
    let summary: Vec<(&str, &str, &str)> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["slug"].as_str().unwrap(), k["provider"].as_str().unwrap(), k["secret_hint"].as_str().unwrap()))
        .collect();
    assert_eq!(summary, [("claude", "anthropic", "sk-…3210"), ("openai-prod", "openai", "sk-…cdef")]);
    let table = run(&data, &["virtual-keys", "list"]);
    assert!(table.ok().stdout.starts_with("SLUG"), "{table:?}");
    assert!(table.stdout.contains("openai-prod") && table.stdout.contains("sk-…cdef"));
    assert_no_secret(&[&added, &claude, &listed, &table]);
    let data_key = file_key(&data);
    assert_eq!(decrypt(&data, "openai-prod", data_key).await.as_deref(), Ok(OPENAI_SECRET));
    assert_eq!(decrypt(&data, "claude", data_key).await.as_deref(), Ok(ANTHROPIC_SECRET));

    assert_eq!(run(&data, &["virtual-keys", "rm", "claude", "--json"]).json(), json!({"deleted": "claude"}));
    let again = run(&data, &["virtual-keys", "rm", "claude"]);
    assert_eq!(again.code, Some(1));
    assert_eq!(again.stderr.trim(), "error: no virtual key `claude` (see `switchboard virtual-keys list`)");
    assert_eq!(run(&data, &["virtual-keys", "list", "--json"]).json().as_array().unwrap().len(), 1);
}

#[test]
fn a_taken_slug_is_refused_and_says_what_to_do() {
    let dir = TempDir::new("sb-cli-vk-taken");
    add_openai(&dir.data()).ok();
    let again = add_openai(&dir.data());
    assert_eq!(again.code, Some(1));
    assert!(again.stderr.contains("virtual key `openai-prod` already exists: choose another --slug"), "{again:?}");
    assert_no_secret(&[&again]);
}

#[test]
fn a_secret_is_never_taken_from_a_plain_flag() {
    let dir = TempDir::new("sb-cli-vk-flag");
    let no_source = run(&dir.data(), &["virtual-keys", "add", "--name", "n", "--provider", "openai"]);
    assert_eq!(no_source.code, Some(2), "{no_source:?}");
    let as_flag =
        run(&dir.data(), &["virtual-keys", "add", "--name", "n", "--provider", "openai", "--key", OPENAI_SECRET]);
    assert_eq!(as_flag.code, Some(2), "{as_flag:?}");
}

#[test]
fn bad_virtual_key_input_names_every_problem() {
    let dir = TempDir::new("sb-cli-vk-bad");
    let args =
        ["virtual-keys", "add", "--name", "Az", "--provider", "azure-openai", "--key-env", "K", "--resource-name", "r"];
    let azure = run_env(&dir.data(), &args, &[("K", OPENAI_SECRET)]);
    assert_eq!(azure.code, Some(1));
    let expected = "error: cannot add the virtual key:\n  --deployment: required for provider \"azure-openai\" \
                    (or a deployment_config entry)\n  --api-version: required for provider \"azure-openai\" \
                    (here or in the default deployment_config entry)\n";
    assert_eq!(azure.stderr, expected);
    let unset =
        run(&dir.data(), &["virtual-keys", "add", "--name", "n", "--provider", "openai", "--key-env", "SB_TEST_UNSET"]);
    assert_eq!(unset.code, Some(1));
    assert!(unset.stderr.contains("environment variable SB_TEST_UNSET is not set"), "{unset:?}");
    let args = ["virtual-keys", "add", "--name", "n", "--provider", "openia", "--key-env", "K"];
    let unknown = run_env(&dir.data(), &args, &[("K", OPENAI_SECRET)]);
    assert!(unknown.stderr.contains("--provider: unknown provider \"openia\""), "{unknown:?}");
    assert_no_secret(&[&azure, &unset, &unknown]);
}

const COOKBOOK: &str = "strategy: {mode: loadbalance}\ntargets:\n  - {virtual_key: openai-prod, weight: 0.5}\n  - {virtual_key: claude, weight: 0.5}\n";

fn put(dir: &TempDir, name: &str, text: &str, extra: &[&str]) -> Run {
    let file = dir.path().join(name);
    std::fs::write(&file, text).unwrap();
    let mut args = vec!["configs", "put", file.to_str().unwrap(), "--json"];
    args.extend_from_slice(extra);
    run(&dir.data(), &args)
}

#[test]
fn configs_are_versioned_only_when_they_change() {
    let dir = TempDir::new("sb-cli-configs");
    let created = put(&dir, "cookbook.yaml", COOKBOOK, &[]).json();
    assert_eq!(created, json!({"slug": "pc-cookbook", "name": "cookbook", "version": 1, "outcome": "created"}));
    let same = put(&dir, "cookbook.yaml", COOKBOOK, &[]).json();
    assert_eq!((same["version"].clone(), same["outcome"].clone()), (json!(1), json!("unchanged")));
    let changed = put(
        &dir,
        "cookbook.yaml",
        &COOKBOOK.replace("0.5}\n  - {virtual_key: claude", "0.9}\n  - {virtual_key: claude"),
        &["--name", "Cookbook"],
    )
    .json();
    assert_eq!((changed["version"].clone(), changed["name"].clone()), (json!(2), json!("Cookbook")));
    let as_json = put(&dir, "other.json", r#"{"provider": "openai", "api_key": "k"}"#, &["--slug", "direct"]).json();
    assert_eq!(as_json["slug"], "direct");

    let listed = run(&dir.data(), &["configs", "list", "--json"]).json();
    let slugs: Vec<(&str, i64)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["slug"].as_str().unwrap(), c["version"].as_i64().unwrap()))
        .collect();
    assert_eq!(slugs, [("direct", 1), ("pc-cookbook", 2)]);
    let first = run(&dir.data(), &["configs", "show", "pc-cookbook", "--version", "1", "--json"]).json();
    let original: Value = serde_norway::from_str(COOKBOOK).unwrap();
    assert_eq!((first["version"].clone(), first["current_version"].clone()), (json!(1), json!(2)));
    assert_eq!(first["config"], original);
    let shown = run(&dir.data(), &["configs", "show", "pc-cookbook"]);
    let current: Value = serde_json::from_str(&shown.ok().stdout).unwrap();
    assert_eq!(current["targets"][0]["weight"], json!(0.9));
    let missing = run(&dir.data(), &["configs", "show", "pc-cookbook", "--version", "7"]);
    assert_eq!(
        (missing.code, missing.stderr.trim()),
        (Some(1), "error: config `pc-cookbook` has no version 7 (versions 1 to 2)")
    );
}

#[test]
fn an_invalid_config_file_exits_1_with_every_path() {
    let dir = TempDir::new("sb-cli-configs-bad");
    let bad = "strategy: {mode: loadbalance}\ntargets:\n  - {provider: openai, api_key: k}\n  - {provider: openai, api_key: k, weight: -1, overide_params: {}}\n";
    let refused = put(&dir, "bad.yaml", bad, &[]);
    assert_eq!(refused.code, Some(1), "{refused:?}");
    assert!(refused.stderr.starts_with("error: "), "{refused:?}");
    assert!(refused.stderr.contains("bad.yaml is not a valid config"), "{refused:?}");
    assert!(refused.stderr.contains("\n  config.targets[1].weight: "), "{refused:?}");
    assert!(refused.stderr.contains("\n  config.targets[1].overide_params: "), "{refused:?}");
    let broken = put(&dir, "broken.json", "{\"strategy\": ", &[]);
    assert_eq!(broken.code, Some(1));
    assert!(broken.stderr.contains("broken.json is not valid JSON"), "{broken:?}");
    assert_eq!(run(&dir.data(), &["configs", "list", "--json"]).json(), json!([]));
}

#[tokio::test]
async fn api_keys_are_created_once_listed_by_hint_and_revoked() {
    let dir = TempDir::new("sb-cli-api-keys");
    let data = dir.data();
    let args = [
        "api-keys",
        "create",
        "--name",
        "ci",
        "--scope",
        "gateway",
        "--allow-config",
        "pc-a",
        "--default-config",
        "pc-a",
        "--json",
    ];
    let created = run(&data, &args);
    assert!(created.stderr.contains("warning: config `pc-a` does not exist (yet)"), "{created:?}");
    let created = created.json();
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("sb-") && key.len() > 30, "{key}");
    assert_eq!((created["scope"].clone(), created["allowed_configs"].clone()), (json!("gateway"), json!(["pc-a"])));
    let store = open(&data).await;
    let stored = store.find_api_key_by_hash(&hash_api_key(&key)).await.unwrap().unwrap();
    assert_eq!(stored.id, created["id"].as_str().unwrap());
    store.close().await;

    let listed = run(&data, &["api-keys", "list", "--json"]);
    let table = run(&data, &["api-keys", "list"]);
    for output in [&listed, &table] {
        assert!(!output.all().contains(&key), "the key was listed: {output:?}");
    }
    assert_eq!(listed.json()[0]["hint"], created["hint"]);
    let id = created["id"].as_str().unwrap();
    assert_eq!(run(&data, &["api-keys", "revoke", id, "--json"]).json(), json!({"revoked": id}));
    assert!(run(&data, &["api-keys", "list", "--json"]).json()[0]["revoked_at"].is_i64());
    let again = run(&data, &["api-keys", "revoke", id]);
    assert_eq!(
        (again.code, again.stderr.trim().to_owned()),
        (Some(1), format!("error: API key `{id}` is already revoked"))
    );
}

#[test]
fn api_key_limits_that_mean_nothing_are_refused() {
    let dir = TempDir::new("sb-cli-api-keys-bad");
    let admin = run(&dir.data(), &["api-keys", "create", "--name", "a", "--scope", "admin", "--allow-config", "pc-a"]);
    assert_eq!(admin.code, Some(1));
    assert!(admin.stderr.contains("limit gateway keys only"), "{admin:?}");
    let args = [
        "api-keys",
        "create",
        "--name",
        "g",
        "--scope",
        "gateway",
        "--allow-config",
        "pc-a",
        "--default-config",
        "pc-b",
    ];
    let default = run(&dir.data(), &args);
    assert!(default.stderr.contains("--default-config pc-b is not one of the --allow-config slugs"), "{default:?}");
    let scope = run(&dir.data(), &["api-keys", "create", "--name", "r", "--scope", "root"]);
    assert_eq!(scope.code, Some(2));
}

/// `serve` on `data` with `SWITCHBOARD_MASTER_KEY=key`: expected to refuse and exit.
fn serve_refuses(data: &Path, key: &str) -> Run {
    let mut command = switchboard();
    command.args(["serve", "--port", "0", "--data-dir"]).arg(data);
    command.env("SWITCHBOARD_MASTER_KEY", key).env("SWITCHBOARD_ADMIN_KEY", "sb-test-admin");
    let child = command.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    wait_exit(child, Duration::from_secs(60))
}

fn hex(key: [u8; 32]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn rotation_keeps_secrets_readable_and_serve_refuses_the_old_key() {
    let dir = TempDir::new("sb-cli-rotate");
    let data = dir.data();
    add_openai(&data).ok();
    let old = file_key(&data);
    let rotated = run(&data, &["rotate-master-key", "--json"]);
    let report = rotated.json();
    assert_eq!((report["reencrypted"].clone(), report["new_key"].clone()), (json!(1), Value::Null));
    assert!(!data.join("master.key.rotating").exists());
    let new = file_key(&data);
    assert_ne!(new, old);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(data.join(MASTER_KEY_FILE)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(decrypt(&data, "openai-prod", new).await.as_deref(), Ok(OPENAI_SECRET));
    assert!(decrypt(&data, "openai-prod", old).await.is_err());
    assert_no_secret(&[&rotated]);

    let refused = serve_refuses(&data, &hex(old));
    assert_ne!(refused.code, Some(0), "{refused:?}");
    assert!(refused.stderr.contains("the master key does not match"), "{refused:?}");
}

#[tokio::test]
async fn rotation_with_the_key_in_the_environment_prints_the_new_key_and_writes_no_file() {
    let dir = TempDir::new("sb-cli-rotate-env");
    let data = dir.data();
    let old = hex([3u8; 32]);
    let args = ["virtual-keys", "add", "--name", "OpenAI prod", "--provider", "openai", "--key-env", "OPENAI_KEY"];
    run_env(&data, &args, &[("OPENAI_KEY", OPENAI_SECRET), ("SWITCHBOARD_MASTER_KEY", &old)]).ok();
    assert!(!data.join(MASTER_KEY_FILE).exists());

    let report = run_env(&data, &["rotate-master-key", "--json"], &[("SWITCHBOARD_MASTER_KEY", &old)]).json();
    let new = parse_master_key(report["new_key"].as_str().unwrap(), "report").unwrap();
    assert!(!data.join(MASTER_KEY_FILE).exists() && !data.join("master.key.rotating").exists());
    assert_eq!(decrypt(&data, "openai-prod", new).await.as_deref(), Ok(OPENAI_SECRET));

    let chosen = hex([9u8; 32]);
    let env = [("SWITCHBOARD_MASTER_KEY", hex(new)), ("NEXT_KEY", chosen.clone())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let human = run_env(&data, &["rotate-master-key", "--new-key-env", "NEXT_KEY"], &env);
    assert!(human.ok().stdout.contains("set SWITCHBOARD_MASTER_KEY to the value of NEXT_KEY"), "{human:?}");
    assert!(!human.stdout.contains(&chosen), "a key given by env var is not echoed: {human:?}");
    assert_eq!(decrypt(&data, "openai-prod", [9u8; 32]).await.as_deref(), Ok(OPENAI_SECRET));
    let stale = run_env(&data, &["rotate-master-key"], &[("SWITCHBOARD_MASTER_KEY", &old)]);
    assert_eq!(stale.code, Some(1));
    assert!(stale.stderr.contains("the master key does not match"), "{stale:?}");
}

#[test]
fn rotation_without_any_key_says_there_is_nothing_to_rotate() {
    let dir = TempDir::new("sb-cli-rotate-none");
    let none = run(&dir.data(), &["rotate-master-key"]);
    assert_eq!(none.code, Some(1));
    assert!(none.stderr.contains("no master key to rotate"), "{none:?}");
}

/// `virtual-keys add --name NAME --provider PROVIDER --key-env K` and then `options`.
fn add_with<'a>(name: &'a str, provider: &'a str, options: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["virtual-keys", "add", "--name", name, "--provider", provider, "--key-env", "K"];
    args.extend_from_slice(options);
    args
}

#[test]
fn every_provider_option_has_a_flag_checked_by_the_same_rule_as_the_admin_api() {
    let dir = TempDir::new("sb-cli-vk-options");
    let deployments = r#"[{"deployment_name": "gpt4o", "api_version": "2024-10-21", "is_default": true}]"#;
    let args =
        add_with("Az", "azure-openai", &["--resource-name", "res", "--deployment-config", deployments, "--json"]);
    let azure = run_env(&dir.data(), &args, &[("K", OPENAI_SECRET)]);
    let options = &azure.ok().json()["options"];
    assert_eq!(options["deployment_config"][0]["deployment_name"], "gpt4o", "{azure:?}");
    let anthropic = ["--anthropic-version", "2023-06-01", "--anthropic-beta", "tools-2024-04-04", "--json"];
    let claude = run_env(&dir.data(), &add_with("Claude", "anthropic", &anthropic), &[("K", ANTHROPIC_SECRET)]);
    assert_eq!(claude.ok().json()["options"]["anthropic_beta"], "tools-2024-04-04", "{claude:?}");
    let two_defaults =
        r#"[{"deployment_name": "a", "is_default": true}, {"deployment_name": "b", "is_default": true}]"#;
    let azure_options = ["--resource-name", "res", "--api-version", "2024-10-21", "--deployment-config", two_defaults];
    let refused = run_env(&dir.data(), &add_with("Az2", "azure-openai", &azure_options), &[("K", OPENAI_SECRET)]);
    assert_eq!(refused.code, Some(1), "{refused:?}");
    assert!(refused.stderr.contains("--deployment-config"), "the problem names the flag: {refused:?}");
    let args = add_with("n", "azure-openai", &["--deployment-config", "[oops"]);
    let not_json = run_env(&dir.data(), &args, &[("K", OPENAI_SECRET)]);
    assert_eq!(not_json.code, Some(2), "{not_json:?}");
    assert_no_secret(&[&azure, &claude, &refused, &not_json]);
}

#[test]
fn key_limits_have_flags_checked_by_the_same_rule_as_the_admin_api() {
    let dir = TempDir::new("sb-cli-limits");
    let bad = r#"[{"type": "requests", "unit": "rps", "value": 1}]"#;
    let vk = run_env(&dir.data(), &add_with("n", "openai", &["--rate-limits", bad]), &[("K", OPENAI_SECRET)]);
    assert_eq!(vk.code, Some(1), "{vk:?}");
    assert!(vk.stderr.contains("--rate-limits[0].unit: unknown unit \"rps\" (expected rpm, rph, rpd)"), "{vk:?}");
    let budget = ["--usage-limits", r#"{"credit_limit": 5}"#, "--json"];
    let good = run_env(&dir.data(), &add_with("m", "openai", &budget), &[("K", OPENAI_SECRET)]);
    assert_eq!(good.ok().json()["options"]["usage_limits"], json!({"credit_limit": 5}));
    let daily = r#"{"credit_limit": 5, "periodic_reset": "daily"}"#;
    let key = run(&dir.data(), &["api-keys", "create", "--name", "k", "--scope", "gateway", "--usage-limits", daily]);
    assert_eq!(key.code, Some(1), "{key:?}");
    assert!(key.stderr.contains("--usage-limits.periodic_reset: unknown reset \"daily\""), "{key:?}");
    let rpm = r#"[{"type": "requests", "unit": "rpm", "value": 5}]"#;
    let created =
        run(&dir.data(), &["api-keys", "create", "--name", "k", "--scope", "gateway", "--rate-limits", rpm, "--json"]);
    assert_eq!(created.ok().json()["rate_limits"], json!([{"type": "requests", "unit": "rpm", "value": 5}]));
    assert_no_secret(&[&vk, &good]);
}
