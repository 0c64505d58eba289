//! Gateway API keys: `sb-` and 32 random hex digits, shown once when created. The store
//! keeps only the key's SHA-256 and a hint. What a key may do (name, scope, allow-lists,
//! default config, limits) can be edited; the key itself never changes. A key's scope is
//! `admin` (everything) or `gateway` (inference only, optionally limited to some saved
//! configs and virtual keys, which must exist). A key may have Portkey's `rate_limits` and
//! `usage_limits` (checked by core's one rule); one whose budget is spent shows
//! `"status": "exhausted"` until its period resets.
//!
//! Routes: `POST /v1/api-keys` (and `/v1/api-keys/{type}/{sub-type}`, where the Portkey SDKs
//! post), `GET /v1/api-keys`, `GET|PUT|DELETE /v1/api-keys/{id}`. A `PUT` body is a patch:
//! the fields it names replace the stored ones, and the key as it would then be is checked by
//! the same rules as a new one.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::Response;
use rand::RngCore as _;
use serde_json::{json, Map, Value};
use switchboard_store::{hash_api_key, hint, ApiKeyRecord, ApiKeyScope, ApiKeyUpdate, NewApiKey};

use super::fields::Fields;
use super::{wire, Admin};
use crate::control::api_error::ApiError;
use crate::control::{ApiState, SharedApi};
use crate::policy::limits::KeyRef;
use switchboard_core::limits::parse_key_limits;
use switchboard_core::problem::kind;

const PREFIX: &str = "api_key.";
const KEY_PREFIX: &str = "sb-";
/// 128 random bits.
const KEY_RANDOM_BYTES: usize = 16;

pub async fn create(_: Admin, State(state): State<SharedApi>, body: Body) -> Result<Response, ApiError> {
    let body = wire::read_object(&state, body).await?;
    let (record, key) = create_key(&state, body).await?;
    let mut data = view_map(&record, "active");
    data.insert("key".into(), Value::String(key));
    Ok(wire::envelope(data))
}

/// Portkey's `type` (organisation, workspace) and `sub-type` (service, user) have no
/// meaning here: Switchboard has one workspace and service keys only.
pub async fn create_typed(
    admin: Admin,
    state: State<SharedApi>,
    Path(_kinds): Path<(String, String)>,
    body: Body,
) -> Result<Response, ApiError> {
    create(admin, state, body).await
}

pub async fn list(_: Admin, State(state): State<SharedApi>) -> Result<Response, ApiError> {
    let records = state.control.store.list_api_keys().await?;
    let mut views = Vec::with_capacity(records.len());
    for record in &records {
        views.push(Value::Object(view_map(record, status(&state, record).await)));
    }
    Ok(wire::list(views))
}

pub async fn retrieve(_: Admin, State(state): State<SharedApi>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let records = state.control.store.list_api_keys().await?;
    let record = records.into_iter().find(|r| r.id == id).ok_or_else(|| not_found(&id))?;
    Ok(wire::one(Value::Object(view_map(&record, status(&state, &record).await))))
}

pub async fn update(
    _: Admin,
    State(state): State<SharedApi>,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    let body = wire::read_object(&state, body).await?;
    let record = update_key(&state, &id, body).await?;
    let status = status(&state, &record).await;
    Ok(wire::envelope(view_map(&record, status)))
}

pub async fn revoke(_: Admin, State(state): State<SharedApi>, Path(id): Path<String>) -> Result<Response, ApiError> {
    if !state.control.store.revoke_api_key(&id).await? {
        return Err(ApiError::NotFound(format!("API key \"{id}\" does not exist or is already revoked")));
    }
    // The cache may still hold the key as live.
    state.control.invalidate();
    Ok(wire::deleted())
}

/// What a create body says.
struct Draft {
    name: Option<String>,
    scope: Option<ApiKeyScope>,
    allowed_configs: Vec<String>,
    allowed_virtual_keys: Vec<String>,
    default_config: Option<String>,
    /// Checked by core; `None` (or `null`): none.
    rate_limits: Option<Value>,
    usage_limits: Option<Value>,
}

fn read_draft(fields: &mut Fields) -> Draft {
    let draft = Draft {
        name: fields.text(&["name"]),
        scope: read_scope(fields),
        allowed_configs: fields.text_list(&["allowed_configs"]).unwrap_or_default(),
        allowed_virtual_keys: fields.text_list(&["allowed_virtual_keys"]).unwrap_or_default(),
        default_config: read_default_config(fields),
        rate_limits: fields.take(&["rate_limits"]).filter(|v| !v.is_null()),
        usage_limits: fields.take(&["usage_limits"]).filter(|v| !v.is_null()),
    };
    if let Err(problems) = parse_key_limits(draft.rate_limits.as_ref(), draft.usage_limits.as_ref(), "api_key") {
        fields.extend(problems);
    }
    fields.ignore(&["workspace_id", "type", "sub-type"]);
    let why = "not supported by Switchboard's API keys yet; remove it";
    fields.refuse(&["description", "user_id", "expires_at", "alert_emails"], why);
    draft
}

/// `scopes: ["admin"]` / `["gateway"]`, or `scope: "…"`; `admin` wins when both appear.
fn read_scope(fields: &mut Fields) -> Option<ApiKeyScope> {
    let mut named: Vec<(String, String)> = Vec::new();
    for (i, name) in fields.text_list(&["scopes"]).unwrap_or_default().into_iter().enumerate() {
        named.push((format!("scopes[{i}]"), name));
    }
    named.extend(fields.text(&["scope"]).map(|name| ("scope".to_string(), name)));
    let mut scope = None;
    for (field, name) in named {
        match name.parse::<ApiKeyScope>() {
            Ok(ApiKeyScope::Admin) => scope = Some(ApiKeyScope::Admin),
            Ok(ApiKeyScope::Gateway) => scope = scope.or(Some(ApiKeyScope::Gateway)),
            Err(_) => fields.problem(
                &field,
                format!("unknown scope \"{name}\" (expected \"admin\" or \"gateway\"; Portkey's fine-grained scopes are not supported)"),
            ),
        }
    }
    scope
}

/// `default_config: "pc-…"`, or Portkey's `defaults: {"config_id": "pc-…"}`.
fn read_default_config(fields: &mut Fields) -> Option<String> {
    let direct = fields.text(&["default_config"]);
    let nested = match fields.take(&["defaults"]) {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => {
            let mut defaults = Fields::new(fields.path("defaults."), map);
            let config_id = defaults.text(&["config_id"]);
            defaults.refuse(&["metadata"], "not supported by Switchboard's API keys yet; remove it");
            fields.absorb(defaults);
            config_id
        }
        Some(other) => {
            fields.problem(
                "defaults",
                format!("expected an object like {{\"config_id\": \"pc-…\"}}, got {}", kind(&other)),
            );
            None
        }
    };
    if direct.is_some() && nested.is_some() {
        fields.problem("default_config", "given twice (also as defaults.config_id): send one");
    }
    direct.or(nested)
}

/// Allow-lists belong to gateway keys and name configs and virtual keys that exist; the
/// default config exists and is one of the allowed ones.
async fn check_grants(
    state: &ApiState,
    fields: &mut Fields,
    scope: Option<ApiKeyScope>,
    draft: &Draft,
) -> Result<(), ApiError> {
    if scope == Some(ApiKeyScope::Admin) {
        let why = "only used by scope \"gateway\" (an admin key may use everything)";
        for (field, list) in
            [("allowed_configs", &draft.allowed_configs), ("allowed_virtual_keys", &draft.allowed_virtual_keys)]
        {
            if !list.is_empty() {
                fields.problem(field, why);
            }
        }
    }
    let store = &state.control.store;
    for (i, slug) in draft.allowed_configs.iter().enumerate() {
        if store.get_config(slug).await?.is_none() {
            fields.problem(&format!("allowed_configs[{i}]"), format!("config \"{slug}\" does not exist"));
        }
    }
    for (i, slug) in draft.allowed_virtual_keys.iter().enumerate() {
        if store.get_virtual_key(slug).await?.is_none() {
            fields.problem(&format!("allowed_virtual_keys[{i}]"), format!("virtual key \"{slug}\" does not exist"));
        }
    }
    if let Some(slug) = &draft.default_config {
        if store.get_config(slug).await?.is_none() {
            fields.problem("default_config", format!("config \"{slug}\" does not exist"));
        } else if !draft.allowed_configs.is_empty() && !draft.allowed_configs.contains(slug) {
            fields.problem("default_config", format!("\"{slug}\" is not one of allowed_configs"));
        }
    }
    Ok(())
}

async fn create_key(state: &ApiState, body: Map<String, Value>) -> Result<(ApiKeyRecord, String), ApiError> {
    let mut fields = Fields::new(PREFIX, body);
    let draft = read_draft(&mut fields);
    let name = fields.require("name", draft.name.clone(), "a display name");
    let scope = fields.require("scopes", draft.scope, "[\"admin\"] or [\"gateway\"]");
    check_grants(state, &mut fields, scope, &draft).await?;
    fields.finish()?;
    let (Some(name), Some(scope)) = (name, scope) else {
        return Err(ApiError::Internal("API key: a required field went missing after validation".into()));
    };
    let key = generate_key()?;
    let new = NewApiKey {
        name,
        key_hash: hash_api_key(&key),
        hint: hint(&key),
        scope,
        allowed_configs: draft.allowed_configs,
        allowed_virtual_keys: draft.allowed_virtual_keys,
        default_config: draft.default_config,
        rate_limits: draft.rate_limits,
        usage_limits: draft.usage_limits,
    };
    let record = state.control.store.create_api_key(&new).await?;
    state.control.invalidate();
    Ok((record, key))
}

/// Checks the key as the patch would leave it, then stores every editable field.
async fn update_key(state: &ApiState, id: &str, patch: Map<String, Value>) -> Result<ApiKeyRecord, ApiError> {
    let current = state.control.store.find_api_key(id).await?.filter(|k| !k.is_revoked());
    let current =
        current.ok_or_else(|| ApiError::NotFound(format!("API key \"{id}\" does not exist or is revoked")))?;
    let mut fields = Fields::new(PREFIX, patched(&current, patch));
    let draft = read_draft(&mut fields);
    let name = fields.require("name", draft.name.clone(), "a display name");
    let scope = fields.require("scopes", draft.scope, "[\"admin\"] or [\"gateway\"]");
    check_grants(state, &mut fields, scope, &draft).await?;
    fields.finish()?;
    let update = ApiKeyUpdate {
        name,
        scope,
        allowed_configs: Some(draft.allowed_configs),
        allowed_virtual_keys: Some(draft.allowed_virtual_keys),
        default_config: Some(draft.default_config),
        rate_limits: Some(draft.rate_limits),
        usage_limits: Some(draft.usage_limits),
    };
    let record = state.control.store.update_api_key(id, &update).await?.ok_or_else(|| not_found(id))?;
    // The cache may hold the key as it was.
    state.control.invalidate();
    Ok(record)
}

/// The stored key's editable fields as a create body, with `patch`'s fields in place of theirs (a field the
/// patch names in any spelling, or under an alias, replaces the stored one).
fn patched(current: &ApiKeyRecord, patch: Map<String, Value>) -> Map<String, Value> {
    let named = |names: &[&str]| {
        names.iter().any(|n| patch.contains_key(*n) || patch.contains_key(&super::fields::camel_case(n)))
    };
    let stored = [
        (&["name"][..], json!(current.name)),
        (&["scopes", "scope"][..], json!([current.scope.as_str()])),
        (&["allowed_configs"][..], json!(current.allowed_configs)),
        (&["allowed_virtual_keys"][..], json!(current.allowed_virtual_keys)),
        (&["default_config", "defaults"][..], json!(current.default_config)),
        (&["rate_limits"][..], json!(current.rate_limits)),
        (&["usage_limits"][..], json!(current.usage_limits)),
    ];
    let mut body = Map::new();
    for (names, value) in stored {
        if !named(names) {
            body.insert(names[0].to_owned(), value);
        }
    }
    body.extend(patch);
    body
}

fn generate_key() -> Result<String, ApiError> {
    let mut bytes = [0u8; KEY_RANDOM_BYTES];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| ApiError::Internal(format!("no randomness for a new API key: {e}")))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{KEY_PREFIX}{hex}"))
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("API key \"{id}\" does not exist"))
}

/// `revoked`; `exhausted` while its budget is spent for the period; else `active`.
async fn status(state: &ApiState, record: &ApiKeyRecord) -> &'static str {
    if record.is_revoked() {
        return "revoked";
    }
    let limits = parse_key_limits(record.rate_limits.as_ref(), record.usage_limits.as_ref(), "api_key");
    if state.limits.exhausted(&KeyRef::api_key(&record.id), &limits.unwrap_or_default()).await {
        "exhausted"
    } else {
        "active"
    }
}

/// A key as the API shows it: never the key, never its hash.
fn view_map(record: &ApiKeyRecord, status: &str) -> Map<String, Value> {
    let view = json!({
        "id": record.id,
        "name": record.name,
        "scope": record.scope.as_str(),
        "scopes": [record.scope.as_str()],
        "masked_api_key": record.hint,
        "allowed_configs": record.allowed_configs,
        "allowed_virtual_keys": record.allowed_virtual_keys,
        "default_config": record.default_config,
        "defaults": record.default_config.as_ref().map(|slug| json!({"config_id": slug})),
        "rate_limits": record.rate_limits,
        "usage_limits": record.usage_limits,
        "status": status,
        "created_at": wire::iso8601(record.created_at),
        "revoked_at": record.revoked_at.map(wire::iso8601),
        "object": "api-key",
    });
    match view {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> ApiKeyRecord {
        ApiKeyRecord {
            id: "k1".into(),
            name: "ci".into(),
            key_hash: "h".into(),
            hint: "sb-…beef".into(),
            scope: ApiKeyScope::Gateway,
            allowed_configs: vec!["pc-a".into()],
            allowed_virtual_keys: vec![],
            default_config: Some("pc-a".into()),
            created_at: 0,
            revoked_at: None,
            rate_limits: None,
            usage_limits: None,
        }
    }

    #[test]
    fn a_patch_replaces_only_what_it_names_in_any_spelling() {
        let patch = json!({"scope": "admin", "allowedConfigs": [], "defaults": null});
        let Value::Object(patch) = patch else { unreachable!() };
        let body = patched(&record(), patch);
        assert_eq!(body.get("name"), Some(&json!("ci")), "kept");
        assert!(!body.contains_key("scopes") && body.get("scope") == Some(&json!("admin")), "{body:?}");
        assert!(!body.contains_key("allowed_configs") && body.get("allowedConfigs") == Some(&json!([])));
        assert!(!body.contains_key("default_config") && body.get("defaults") == Some(&Value::Null));
        assert_eq!(body.get("allowed_virtual_keys"), Some(&json!([])));
    }

    #[test]
    fn generated_keys_are_sb_and_32_hex_digits() {
        let key = generate_key().unwrap_or_default();
        assert_eq!(key.len(), 3 + 32, "{key}");
        assert!(key.starts_with("sb-") && key[3..].bytes().all(|b| b.is_ascii_hexdigit()), "{key}");
        assert_ne!(generate_key().unwrap_or_default(), key);
    }
}
