//! The declarative file: applying creates virtual keys and configs, re-applying an unchanged
//! file writes nothing, a changed file updates only what changed (and drops the control
//! plane's caches), a bad file is refused with its path and the old state kept, `${VAR}`s
//! are substituted. Then the real binary: a bad file stops `serve` at start, and SIGHUP
//! re-applies a changed file while it runs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli_common;

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use cli_common::*;
use serde_json::{json, Value};
use switchboard::control::declarative::{self, apply, fingerprint, parse, Outcome};
use switchboard::control::Control;
use switchboard_store::{StoreLocation, Vault};

const SECRET: &str = "sk-proj-DECLARED-0123456789abcdef";
const ROTATED_SECRET: &str = "sk-proj-ROTATED-0123456789abcdef";

const FILE: &str = r#"
virtual_keys:
  - slug: openai-prod
    name: OpenAI prod
    provider: openai
    key: sk-proj-DECLARED-0123456789abcdef
  - slug: azure-eu
    provider: azure-openai
    key: az-0123456789abcdef
    resource_name: my-resource
    deployment_id: gpt-35
    api_version: "2024-02-01"
configs:
  - slug: pc-cookbook
    name: Cookbook
    config:
      strategy: {mode: loadbalance}
      targets:
        - {virtual_key: openai-prod, weight: 0.5}
        - {virtual_key: azure-eu, weight: 0.5}
"#;

async fn control(data: &Path) -> Control {
    let store = switchboard_store::open(&StoreLocation::Sqlite(data.to_owned())).await.unwrap();
    let vault = Vault::from_master_key([7u8; 32]);
    store.check_vault(&vault).await.unwrap();
    Control::new(store, vault)
}

fn write(dir: &TempDir, text: &str) -> std::path::PathBuf {
    let path = dir.path().join("switchboard.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

fn outcomes(entries: &[(String, Outcome)]) -> Vec<(&str, Outcome)> {
    entries.iter().map(|(slug, outcome)| (slug.as_str(), *outcome)).collect()
}

#[tokio::test]
async fn a_file_creates_its_virtual_keys_and_configs() {
    let dir = TempDir::new("sb-decl-create");
    let control = control(&dir.data()).await;
    let applied = declarative::reload(&write(&dir, FILE), &control).await.unwrap();
    assert_eq!(outcomes(&applied.virtual_keys), [("openai-prod", Outcome::Created), ("azure-eu", Outcome::Created)]);
    assert_eq!(outcomes(&applied.configs), [("pc-cookbook", Outcome::Created)]);

    let key = control.virtual_key("openai-prod", "test").await.unwrap();
    assert_eq!((key.provider.as_str(), key.api_key.expose()), ("openai", SECRET));
    let azure = control.virtual_key("azure-eu", "test").await.unwrap();
    assert_eq!(azure.options.deployment_id.as_deref(), Some("gpt-35"));
    assert_eq!(azure.options.api_version.as_deref(), Some("2024-02-01"));
    let record = control.store.get_virtual_key("azure-eu").await.unwrap().unwrap();
    assert_eq!(record.name, "azure-eu", "the name defaults to the slug");
    let config = control.store.get_config("pc-cookbook").await.unwrap().unwrap();
    assert_eq!((config.name.as_str(), config.version), ("Cookbook", 1));
    let stored: Value = serde_json::from_str(&config.config_json).unwrap();
    assert_eq!(stored["targets"][1], json!({"virtual_key": "azure-eu", "weight": 0.5}));
    assert_eq!(control.saved_config("pc-cookbook", "test").await.unwrap().version, 1);
}

#[tokio::test]
async fn an_unchanged_file_writes_nothing() {
    let dir = TempDir::new("sb-decl-same");
    let control = control(&dir.data()).await;
    let path = write(&dir, FILE);
    declarative::reload(&path, &control).await.unwrap();
    let generation = control.store.control_generation().await.unwrap();
    let again = declarative::reload(&path, &control).await.unwrap();
    assert!(!again.changed(), "{again:?}");
    assert_eq!(control.store.control_generation().await.unwrap(), generation);
    let reformatted = FILE.replace("{mode: loadbalance}", "\n        mode: loadbalance");
    assert!(!declarative::reload(&write(&dir, &reformatted), &control).await.unwrap().changed());
}

#[tokio::test]
async fn a_changed_file_updates_only_what_changed() {
    let dir = TempDir::new("sb-decl-change");
    let control = control(&dir.data()).await;
    declarative::reload(&write(&dir, FILE), &control).await.unwrap();
    // Warm the caches, so the test also shows they are dropped.
    assert_eq!(control.virtual_key("openai-prod", "t").await.unwrap().api_key.expose(), SECRET);
    assert_eq!(control.saved_config("pc-cookbook", "t").await.unwrap().version, 1);
    let azure_before = control.store.get_virtual_key("azure-eu").await.unwrap().unwrap();

    let changed = FILE
        .replace(SECRET, ROTATED_SECRET)
        .replace("weight: 0.5}\n        - {virtual_key: azure", "weight: 0.8}\n        - {virtual_key: azure");
    let applied = declarative::reload(&write(&dir, &changed), &control).await.unwrap();
    assert_eq!(outcomes(&applied.virtual_keys), [("openai-prod", Outcome::Updated), ("azure-eu", Outcome::Unchanged)]);
    assert_eq!(outcomes(&applied.configs), [("pc-cookbook", Outcome::Updated)]);
    assert!(!applied.to_string().contains(ROTATED_SECRET));

    assert_eq!(control.virtual_key("openai-prod", "t").await.unwrap().api_key.expose(), ROTATED_SECRET);
    assert_eq!(control.saved_config("pc-cookbook", "t").await.unwrap().version, 2);
    let azure_after = control.store.get_virtual_key("azure-eu").await.unwrap().unwrap();
    assert_eq!(azure_after, azure_before, "an unchanged key is not re-sealed");
    assert_eq!(control.store.config_versions("pc-cookbook").await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_bad_file_is_refused_with_its_path_and_the_old_state_kept() {
    let dir = TempDir::new("sb-decl-bad");
    let control = control(&dir.data()).await;
    declarative::reload(&write(&dir, FILE), &control).await.unwrap();
    let generation = control.store.control_generation().await.unwrap();
    let bad_files = [
        (FILE.replace("configs:", "configs: [\n"), "switchboard.yaml refused"),
        (FILE.replace("    name: Cookbook", "    nmae: Cookbook"), "configs[0]: unknown field `nmae`"),
        (
            FILE.replace("weight: 0.5}\n        - {virtual_key: azure", "weight: -1}\n        - {virtual_key: azure"),
            "configs[0].config.targets[0].weight: ",
        ),
        (
            FILE.replace(SECRET, "${SB_TEST_SURELY_UNSET}"),
            "virtual_keys[0].key: environment variable SB_TEST_SURELY_UNSET is not set",
        ),
        (FILE.replace("provider: openai", "provider: openia"), "virtual_keys[0].provider: unknown provider \"openia\""),
    ];
    for (text, expected) in bad_files {
        let err = declarative::reload(&write(&dir, &text.replace(SECRET, ROTATED_SECRET)), &control).await.unwrap_err();
        let message = err.to_string();
        assert!(message.contains("switchboard.yaml") && message.contains(expected), "{message}");
        assert!(!message.contains(ROTATED_SECRET), "a secret in an error: {message}");
    }
    assert_eq!(control.store.control_generation().await.unwrap(), generation, "nothing was written");
    assert_eq!(control.virtual_key("openai-prod", "t").await.unwrap().api_key.expose(), SECRET);
    let missing = declarative::reload(&dir.path().join("nope.yaml"), &control).await.unwrap_err();
    assert!(missing.to_string().starts_with("cannot read the declarative file "), "{missing}");
}

#[tokio::test]
async fn env_vars_are_substituted_into_secrets_and_configs() {
    let dir = TempDir::new("sb-decl-env");
    let control = control(&dir.data()).await;
    let text = FILE.replace(SECRET, "${OPENAI_API_KEY}").replace("name: Cookbook", "name: ${TEAM} cookbook");
    let env = |name: &str| match name {
        "OPENAI_API_KEY" => Some(SECRET.to_owned()),
        "TEAM" => Some("Search".to_owned()),
        _ => None,
    };
    let declared = parse(&text, &env).unwrap();
    apply(&declared, &control.store, &control.vault).await.unwrap();
    assert_eq!(control.virtual_key("openai-prod", "t").await.unwrap().api_key.expose(), SECRET);
    assert_eq!(control.store.get_config("pc-cookbook").await.unwrap().unwrap().name, "Search cookbook");

    let no_team = |name: &str| (name == "OPENAI_API_KEY").then(|| SECRET.to_owned());
    let err = parse(&text, &no_team).unwrap_err().to_string();
    assert_eq!(err, "configs[0].name: environment variable TEAM is not set");
}

#[test]
fn the_fingerprint_moves_when_the_file_changes() {
    let dir = TempDir::new("sb-decl-fingerprint");
    let path = dir.path().join("switchboard.yaml");
    assert_eq!(fingerprint(&path), None);
    std::fs::write(&path, "configs: []\n").unwrap();
    let first = fingerprint(&path);
    assert!(first.is_some());
    std::fs::write(&path, "configs: []\nvirtual_keys: []\n").unwrap();
    assert_ne!(fingerprint(&path), first);
}

/// `serve --config file` on `data` (the provider key comes from the env).
fn serve(data: &Path, file: &Path) -> std::process::Command {
    let mut command = switchboard();
    command.args(["serve", "--port", "0", "--data-dir"]).arg(data).arg("--config").arg(file);
    command.env("SWITCHBOARD_ADMIN_KEY", "sb-test-admin").env("SWITCHBOARD_MASTER_KEY", "07".repeat(32));
    command.env("TEST_PROVIDER_KEY", SECRET).env("RUST_LOG", "info");
    command.stdout(Stdio::null()).stderr(Stdio::piped());
    command
}

#[test]
fn serve_does_not_start_with_a_bad_file() {
    let dir = TempDir::new("sb-decl-serve-bad");
    let file = write(&dir, &FILE.replace(SECRET, "${SB_TEST_SURELY_UNSET}"));
    let run = wait_exit(serve(&dir.data(), &file).spawn().unwrap(), Duration::from_secs(60));
    assert_ne!(run.code, Some(0), "{run:?}");
    assert!(run.stderr.contains("switchboard.yaml refused"), "{run:?}");
    assert!(
        run.stderr.contains("virtual_keys[0].key: environment variable SB_TEST_SURELY_UNSET is not set"),
        "{run:?}"
    );
}

#[tokio::test]
async fn serve_applies_the_file_at_start_and_again_on_sighup() {
    let dir = TempDir::new("sb-decl-serve");
    let file = write(&dir, &FILE.replace(SECRET, "${TEST_PROVIDER_KEY}"));
    let mut child = serve(&dir.data(), &file).spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut log = Vec::new();
    loop {
        let line = lines.next().expect("the server exited before listening").unwrap();
        let listening = line.contains("listening on ");
        log.push(line);
        if listening {
            break;
        }
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || lines.map_while(Result::ok).for_each(|line| drop(tx.send(line))));
    assert!(log.iter().any(|l| l.contains("switchboard.yaml applied")), "{log:?}");

    let store = switchboard_store::open(&StoreLocation::Sqlite(dir.data())).await.unwrap();
    let key = store.get_virtual_key("openai-prod").await.unwrap().unwrap();
    assert_eq!(Vault::from_master_key([7u8; 32]).decrypt(&key.secret).unwrap().expose(), SECRET);
    assert_eq!(store.get_config("pc-cookbook").await.unwrap().unwrap().version, 1);

    write(
        &dir,
        &FILE
            .replace(SECRET, "${TEST_PROVIDER_KEY}")
            .replace("weight: 0.5}\n        - {virtual_key: azure", "weight: 0.8}\n        - {virtual_key: azure"),
    );
    let status = std::process::Command::new("kill").args(["-HUP", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let start = Instant::now();
    while store.get_config("pc-cookbook").await.unwrap().unwrap().version != 2 {
        assert!(start.elapsed() < Duration::from_secs(20), "SIGHUP did not re-apply the file");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(child.try_wait().unwrap().is_none(), "the server must keep running after SIGHUP");
    store.close().await;
    std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let exit = child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    let later: Vec<String> = rx.try_iter().collect();
    assert!(later.iter().chain(&log).all(|l| !l.contains(SECRET)), "a secret was logged");
}
