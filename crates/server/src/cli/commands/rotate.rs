//! `switchboard rotate-master-key`: re-encrypts every stored secret under a new master key
//! in one transaction, then puts the new key where the old one came from. Ordered so the
//! new key can never be lost: with a key file, it is first written beside the old one
//! (`master.key.rotating`, mode 0600, synced), the transaction commits, and only then is it
//! renamed over `master.key`. With SWITCHBOARD_MASTER_KEY, no file is written; a generated
//! key is printed before anything changes. If the outcome of the commit is unknown, the
//! store is asked which key it now takes before anything is cleaned up.

use std::path::{Path, PathBuf};

use serde_json::json;
use switchboard_store::vault::{
    generate_master_key, parse_master_key, write_master_key_file, MASTER_KEY_ENV, MASTER_KEY_FILE,
};
use switchboard_store::{Store, StoreError, Vault, VaultError};

use super::output::{self, Output};
use super::{open_store, CommandError};
use crate::cli::RotateMasterKeyArgs;

/// Where the current master key lives.
enum KeyHome {
    Env,
    File(PathBuf),
}

pub async fn run(args: RotateMasterKeyArgs) -> Result<(), CommandError> {
    let out = Output::new(args.common.json);
    let store = open_store(&args.common.store).await?;
    let result = rotate(&args, &store, out).await;
    store.close().await;
    result
}

async fn rotate(args: &RotateMasterKeyArgs, store: &Store, out: Output) -> Result<(), CommandError> {
    let (home, current) = current_key(&args.common.store.data_dir)?;
    let old = Vault::from_master_key(current);
    store.check_vault(&old).await?;
    let next = next_key(args.new_key_env.as_deref())?;
    if next == current {
        return Err(CommandError::Invalid("the new master key is the same as the current one".into()));
    }
    let new = Vault::from_master_key(next);
    match home {
        KeyHome::File(path) => rotate_file(store, (&old, &new), &next, &path, out).await,
        KeyHome::Env => {
            let shown = args.new_key_env.is_none().then(|| to_hex(&next));
            rotate_env(store, (&old, &new), shown, args.new_key_env.as_deref(), out).await?;
            warn_stale_file(&args.common.store.data_dir);
            Ok(())
        }
    }
}

/// The current key: SWITCHBOARD_MASTER_KEY when set, else `<data-dir>/master.key`.
fn current_key(data_dir: &Path) -> Result<(KeyHome, [u8; 32]), CommandError> {
    if let Some(text) = std::env::var(MASTER_KEY_ENV).ok().filter(|v| !v.trim().is_empty()) {
        return Ok((KeyHome::Env, parse_master_key(&text, MASTER_KEY_ENV)?));
    }
    let path = data_dir.join(MASTER_KEY_FILE);
    let text = std::fs::read_to_string(&path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => CommandError::Invalid(format!(
            "no master key to rotate: {} does not exist and {MASTER_KEY_ENV} is not set",
            path.display()
        )),
        _ => CommandError::Read { path: path.clone(), source },
    })?;
    let key = parse_master_key(&text, &path.display().to_string())?;
    Ok((KeyHome::File(path), key))
}

/// The new key: from `--new-key-env VAR`, else 32 fresh random bytes.
fn next_key(var: Option<&str>) -> Result<[u8; 32], CommandError> {
    let Some(var) = var else { return Ok(generate_master_key()?) };
    let text = std::env::var(var)
        .map_err(|_| CommandError::Invalid(format!("--new-key-env: environment variable {var} is not set")))?;
    Ok(parse_master_key(&text, var)?)
}

async fn rotate_file(
    store: &Store,
    (old, new): (&Vault, &Vault),
    next: &[u8; 32],
    path: &Path,
    out: Output,
) -> Result<(), CommandError> {
    let staged = path.with_file_name(format!("{MASTER_KEY_FILE}.rotating"));
    write_master_key_file(&staged, next).map_err(|e| staging_failed(e, &staged, path))?;
    let count = match store.rotate_master_key(old, new).await {
        Ok(count) => count,
        Err(err) => return Err(failed_with_file(err, store, old, &staged, path).await),
    };
    install(&staged, path).map_err(|source| {
        CommandError::Invalid(format!(
            "the secrets are re-encrypted, but the new key could not be moved into place ({source}): \
             it is in {}; move it to {} before starting the gateway",
            staged.display(),
            path.display()
        ))
    })?;
    let report = json!({"reencrypted": count, "key_file": path, "new_key": null});
    out.show(&report, |out| {
        out.text(&format!(
            "Re-encrypted {count} secret(s) under the new master key, now in {} (mode 0600).\n\
             The old key no longer opens this store: replace any backup of it.\n\
             Next: restart `switchboard serve` (every instance that shares this database) so it loads the new key.",
            path.display()
        ))
    })
}

fn staging_failed(err: VaultError, staged: &Path, path: &Path) -> CommandError {
    match &err {
        VaultError::KeyFile { source, .. } if source.kind() == std::io::ErrorKind::AlreadyExists => {
            CommandError::Invalid(format!(
                "{} exists: an earlier rotation did not finish. If `switchboard serve` now fails with a wrong-key \
                 error, that file holds the key the store needs: move it to {}. Otherwise delete it, then run this \
                 again.",
                staged.display(),
                path.display()
            ))
        }
        _ => err.into(),
    }
}

/// Renames the staged key over the old one and syncs the directory so the rename is durable.
fn install(staged: &Path, path: &Path) -> std::io::Result<()> {
    std::fs::rename(staged, path)?;
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// What the store takes after a failed rotation: the old key (nothing changed), the new key
/// (the commit went through after all), or unknown.
enum Settled {
    Unchanged,
    Rotated,
    Unknown,
}

async fn settle(store: &Store, old: &Vault) -> Settled {
    match store.check_vault(old).await {
        Ok(()) => Settled::Unchanged,
        Err(StoreError::Vault(VaultError::WrongKey)) => Settled::Rotated,
        Err(_) => Settled::Unknown,
    }
}

async fn failed_with_file(err: StoreError, store: &Store, old: &Vault, staged: &Path, path: &Path) -> CommandError {
    match settle(store, old).await {
        Settled::Unchanged => {
            let removed = std::fs::remove_file(staged).is_ok();
            let left = if removed { String::new() } else { format!(" (delete {})", staged.display()) };
            CommandError::Invalid(format!("rotation failed, nothing changed{left}: {err}"))
        }
        Settled::Rotated => match install(staged, path) {
            Ok(()) => CommandError::Invalid(format!(
                "the rotation reported an error ({err}) but did complete: the new key is in {}",
                path.display()
            )),
            Err(_) => CommandError::Invalid(format!(
                "the rotation completed despite an error ({err}): move {} to {} before starting the gateway",
                staged.display(),
                path.display()
            )),
        },
        Settled::Unknown => CommandError::Invalid(format!(
            "rotation failed ({err}) and the store cannot tell which key it now takes: keep both {} and {}; \
             whichever lets `switchboard serve` start is the right one",
            path.display(),
            staged.display()
        )),
    }
}

async fn rotate_env(
    store: &Store,
    (old, new): (&Vault, &Vault),
    shown: Option<String>,
    var: Option<&str>,
    out: Output,
) -> Result<(), CommandError> {
    let set_to = match (&shown, var) {
        (Some(_), _) => "the key printed above".to_owned(),
        (None, Some(var)) => format!("the value of {var}"),
        (None, None) => "the new key".to_owned(),
    };
    if let (Some(hex), false) = (&shown, out.is_json()) {
        // Shown before anything changes, so a crash after the commit cannot lose it.
        out.text(&format!(
            "New master key (hex; takes effect only if the re-encryption below succeeds):\n\n    {hex}\n"
        ))?;
    }
    let count = match store.rotate_master_key(old, new).await {
        Ok(count) => count,
        Err(err) => return Err(failed_with_env(err, store, old, &set_to).await),
    };
    let report = json!({"reencrypted": count, "key_file": null, "new_key": shown});
    out.show(&report, |out| {
        out.text(&format!(
            "Re-encrypted {count} secret(s) under the new master key. The old key no longer opens this store.\n\
             Next: set {MASTER_KEY_ENV} to {set_to} wherever `switchboard serve` runs (every instance that shares \
             this database), then restart it."
        ))
    })
}

async fn failed_with_env(err: StoreError, store: &Store, old: &Vault, set_to: &str) -> CommandError {
    let what = match settle(store, old).await {
        Settled::Unchanged => format!("nothing changed: keep the current {MASTER_KEY_ENV}"),
        Settled::Rotated => format!("the rotation did complete: set {MASTER_KEY_ENV} to {set_to}"),
        Settled::Unknown => format!("the store cannot tell which key it now takes: keep the old key and {set_to}"),
    };
    CommandError::Invalid(format!("rotation failed ({err}); {what}"))
}

/// With the key in the environment, a key file in the data directory is a leftover that no
/// longer opens the store (and would be used if the variable were unset).
fn warn_stale_file(data_dir: &Path) {
    let path = data_dir.join(MASTER_KEY_FILE);
    if path.exists() {
        output::warn(&format!("{} holds another key that does not open this store: delete it", path.display()));
    }
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
