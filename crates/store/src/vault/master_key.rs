//! Where the master key comes from: the environment, else a key file in the data directory that is created on
//! first start. Owns the key's text formats and the file's permissions; errors name the key's origin, never the key.

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write as _};
use std::path::Path;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use rand::RngCore as _;

use super::VaultError;

/// Environment variable that overrides the key file.
pub const MASTER_KEY_ENV: &str = "SWITCHBOARD_MASTER_KEY";
/// Name of the key file inside the data directory.
pub const MASTER_KEY_FILE: &str = "master.key";

/// Reads a master key written as 64 hex characters or as base64 of 32 bytes (surrounding whitespace ignored).
/// `origin` names where the text came from, for the error message.
pub fn parse_master_key(text: &str, origin: &str) -> Result<[u8; 32], VaultError> {
    let text = text.trim();
    let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(text).ok()
    } else {
        BASE64.decode(text).ok()
    };
    bytes
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| VaultError::BadMasterKey { origin: origin.to_owned() })
}

/// 32 bytes from the operating system's random number generator.
pub fn generate_master_key() -> Result<[u8; 32], VaultError> {
    let mut key = [0u8; 32];
    rand::rngs::OsRng.try_fill_bytes(&mut key).map_err(|e| VaultError::Random(e.to_string()))?;
    Ok(key)
}

/// Writes `key` as hex to a new file readable only by its owner. Fails if the file exists: a master key is
/// never overwritten in place (rotation writes a new file and renames it).
pub fn write_master_key_file(path: &Path, key: &[u8; 32]) -> Result<(), VaultError> {
    let file_error = |action| move |source| VaultError::KeyFile { action, path: path.to_owned(), source };
    let mut file = new_private_file(path).map_err(file_error("create"))?;
    file.write_all(format!("{}\n", hex::encode(key)).as_bytes()).map_err(file_error("write"))?;
    file.sync_all().map_err(file_error("write"))
}

#[cfg(unix)]
fn new_private_file(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)
}

#[cfg(not(unix))]
fn new_private_file(path: &Path) -> std::io::Result<fs::File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

/// The key from `env_value` when given, else from the key file, creating the file when it does not exist.
pub(super) fn load_or_create(data_dir: &Path, env_value: Option<&str>) -> Result<[u8; 32], VaultError> {
    if let Some(text) = env_value {
        return parse_master_key(text, MASTER_KEY_ENV);
    }
    let path = data_dir.join(MASTER_KEY_FILE);
    match read_key_file(&path) {
        Err(VaultError::KeyFile { source, .. }) if source.kind() == ErrorKind::NotFound => {
            create_key_file(data_dir, &path)
        }
        other => other,
    }
}

fn read_key_file(path: &Path) -> Result<[u8; 32], VaultError> {
    let text = fs::read_to_string(path).map_err(|source| VaultError::KeyFile {
        action: "read",
        path: path.to_owned(),
        source,
    })?;
    parse_master_key(&text, &path.display().to_string())
}

fn create_key_file(data_dir: &Path, path: &Path) -> Result<[u8; 32], VaultError> {
    fs::create_dir_all(data_dir).map_err(|source| VaultError::KeyFile {
        action: "create the directory of",
        path: path.to_owned(),
        source,
    })?;
    let key = generate_master_key()?;
    match write_master_key_file(path, &key) {
        Ok(()) => Ok(key),
        // Another process created it between our read and our write: use theirs.
        Err(VaultError::KeyFile { source, .. }) if source.kind() == ErrorKind::AlreadyExists => read_key_file(path),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("sb-vault-{name}-{}", uuid::Uuid::new_v4()));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn hex_and_base64_keys_parse_to_the_same_bytes() {
        let key = [7u8; 32];
        assert_eq!(parse_master_key(&hex::encode(key), "t").unwrap(), key);
        assert_eq!(parse_master_key(&format!(" {}\n", BASE64.encode(key)), "t").unwrap(), key);
    }

    #[test]
    fn keys_of_the_wrong_length_are_rejected_without_echoing_them() {
        let err = parse_master_key("c2VjcmV0LXRvby1zaG9ydA==", MASTER_KEY_ENV).unwrap_err();
        let message = err.to_string();
        assert!(message.contains(MASTER_KEY_ENV));
        assert!(!message.contains("c2VjcmV0"));
        assert!(parse_master_key(&"z".repeat(64), "t").is_err());
    }

    #[test]
    fn missing_key_file_is_created_once_and_then_reused() {
        let dir = temp_dir("create").join("nested");
        let first = load_or_create(&dir, None).unwrap();
        let second = load_or_create(&dir, None).unwrap();
        assert_eq!(first, second);
        fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn created_key_file_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = temp_dir("mode");
        load_or_create(&dir, None).unwrap();
        let mode = fs::metadata(dir.join(MASTER_KEY_FILE)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn environment_key_wins_over_the_key_file() {
        let dir = temp_dir("env");
        load_or_create(&dir, None).unwrap();
        let from_env = load_or_create(&dir, Some(&hex::encode([9u8; 32]))).unwrap();
        assert_eq!(from_env, [9u8; 32]);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn corrupt_key_file_is_an_error_not_a_new_key() {
        let dir = temp_dir("corrupt");
        fs::write(dir.join(MASTER_KEY_FILE), "not a key").unwrap();
        assert!(matches!(load_or_create(&dir, None), Err(VaultError::BadMasterKey { .. })));
        fs::remove_dir_all(dir).unwrap();
    }
}
