-- Control plane: change generation, vault key check, virtual keys, versioned configs, API keys.

CREATE TABLE control_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    generation BIGINT NOT NULL
);
INSERT INTO control_state (id, generation) VALUES (1, 0);

CREATE TABLE vault_meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    key_check TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE virtual_keys (
    slug TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    provider TEXT NOT NULL,
    secret_ciphertext TEXT NOT NULL,
    secret_hint TEXT NOT NULL,
    options TEXT NOT NULL DEFAULT '{}',
    note TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE configs (
    slug TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    current_version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE config_versions (
    slug TEXT NOT NULL REFERENCES configs (slug) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    config_json TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (slug, version)
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    hint TEXT NOT NULL,
    scope TEXT NOT NULL CHECK (scope IN ('admin', 'gateway')),
    allowed_configs TEXT NOT NULL DEFAULT '[]',
    allowed_virtual_keys TEXT NOT NULL DEFAULT '[]',
    default_config TEXT,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
