//! `switchboard virtual-keys add|list|rm`. The provider key comes from an environment
//! variable or stdin, is checked by the same rules as the declarative file, sealed by the
//! vault and stored; listings show only its hint.

use std::io::{BufRead as _, IsTerminal as _, Read as _};

use serde_json::{json, Map, Value};
use switchboard_store::{Secret, Store, StoreError};

use super::output::{self, Output};
use super::{open_store, open_vault, CommandError};
use crate::cli::{StoreArgs, VirtualKeyAddArgs, VirtualKeysAction, VirtualKeysArgs};
use crate::control::declarative::new_key;
use crate::control::declarative::spec::{slugify, KeyDraft, Problem, Problems};

pub async fn run(args: VirtualKeysArgs) -> Result<(), CommandError> {
    let out = Output::new(args.common.json);
    let store = open_store(&args.common.store).await?;
    let result = match args.action {
        VirtualKeysAction::Add(add) => add_key(*add, &args.common.store, &store, out).await,
        VirtualKeysAction::List => list(&store, out).await,
        VirtualKeysAction::Rm { slug } => remove(&slug, &store, out).await,
    };
    store.close().await;
    result
}

async fn add_key(
    args: VirtualKeyAddArgs,
    store_args: &StoreArgs,
    store: &Store,
    out: Output,
) -> Result<(), CommandError> {
    let secret = read_secret(&args)?;
    let flags = [
        ("resource_name", args.resource_name),
        ("deployment_id", args.deployment_id),
        ("api_version", args.api_version),
        ("anthropic_version", args.anthropic_version),
        ("anthropic_beta", args.anthropic_beta),
        ("custom_host", args.custom_host),
    ];
    let mut options: Map<String, Value> =
        flags.into_iter().filter_map(|(key, value)| Some((key.to_owned(), Value::String(value?)))).collect();
    if let Some(deployments) = args.deployment_config {
        options.insert("deployment_config".into(), deployments);
    }
    let limits = [("rate_limits", args.limits.rate_limits), ("usage_limits", args.limits.usage_limits)];
    options.extend(limits.into_iter().filter_map(|(key, value)| Some((key.to_owned(), value?))));
    let draft = KeyDraft {
        slug: args.slug.unwrap_or_else(|| slugify(&args.name)),
        name: args.name,
        provider: args.provider,
        secret,
        options,
        note: args.note,
    };
    let spec = draft.check("").map_err(|problems| CommandError::Problems {
        what: "cannot add the virtual key".into(),
        problems: Problems(problems.0.into_iter().map(|p| Problem { path: flag(&p.path), ..p }).collect()),
    })?;
    let vault = open_vault(store_args, store).await?;
    let record = store.create_virtual_key(&new_key(&spec, &vault)?).await.map_err(|e| taken(e, &spec.slug))?;
    out.show(&record, |out| {
        out.text(&format!(
            "Added virtual key {} ({}, key {}). Use it in a config as {{\"virtual_key\": \"{}\"}}.",
            record.slug, record.provider, record.secret_hint, record.slug
        ))
    })
}

/// The command-line spelling of a key's field (a problem's path at the top), for problems.
fn flag(field: &str) -> String {
    match field {
        "key" => "--key-env/--key-stdin".to_owned(),
        "slug" => "--slug (default: from --name)".to_owned(),
        "deployment_id" => "--deployment".to_owned(),
        other if other.starts_with("deployment_config") => format!("--deployment-config{}", &other[17..]),
        other if other.starts_with("rate_limits") || other.starts_with("usage_limits") => {
            format!("--{}", other.replacen('_', "-", 1))
        }
        other => format!("--{}", other.replace('_', "-")),
    }
}

fn taken(err: StoreError, slug: &str) -> CommandError {
    match err {
        StoreError::Conflict { .. } => CommandError::Invalid(format!(
            "{err}: choose another --slug, or remove it first with `switchboard virtual-keys rm {slug}`"
        )),
        other => other.into(),
    }
}

/// The provider key from `--key-env VAR` or stdin, surrounding whitespace removed.
fn read_secret(args: &VirtualKeyAddArgs) -> Result<Secret, CommandError> {
    let text = match &args.key_env {
        Some(var) => std::env::var(var).map_err(|_| {
            CommandError::Invalid(format!("--key-env: environment variable {var} is not set (or not UTF-8)"))
        })?,
        None => read_stdin()?,
    };
    Ok(Secret::new(text.trim().to_owned()))
}

/// All of stdin, or one line when it is a terminal.
fn read_stdin() -> Result<String, CommandError> {
    let stdin = std::io::stdin();
    let mut text = String::new();
    let read = if stdin.is_terminal() {
        output::prompt("Provider key (then Enter): ")?;
        stdin.lock().read_line(&mut text)
    } else {
        stdin.lock().read_to_string(&mut text)
    };
    read.map_err(|e| CommandError::Invalid(format!("--key-stdin: cannot read standard input: {e}")))?;
    Ok(text)
}

async fn list(store: &Store, out: Output) -> Result<(), CommandError> {
    let keys = store.list_virtual_keys().await?;
    out.show(&keys, |out| {
        let rows: Vec<Vec<String>> = keys
            .iter()
            .map(|k| vec![k.slug.clone(), k.name.clone(), k.provider.clone(), k.secret_hint.clone()])
            .collect();
        out.table(&["SLUG", "NAME", "PROVIDER", "KEY"], &rows, "No virtual keys.")
    })
}

async fn remove(slug: &str, store: &Store, out: Output) -> Result<(), CommandError> {
    if !store.delete_virtual_key(slug).await? {
        return Err(CommandError::Invalid(format!("no virtual key `{slug}` (see `switchboard virtual-keys list`)")));
    }
    out.show(&json!({ "deleted": slug }), |out| out.text(&format!("Deleted virtual key {slug}.")))
}
