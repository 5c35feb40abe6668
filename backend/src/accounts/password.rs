//! Password hashes: argon2id with the crate's defaults (OWASP's recommended minimum).

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use super::secret::random_bytes;

/// The PHC string of `password`'s argon2id hash with a fresh salt.
pub fn hash(password: &str) -> String {
    let salt =
        SaltString::encode_b64(&random_bytes::<16>()).expect("16 bytes are a valid salt length");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2's default parameters accept any password up to 4 GiB")
        .to_string()
}

/// Whether `password` matches `hash`; a malformed hash matches nothing.
pub fn verify(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Checks `password` against no account's hash, taking as long as a real check, so the time a
/// refusal takes does not tell which account names exist.
pub fn verify_nothing(password: &str) {
    static UNUSABLE: LazyLock<String> =
        LazyLock::new(|| hash(&super::secret::new_secret("unusable-")));
    let _ = verify(password, &UNUSABLE);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_matches_its_password_only_and_is_salted() {
        let first = hash("correct horse battery");
        assert!(first.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &first));
        assert!(!verify("correct horse battery!", &first));
        assert_ne!(first, hash("correct horse battery"));
        assert!(!verify("anything", "not a hash"));
    }
}
