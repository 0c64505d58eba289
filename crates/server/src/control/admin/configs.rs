//! Saved configs: a routing config stored under a `pc-…` slug that requests name in
//! `x-portkey-config`. A config is checked by the same validator as an inline one, and every
//! virtual key it names must exist. Every change to its JSON is a new version; old versions
//! stay readable at `/versions`.
//!
//! Routes: `POST /v1/configs`, `GET /v1/configs`, `GET|PUT|DELETE /v1/configs/{slug}`,
//! `GET /v1/configs/{slug}/versions`, in the shapes of Portkey's API; and Switchboard's own
//! `POST /v1/configs/validate` (every problem a save would report, without saving: the
//! dashboard's editor calls it as the user types) and `GET /v1/configs/{slug}/diff?from=&to=`.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde_json::{json, Map, Value};
use switchboard_core::config::{validate_config, Node};
use switchboard_store::ConfigRecord;

use super::fields::Fields;
use super::{wire, Admin};
use crate::control::api_error::ApiError;
use crate::control::{ApiState, SharedApi};
use switchboard_core::problem::kind;

pub async fn create(_: Admin, State(state): State<SharedApi>, body: Body) -> Result<Response, ApiError> {
    let body = wire::read_object(&state, body).await?;
    let record = create_config(&state, body).await?;
    Ok(wire::envelope(summary(&record)))
}

pub async fn list(_: Admin, State(state): State<SharedApi>) -> Result<Response, ApiError> {
    let records = state.control.store.list_configs().await?;
    Ok(wire::list(records.iter().map(view).collect()))
}

pub async fn retrieve(
    _: Admin,
    State(state): State<SharedApi>,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    Ok(wire::one(view(&find(&state, &slug).await?)))
}

pub async fn update(
    _: Admin,
    State(state): State<SharedApi>,
    Path(slug): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    let body = wire::read_object(&state, body).await?;
    let record = update_config(&state, &slug, body).await?;
    Ok(wire::envelope(summary(&record)))
}

pub async fn delete(_: Admin, State(state): State<SharedApi>, Path(slug): Path<String>) -> Result<Response, ApiError> {
    if !state.control.store.delete_config(&slug).await? {
        return Err(not_found(&slug));
    }
    state.control.invalidate();
    Ok(wire::deleted())
}

pub async fn versions(
    _: Admin,
    State(state): State<SharedApi>,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    let current = find(&state, &slug).await?;
    let versions = state.control.store.config_versions(&slug).await?;
    let items = versions.iter().map(|v| {
        json!({
            "version": v.version,
            "version_id": version_id(&slug, v.version),
            "config": parsed(&v.config_json),
            "current": v.version == current.version,
            "created_at": wire::iso8601(v.created_at),
            "object": "config-version",
        })
    });
    Ok(wire::list(items.collect()))
}

/// `{"config": {...}}` → `{"valid": bool, "errors": [{"path", "message"}]}`: the same checks as a save.
pub async fn validate(_: Admin, State(state): State<SharedApi>, body: Body) -> Result<Response, ApiError> {
    let body = wire::read_object(&state, body).await?;
    let mut fields = Fields::new("", body);
    let config = fields.take(&["config"]).and_then(|value| config_value(&mut fields, value));
    let config = fields.require("config", config, "the routing config, an object");
    if let Some(config) = &config {
        check_config(&state, &mut fields, config).await?;
    }
    let errors = match fields.finish() {
        Ok(()) => Vec::new(),
        Err(ApiError::Invalid(problems)) => problems.0,
        Err(other) => return Err(other),
    };
    let errors: Vec<Value> = errors.iter().map(|p| json!({"path": p.path, "message": p.message})).collect();
    Ok(wire::one(json!({"valid": errors.is_empty(), "errors": errors, "object": "config-validation"})))
}

/// `?from=1&to=2` (default: the version before the current one, and the current one).
pub async fn diff(
    _: Admin,
    State(state): State<SharedApi>,
    Path(slug): Path<String>,
    Query(range): Query<DiffRange>,
) -> Result<Response, ApiError> {
    let current = find(&state, &slug).await?;
    let to = range.to.unwrap_or(current.version);
    let from = range.from.unwrap_or(to - 1).max(1);
    let versions = state.control.store.config_versions(&slug).await?;
    let config_of = |version: i64, field: &str| {
        versions.iter().find(|v| v.version == version).map(|v| parsed(&v.config_json)).ok_or_else(|| {
            ApiError::BadQuery(format!(
                "{field}: config \"{slug}\" has no version {version} (1 to {})",
                current.version
            ))
        })
    };
    let (old, new) = (config_of(from, "from")?, config_of(to, "to")?);
    let lines = super::config_diff::diff(&old, &new);
    Ok(wire::one(json!({"object": "config-diff", "slug": slug, "from": from, "to": to, "lines": lines})))
}

#[derive(serde::Deserialize)]
pub struct DiffRange {
    from: Option<i64>,
    to: Option<i64>,
}

/// What a create or update body says.
struct Draft {
    name: Option<String>,
    config: Option<Value>,
}

fn read_draft(fields: &mut Fields) -> Draft {
    let name = fields.text(&["name"]);
    let config = fields.take(&["config"]).and_then(|value| config_value(fields, value));
    if fields.boolean(&["is_default"]) == Some(true) {
        fields.problem("is_default", "not supported by Switchboard: give an API key a default_config instead");
    }
    fields.ignore(&["workspace_id"]);
    Draft { name, config }
}

/// The config as a JSON object: sent as one, or as a string holding one.
fn config_value(fields: &mut Fields, value: Value) -> Option<Value> {
    let problem = match value {
        Value::Null => return None,
        Value::Object(_) => return Some(value),
        Value::String(text) => match serde_json::from_str::<Value>(&text) {
            Ok(parsed @ Value::Object(_)) => return Some(parsed),
            Ok(other) => format!("expected a JSON object, got {}", kind(&other)),
            Err(e) => format!("invalid JSON: {e}"),
        },
        other => format!("expected an object (or a string of JSON), got {}", kind(&other)),
    };
    fields.problem("config", problem);
    None
}

/// The inline-config validator's every error (paths rooted at `config`), then every
/// virtual key the config names that does not exist.
async fn check_config(state: &ApiState, fields: &mut Fields, config: &Value) -> Result<(), ApiError> {
    let tree = match validate_config(config) {
        Ok(tree) => tree,
        Err(errors) => {
            fields.extend(errors);
            return Ok(());
        }
    };
    let mut keys = Vec::new();
    virtual_keys(&tree.root, &mut keys);
    for (path, slug) in keys {
        if state.control.store.get_virtual_key(&slug).await?.is_none() {
            fields.problem(&format!("{path}.virtual_key"), format!("virtual key \"{slug}\" does not exist"));
        }
    }
    Ok(())
}

/// (target path, slug) of every leaf that uses a virtual key.
fn virtual_keys(node: &Node, out: &mut Vec<(String, String)>) {
    match node {
        Node::Leaf(leaf) => out.extend(leaf.virtual_key.clone().map(|slug| (leaf.path.clone(), slug))),
        Node::Group(group) => group.targets.iter().for_each(|child| virtual_keys(&child.node, out)),
    }
}

async fn create_config(state: &ApiState, body: Map<String, Value>) -> Result<ConfigRecord, ApiError> {
    let mut fields = Fields::new("", body);
    let draft = read_draft(&mut fields);
    let name = fields.require("name", draft.name, "a display name");
    let config = fields.require("config", draft.config, "the routing config, an object");
    if let Some(config) = &config {
        check_config(state, &mut fields, config).await?;
    }
    fields.finish()?;
    let (Some(name), Some(config)) = (name, config) else {
        return Err(ApiError::Internal("config: a required field went missing after validation".into()));
    };
    let slug = wire::generated_slug("pc-", &name, "config");
    let record = state.control.store.create_config(&slug, &name, &config.to_string()).await?;
    state.control.invalidate();
    Ok(record)
}

async fn update_config(state: &ApiState, slug: &str, body: Map<String, Value>) -> Result<ConfigRecord, ApiError> {
    find(state, slug).await?;
    let mut fields = Fields::new("", body);
    // The SDKs send the slug in the body too.
    if fields.text(&["slug"]).is_some_and(|s| s != slug) {
        fields.problem("slug", "cannot be changed (it is the config's ID)");
    }
    if fields.text(&["status"]).is_some_and(|s| s != "active") {
        fields.problem("status", "only \"active\" is supported (delete the config to retire it)");
    }
    let draft = read_draft(&mut fields);
    if let Some(config) = &draft.config {
        check_config(state, &mut fields, config).await?;
    }
    fields.finish()?;
    let text = draft.config.map(|config| config.to_string());
    let updated = state.control.store.update_config(slug, draft.name.as_deref(), text.as_deref()).await?;
    let record = updated.ok_or_else(|| not_found(slug))?;
    state.control.invalidate();
    Ok(record)
}

async fn find(state: &ApiState, slug: &str) -> Result<ConfigRecord, ApiError> {
    state.control.store.get_config(slug).await?.ok_or_else(|| not_found(slug))
}

fn not_found(slug: &str) -> ApiError {
    ApiError::NotFound(format!("config \"{slug}\" does not exist"))
}

/// Portkey's `version_id` is a string; here it names the slug and version.
fn version_id(slug: &str, version: i64) -> String {
    format!("{slug}@{version}")
}

/// Stored JSON as a value (a stored text that no longer parses is shown as text).
fn parsed(config_json: &str) -> Value {
    serde_json::from_str(config_json).unwrap_or_else(|_| Value::String(config_json.to_string()))
}

/// The create/update answer's `data`.
fn summary(record: &ConfigRecord) -> Map<String, Value> {
    let mut data = Map::new();
    data.insert("id".into(), json!(record.slug));
    data.insert("slug".into(), json!(record.slug));
    data.insert("version".into(), json!(record.version));
    data.insert("version_id".into(), json!(version_id(&record.slug, record.version)));
    data.insert("object".into(), json!("config"));
    data
}

fn view(record: &ConfigRecord) -> Value {
    json!({
        "id": record.slug,
        "slug": record.slug,
        "name": record.name,
        "config": parsed(&record.config_json),
        "version": record.version,
        "version_id": version_id(&record.slug, record.version),
        "status": "active",
        "created_at": wire::iso8601(record.created_at),
        "last_updated_at": wire::iso8601(record.updated_at),
        "object": "config",
    })
}
