//! `switchboard api-keys create|list|revoke`. A new key is `sb-` and 128 random bits from
//! the operating system; it is printed once and only its SHA-256 and hint are stored.

use serde_json::{json, Value};
use switchboard_core::limits::parse_key_limits;
use switchboard_core::problem::{Problem, Problems};
use switchboard_store::{hash_api_key, hint, ApiKeyRecord, ApiKeyScope, NewApiKey, Store};

use super::output::{self, utc, Output};
use super::{open_store, CommandError};
use crate::cli::{ApiKeyCreateArgs, ApiKeysAction, ApiKeysArgs, ScopeArg};

pub async fn run(args: ApiKeysArgs) -> Result<(), CommandError> {
    let out = Output::new(args.common.json);
    let store = open_store(&args.common.store).await?;
    let result = match args.action {
        ApiKeysAction::Create(create_args) => create(*create_args, &store, out).await,
        ApiKeysAction::List => list(&store, out).await,
        ApiKeysAction::Revoke { id } => revoke(&id, &store, out).await,
    };
    store.close().await;
    result
}

impl From<ScopeArg> for ApiKeyScope {
    fn from(scope: ScopeArg) -> Self {
        match scope {
            ScopeArg::Admin => ApiKeyScope::Admin,
            ScopeArg::Gateway => ApiKeyScope::Gateway,
        }
    }
}

async fn create(args: ApiKeyCreateArgs, store: &Store, out: Output) -> Result<(), CommandError> {
    check_limits(&args)?;
    check_key_limits(&args)?;
    warn_unknown_references(&args, store).await?;
    let key = format!("sb-{}", uuid::Uuid::new_v4().simple());
    let new = NewApiKey {
        name: args.name,
        key_hash: hash_api_key(&key),
        hint: hint(&key),
        scope: args.scope.into(),
        allowed_configs: args.allow_configs,
        allowed_virtual_keys: args.allow_virtual_keys,
        default_config: args.default_config,
        rate_limits: args.limits.rate_limits,
        usage_limits: args.limits.usage_limits,
    };
    let record = store.create_api_key(&new).await?;
    let mut shown = serde_json::to_value(&record).map_err(|e| CommandError::Output(e.into()))?;
    if let Value::Object(map) = &mut shown {
        map.insert("key".into(), Value::String(key.clone()));
    }
    out.show(&shown, |out| {
        out.text(&format!(
            "Created API key \"{}\" (id {}, scope {}). Copy it now: it is not shown again.\n\n    {key}\n",
            record.name, record.id, record.scope
        ))
    })
}

/// Limits only mean something on gateway keys, and a default config must be allowed.
fn check_limits(args: &ApiKeyCreateArgs) -> Result<(), CommandError> {
    if args.name.trim().is_empty() {
        return Err(CommandError::Invalid("--name: must not be empty".into()));
    }
    let limited = !args.allow_configs.is_empty() || !args.allow_virtual_keys.is_empty();
    if args.scope == ScopeArg::Admin && limited {
        return Err(CommandError::Invalid(
            "--allow-config/--allow-virtual-key limit gateway keys only: an admin key may use everything".into(),
        ));
    }
    match &args.default_config {
        Some(default) if !args.allow_configs.is_empty() && !args.allow_configs.contains(default) => {
            Err(CommandError::Invalid(format!("--default-config {default} is not one of the --allow-config slugs")))
        }
        _ => Ok(()),
    }
}

/// `--rate-limits` and `--usage-limits` by core's one rule, problems named by flag.
fn check_key_limits(args: &ApiKeyCreateArgs) -> Result<(), CommandError> {
    let (rate, usage) = (args.limits.rate_limits.as_ref(), args.limits.usage_limits.as_ref());
    parse_key_limits(rate, usage, "").map(|_| ()).map_err(|problems| CommandError::Problems {
        what: "cannot create the API key".into(),
        problems: Problems(
            problems
                .0
                .into_iter()
                .map(|p| Problem { path: format!("--{}", p.path.replacen('_', "-", 1)), ..p })
                .collect(),
        ),
    })
}

/// A slug that names nothing yet is allowed (it may be created later) but probably a typo.
async fn warn_unknown_references(args: &ApiKeyCreateArgs, store: &Store) -> Result<(), CommandError> {
    for slug in args.allow_configs.iter().chain(&args.default_config) {
        if store.get_config(slug).await?.is_none() {
            output::warn(&format!("config `{slug}` does not exist (yet)"));
        }
    }
    for slug in &args.allow_virtual_keys {
        if store.get_virtual_key(slug).await?.is_none() {
            output::warn(&format!("virtual key `{slug}` does not exist (yet)"));
        }
    }
    Ok(())
}

async fn list(store: &Store, out: Output) -> Result<(), CommandError> {
    let keys = store.list_api_keys().await?;
    out.show(&keys, |out| {
        let rows: Vec<Vec<String>> = keys.iter().map(row).collect();
        out.table(&["ID", "NAME", "SCOPE", "KEY", "LIMITS", "STATUS"], &rows, "No API keys.")
    })
}

fn row(key: &ApiKeyRecord) -> Vec<String> {
    let status = match key.revoked_at {
        Some(at) => format!("revoked {}", utc(at)),
        None => "active".to_owned(),
    };
    vec![key.id.clone(), key.name.clone(), key.scope.to_string(), key.hint.clone(), limits(key), status]
}

/// `configs a,b; virtual keys c; default a`, or `-`.
fn limits(key: &ApiKeyRecord) -> String {
    let mut parts = Vec::new();
    if !key.allowed_configs.is_empty() {
        parts.push(format!("configs {}", key.allowed_configs.join(",")));
    }
    if !key.allowed_virtual_keys.is_empty() {
        parts.push(format!("virtual keys {}", key.allowed_virtual_keys.join(",")));
    }
    if let Some(default) = &key.default_config {
        parts.push(format!("default {default}"));
    }
    if parts.is_empty() {
        "-".to_owned()
    } else {
        parts.join("; ")
    }
}

async fn revoke(id: &str, store: &Store, out: Output) -> Result<(), CommandError> {
    if !store.revoke_api_key(id).await? {
        let known = store.list_api_keys().await?.into_iter().any(|k| k.id == id);
        let why = if known { "is already revoked" } else { "does not exist (see `switchboard api-keys list`)" };
        return Err(CommandError::Invalid(format!("API key `{id}` {why}")));
    }
    out.show(&json!({ "revoked": id }), |out| out.text(&format!("Revoked API key {id}.")))
}
