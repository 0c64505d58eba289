//! The vault: provider secrets encrypted at rest with AES-256-GCM under one master key.
//!
//! It owns the ciphertext format (`v1:<base64 nonce>:<base64 ciphertext+tag>`, a fresh 96-bit nonce per secret),
//! the key-check value that lets a store refuse a wrong master key at start, display hints, and the master key's
//! home (env `SWITCHBOARD_MASTER_KEY`, else `master.key` in the data directory). It must not touch the database,
//! and no error or `Debug` output may carry key material or a plaintext secret.

mod master_key;

use std::fmt;
use std::path::PathBuf;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use rand::RngCore as _;

pub use master_key::{generate_master_key, parse_master_key, write_master_key_file, MASTER_KEY_ENV, MASTER_KEY_FILE};

const FORMAT_V1: &str = "v1";
const NONCE_LEN: usize = 12;
/// The plaintext of the key-check value stored beside the secrets.
const KEY_CHECK_PLAINTEXT: &str = "switchboard vault key check v1";

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error(
        "the master key does not match the one the vault was written with: set {MASTER_KEY_ENV} or restore \
         {MASTER_KEY_FILE} to the original key"
    )]
    WrongKey,
    #[error("a stored secret is malformed: {0}")]
    Malformed(&'static str),
    #[error("{origin} is not a valid master key: expected 64 hex characters or base64 of 32 bytes")]
    BadMasterKey { origin: String },
    #[error("cannot {action} the master key file {path}: {source}")]
    KeyFile {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the operating system's random number generator failed: {0}")]
    Random(String),
    #[error("encryption failed")]
    Encrypt,
}

/// An encrypted secret as stored. Not secret itself, but useless without the master key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ciphertext(String);

impl Ciphertext {
    /// Wraps a value read back from storage; it is checked on [`Vault::decrypt`].
    pub fn from_stored(stored: String) -> Self {
        Ciphertext(stored)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A decrypted secret: the core's one credential type, whose `Debug` and `Display` print a hint.
pub use switchboard_core::secret::Secret;

/// A secret ready to store: its ciphertext and the hint shown in listings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedSecret {
    pub ciphertext: Ciphertext,
    pub hint: String,
}

/// Encrypts and decrypts secrets under one master key.
#[derive(Clone)]
pub struct Vault {
    cipher: Aes256Gcm,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Vault { .. }")
    }
}

impl Vault {
    pub fn from_master_key(key: [u8; 32]) -> Self {
        Vault { cipher: Aes256Gcm::new(&Key::<Aes256Gcm>::from(key)) }
    }

    /// The master key from env `SWITCHBOARD_MASTER_KEY` (64 hex characters or base64 of 32 bytes), else from
    /// `<data_dir>/master.key`, which is created (mode 0600, 32 random bytes) when missing.
    pub fn load_or_create(data_dir: &std::path::Path) -> Result<Vault, VaultError> {
        let from_env = std::env::var(MASTER_KEY_ENV).ok().filter(|value| !value.trim().is_empty());
        master_key::load_or_create(data_dir, from_env.as_deref()).map(Vault::from_master_key)
    }

    pub fn encrypt(&self, plaintext: &str) -> Result<Ciphertext, VaultError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.try_fill_bytes(&mut nonce).map_err(|e| VaultError::Random(e.to_string()))?;
        let sealed =
            self.cipher.encrypt(Nonce::from_slice(&nonce), plaintext.as_bytes()).map_err(|_| VaultError::Encrypt)?;
        Ok(Ciphertext(format!("{FORMAT_V1}:{}:{}", BASE64.encode(nonce), BASE64.encode(sealed))))
    }

    /// Encrypts a secret and computes its hint in one step.
    pub fn seal(&self, plaintext: &str) -> Result<SealedSecret, VaultError> {
        Ok(SealedSecret { ciphertext: self.encrypt(plaintext)?, hint: hint(plaintext) })
    }

    /// Fails with [`VaultError::WrongKey`] when the ciphertext was written under another master key (GCM's
    /// authentication tag does not verify).
    pub fn decrypt(&self, ciphertext: &Ciphertext) -> Result<Secret, VaultError> {
        let (nonce, sealed) = split_v1(ciphertext.as_str())?;
        let plain =
            self.cipher.decrypt(Nonce::from_slice(&nonce), sealed.as_slice()).map_err(|_| VaultError::WrongKey)?;
        String::from_utf8(plain).map(Secret::new).map_err(|_| VaultError::Malformed("plaintext is not UTF-8"))
    }

    /// A fresh key-check value: a known constant encrypted under this vault's key.
    pub fn key_check(&self) -> Result<Ciphertext, VaultError> {
        self.encrypt(KEY_CHECK_PLAINTEXT)
    }

    /// Confirms that `check` (from [`Vault::key_check`]) was written under this vault's key.
    pub fn verify_key_check(&self, check: &Ciphertext) -> Result<(), VaultError> {
        match self.decrypt(check)?.expose() {
            KEY_CHECK_PLAINTEXT => Ok(()),
            _ => Err(VaultError::WrongKey),
        }
    }
}

fn split_v1(stored: &str) -> Result<([u8; NONCE_LEN], Vec<u8>), VaultError> {
    let mut parts = stored.splitn(3, ':');
    let (Some(FORMAT_V1), Some(nonce), Some(sealed)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(VaultError::Malformed("expected v1:<nonce>:<ciphertext>"));
    };
    let nonce = BASE64.decode(nonce).map_err(|_| VaultError::Malformed("nonce is not base64"))?;
    let nonce = nonce.try_into().map_err(|_| VaultError::Malformed("nonce is not 96 bits"))?;
    let sealed = BASE64.decode(sealed).map_err(|_| VaultError::Malformed("ciphertext is not base64"))?;
    Ok((nonce, sealed))
}

pub use switchboard_core::secret::hint;

#[cfg(test)]
mod tests {
    use super::*;

    fn vault(byte: u8) -> Vault {
        Vault::from_master_key([byte; 32])
    }

    #[test]
    fn decrypt_returns_what_encrypt_was_given() {
        let v = vault(1);
        let ct = v.encrypt("sk-live-secret").unwrap();
        assert_eq!(v.decrypt(&ct).unwrap().expose(), "sk-live-secret");
    }

    #[test]
    fn each_encryption_uses_a_fresh_nonce() {
        let v = vault(1);
        assert_ne!(v.encrypt("same").unwrap(), v.encrypt("same").unwrap());
    }

    #[test]
    fn ciphertext_never_contains_the_plaintext() {
        let ct = vault(1).encrypt("sk-live-secret").unwrap();
        assert!(ct.as_str().starts_with("v1:"));
        assert!(!ct.as_str().contains("sk-live-secret"));
    }

    #[test]
    fn wrong_key_is_reported_without_key_material() {
        let ct = vault(1).encrypt("sk-live-secret").unwrap();
        let err = vault(2).decrypt(&ct).unwrap_err();
        assert!(matches!(err, VaultError::WrongKey));
        assert!(err.to_string().contains("does not match the one the vault was written with"));
    }

    #[test]
    fn tampered_ciphertext_is_rejected() {
        let v = vault(1);
        let mut text = v.encrypt("abc").unwrap().as_str().to_owned();
        text.push('A');
        assert!(v.decrypt(&Ciphertext::from_stored(text)).is_err());
        let err = v.decrypt(&Ciphertext::from_stored("v2:a:b".into())).unwrap_err();
        assert!(matches!(err, VaultError::Malformed(_)));
    }

    #[test]
    fn key_check_verifies_only_under_the_same_key() {
        let check = vault(1).key_check().unwrap();
        vault(1).verify_key_check(&check).unwrap();
        assert!(matches!(vault(2).verify_key_check(&check), Err(VaultError::WrongKey)));
    }

    #[test]
    fn secret_debug_hides_the_value() {
        let secret = vault(1).decrypt(&vault(1).encrypt("sk-live-secret").unwrap()).unwrap();
        assert_eq!(format!("{secret:?}"), "Secret(…et)");
        assert!(!format!("{secret:?}").contains("live"));
        assert_eq!(format!("{:?}", vault(1)), "Vault { .. }");
    }

    #[test]
    fn hint_shows_prefix_and_last_four_of_long_secrets() {
        assert_eq!(hint("sk-proj-0123456789a1b2"), "sk-…a1b2");
    }

    #[test]
    fn hint_shows_only_last_two_of_medium_secrets() {
        assert_eq!(hint("abcdefgh"), "…gh");
        assert_eq!(hint("abcdefghijklmno"), "…no");
    }

    #[test]
    fn hint_shows_nothing_of_short_secrets() {
        assert_eq!(hint("abc"), "…");
        assert_eq!(hint(""), "…");
    }

    #[test]
    fn hint_counts_characters_not_bytes() {
        assert_eq!(hint("ééééééééééééééüü"), "ééé…ééüü");
    }
}
