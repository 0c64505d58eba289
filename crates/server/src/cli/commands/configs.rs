//! `switchboard configs put|list|show`. A config file (JSON, or YAML) is validated by the
//! gateway's own validator — every problem printed with its path — and saved; saving a
//! changed config under an existing slug appends a version, an unchanged one writes nothing.

use std::path::Path;

use serde_json::{json, Value};
use switchboard_store::{ConfigRecord, Store};

use super::output::{utc, Output};
use super::{open_store, CommandError};
use crate::cli::{ConfigPutArgs, ConfigsAction, ConfigsArgs};
use crate::control::declarative::spec::{config_json, slug_problem, slugify};
use crate::control::declarative::yaml_value;

pub async fn run(args: ConfigsArgs) -> Result<(), CommandError> {
    let out = Output::new(args.common.json);
    let store = open_store(&args.common.store).await?;
    let result = match args.action {
        ConfigsAction::Put(put_args) => put(put_args, &store, out).await,
        ConfigsAction::List => list(&store, out).await,
        ConfigsAction::Show { slug, version } => show(&slug, version, &store, out).await,
    };
    store.close().await;
    result
}

async fn put(args: ConfigPutArgs, store: &Store, out: Output) -> Result<(), CommandError> {
    let value = read_config_file(&args.file)?;
    let stem = args.file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let slug = args.slug.unwrap_or_else(|| format!("pc-{}", slugify(&stem)));
    if let Some(problem) = slug_problem(&slug) {
        return Err(CommandError::Invalid(format!("--slug: {problem}")));
    }
    let json = config_json(&value, "").map_err(|problems| CommandError::Problems {
        what: format!("{} is not a valid config", args.file.display()),
        problems,
    })?;
    let (record, outcome) = match store.get_config(&slug).await? {
        None => (store.create_config(&slug, args.name.as_deref().unwrap_or(&stem), &json).await?, "created"),
        Some(before) => {
            let after = store.update_config(&slug, args.name.as_deref(), Some(&json)).await?;
            let after = after.ok_or_else(|| CommandError::Invalid(format!("config `{slug}` was deleted meanwhile")))?;
            let outcome =
                if after.version == before.version && after.name == before.name { "unchanged" } else { "updated" };
            (after, outcome)
        }
    };
    let summary = json!({"slug": record.slug, "name": record.name, "version": record.version, "outcome": outcome});
    out.show(&summary, |out| out.text(&put_message(&record, outcome)))
}

fn put_message(record: &ConfigRecord, outcome: &str) -> String {
    let (slug, version) = (&record.slug, record.version);
    match outcome {
        "created" => format!("Created config {slug} (version 1). Use it with x-portkey-config: {slug}"),
        "unchanged" => format!("Config {slug} is unchanged (still version {version})."),
        _ => format!("Saved config {slug} as version {version}."),
    }
}

/// The file as JSON: parsed as JSON when it ends in `.json`, else as YAML (which also reads
/// JSON). Parser messages say where, and never quote values.
fn read_config_file(path: &Path) -> Result<Value, CommandError> {
    let text = std::fs::read_to_string(path).map_err(|source| CommandError::Read { path: path.into(), source })?;
    let is_json = path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
    let parsed = if is_json { serde_json::from_str(&text).map_err(|e| e.to_string()) } else { yaml_value(&text) };
    let kind = if is_json { "JSON" } else { "YAML or JSON" };
    parsed.map_err(|e| CommandError::Invalid(format!("{} is not valid {kind}: {e}", path.display())))
}

async fn list(store: &Store, out: Output) -> Result<(), CommandError> {
    let configs = store.list_configs().await?;
    let summaries: Vec<Value> = configs
        .iter()
        .map(|c| {
            json!({"slug": c.slug, "name": c.name, "version": c.version,
                   "created_at": c.created_at, "updated_at": c.updated_at})
        })
        .collect();
    out.show(&summaries, |out| {
        let row = |c: &ConfigRecord| vec![c.slug.clone(), c.name.clone(), c.version.to_string(), utc(c.updated_at)];
        let rows: Vec<Vec<String>> = configs.iter().map(row).collect();
        out.table(&["SLUG", "NAME", "VERSION", "UPDATED (UTC)"], &rows, "No saved configs.")
    })
}

async fn show(slug: &str, version: Option<i64>, store: &Store, out: Output) -> Result<(), CommandError> {
    let current = store.get_config(slug).await?;
    let current =
        current.ok_or_else(|| CommandError::Invalid(format!("no config `{slug}` (see `switchboard configs list`)")))?;
    let (version, text, created_at) = match version {
        None => (current.version, current.config_json.clone(), current.updated_at),
        Some(wanted) => {
            let found = store.get_config_version(slug, wanted).await?.ok_or_else(|| {
                CommandError::Invalid(format!(
                    "config `{slug}` has no version {wanted} (versions 1 to {})",
                    current.version
                ))
            })?;
            (found.version, found.config_json, found.created_at)
        }
    };
    let config: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    let shown = json!({"slug": slug, "name": current.name, "version": version,
                       "current_version": current.version, "created_at": created_at, "config": config});
    out.show(&shown, |out| out.json(&config))
}
