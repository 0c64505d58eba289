//! Virtual keys: a provider credential kept in the vault under a slug, with its provider
//! options. The secret goes from the body straight into [`switchboard_store::Vault::seal`];
//! no answer ever carries it or its ciphertext, only its hint (`masked_api_key`).
//!
//! Routes: `POST /v1/virtual-keys`, `GET /v1/virtual-keys`, `GET|PUT|DELETE
//! /v1/virtual-keys/{slug}`, in the shapes of Portkey's API. A key whose budget is spent
//! shows `"status": "exhausted"` until its period resets (the limiter says).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{json, Map, Value};
use switchboard_store::{NewVirtualKey, VirtualKeyRecord, VirtualKeyUpdate};

use super::fields::Fields;
use super::{key_options, wire, Admin};
use crate::control::api_error::ApiError;
use crate::control::{ApiState, SharedApi};
use crate::policy::limits::KeyRef;
use switchboard_core::limits::from_options;
use switchboard_core::problem::kind;

const PREFIX: &str = "virtual_key.";
/// The one provider that runs without a key.
const KEYLESS_PROVIDER: &str = "ollama";

pub async fn create(_: Admin, State(state): State<SharedApi>, body: Body) -> Result<Response, ApiError> {
    let body = wire::read_object(&state, body).await?;
    let record = create_key(&state, body).await?;
    Ok(wire::envelope(summary(&record.slug)))
}

pub async fn list(_: Admin, State(state): State<SharedApi>) -> Result<Response, ApiError> {
    let records = state.control.store.list_virtual_keys().await?;
    let mut views = Vec::with_capacity(records.len());
    for record in &records {
        views.push(view(record, status(&state, record).await));
    }
    Ok(wire::list(views))
}

pub async fn retrieve(
    _: Admin,
    State(state): State<SharedApi>,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    let record = find(&state, &slug).await?;
    Ok(wire::one(view(&record, status(&state, &record).await)))
}

pub async fn update(
    _: Admin,
    State(state): State<SharedApi>,
    Path(slug): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    let body = wire::read_object(&state, body).await?;
    let record = update_key(&state, &slug, body).await?;
    Ok(wire::envelope(summary(&record.slug)))
}

pub async fn delete(_: Admin, State(state): State<SharedApi>, Path(slug): Path<String>) -> Result<Response, ApiError> {
    if !state.control.store.delete_virtual_key(&slug).await? {
        return Err(not_found(&slug));
    }
    state.control.invalidate();
    Ok(wire::deleted())
}

/// What a create or update body says. `options` is a patch (see [`key_options::read`]).
struct Draft {
    slug: Option<String>,
    name: Option<String>,
    provider: Option<String>,
    /// May be empty (for `ollama`).
    key: Option<String>,
    /// `Some(None)` clears the note.
    note: Option<Option<String>>,
    options: Map<String, Value>,
}

fn read_draft(fields: &mut Fields) -> Draft {
    let slug = fields.text(&["slug"]);
    if slug.as_deref().is_some_and(|s| !wire::is_valid_slug(s)) {
        fields.problem("slug", wire::SLUG_RULE);
    }
    let draft = Draft {
        slug,
        name: fields.text(&["name"]),
        provider: fields.text(&["provider"]),
        key: read_key(fields),
        note: fields.nullable_text(&["note"]),
        options: key_options::read(fields),
    };
    fields.ignore(&["workspace_id"]);
    draft
}

/// The secret, never echoed: a complaint names only the kind of value sent.
fn read_key(fields: &mut Fields) -> Option<String> {
    match fields.take(&["key", "api_key"])? {
        Value::Null => None,
        Value::String(key) => Some(key),
        other => {
            fields.problem("key", format!("expected a string, got {}", kind(&other)));
            None
        }
    }
}

/// Every provider but `ollama` needs a non-empty key.
fn check_key(fields: &mut Fields, provider: &str, key: Option<&str>) {
    let missing = key.is_none_or(|k| k.trim().is_empty());
    if missing && provider != KEYLESS_PROVIDER && !fields.has_problem("key") {
        fields
            .problem("key", format!("required: the provider's API key (only \"{KEYLESS_PROVIDER}\" runs without one)"));
    }
}

async fn create_key(state: &ApiState, body: Map<String, Value>) -> Result<VirtualKeyRecord, ApiError> {
    let mut fields = Fields::new(PREFIX, body);
    let draft = read_draft(&mut fields);
    let name = fields.require("name", draft.name, "a display name");
    let provider = fields.require("provider", draft.provider, "the provider's id, e.g. \"openai\"");
    let mut options = None;
    if let Some(provider) = &provider {
        options = key_options::check_provider(&mut fields, provider, key_options::apply(Map::new(), draft.options));
        check_key(&mut fields, provider, draft.key.as_deref());
    }
    fields.finish()?;
    let (Some(name), Some(provider), Some(options)) = (name, provider, options) else {
        return Err(ApiError::Internal("virtual key: a required field went missing after validation".into()));
    };
    let secret = state.control.vault.seal(draft.key.as_deref().unwrap_or_default())?;
    let slug = draft.slug.unwrap_or_else(|| wire::generated_slug("", &name, "key"));
    let new = NewVirtualKey { slug, name, provider, secret, options, note: draft.note.flatten() };
    let record = state.control.store.create_virtual_key(&new).await?;
    state.control.invalidate();
    Ok(record)
}

async fn update_key(state: &ApiState, slug: &str, body: Map<String, Value>) -> Result<VirtualKeyRecord, ApiError> {
    let existing = find(state, slug).await?;
    let mut fields = Fields::new(PREFIX, body);
    let draft = read_draft(&mut fields);
    if draft.slug.as_deref().is_some_and(|s| s != slug) {
        fields.problem("slug", "cannot be changed (it is the key's ID)");
    }
    let provider = draft.provider.clone().unwrap_or_else(|| existing.provider.clone());
    let options_changed = !draft.options.is_empty();
    let mut options = key_options::apply(existing.options, draft.options);
    if draft.provider.is_some() || options_changed {
        options = key_options::check_provider(&mut fields, &provider, options).unwrap_or_default();
    }
    if draft.key.is_some() {
        check_key(&mut fields, &provider, draft.key.as_deref());
    }
    fields.finish()?;
    let secret = draft.key.as_deref().map(|key| state.control.vault.seal(key)).transpose()?;
    let update = VirtualKeyUpdate {
        name: draft.name,
        provider: draft.provider,
        secret,
        options: options_changed.then_some(options),
        note: draft.note,
    };
    let record = state.control.store.update_virtual_key(slug, &update).await?.ok_or_else(|| not_found(slug))?;
    state.control.invalidate();
    Ok(record)
}

async fn find(state: &ApiState, slug: &str) -> Result<VirtualKeyRecord, ApiError> {
    state.control.store.get_virtual_key(slug).await?.ok_or_else(|| not_found(slug))
}

fn not_found(slug: &str) -> ApiError {
    ApiError::NotFound(format!("virtual key \"{slug}\" does not exist"))
}

/// The create/update answer's `data`.
fn summary(slug: &str) -> Map<String, Value> {
    let mut data = Map::new();
    data.insert("id".into(), json!(slug));
    data.insert("slug".into(), json!(slug));
    data.insert("object".into(), json!("virtual-key"));
    data
}

/// `exhausted` while the key's budget is spent for its period, else `active`.
async fn status(state: &ApiState, record: &VirtualKeyRecord) -> &'static str {
    // Stored limits that no longer read are the gateway's to refuse at request time.
    let limits = from_options(&record.options, PREFIX).unwrap_or_default();
    if state.limits.exhausted(&KeyRef::virtual_key(&record.slug), &limits).await {
        "exhausted"
    } else {
        "active"
    }
}

/// A key as `retrieve` and `list` show it: Portkey's fields, the hint for the secret.
fn view(record: &VirtualKeyRecord, status: &str) -> Value {
    let mut model_config = record.options.clone();
    let usage_limits = model_config.remove("usage_limits").unwrap_or(Value::Null);
    let rate_limits = model_config.remove("rate_limits").unwrap_or(Value::Null);
    json!({
        "id": record.slug,
        "slug": record.slug,
        "name": record.name,
        "ai_provider_name": record.provider,
        "provider": record.provider,
        "note": record.note,
        "masked_api_key": record.secret_hint,
        "model_config": model_config,
        "usage_limits": usage_limits,
        "rate_limits": rate_limits,
        "status": status,
        "created_at": wire::iso8601(record.created_at),
        "last_updated_at": wire::iso8601(record.updated_at),
        "object": "virtual-key",
    })
}
