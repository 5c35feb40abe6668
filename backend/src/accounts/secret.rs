//! Secrets of sessions and API tokens: random, shown once, stored only as a SHA-256 digest.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0; N];
    getrandom::fill(&mut bytes).expect("the operating system gives random bytes");
    bytes
}

/// 256 random bits after `prefix`, which lets a leaked secret be recognised (e.g. by scanners).
pub fn new_secret(prefix: &str) -> String {
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(random_bytes::<32>()))
}

/// What the database keeps of `secret`. A fast hash is enough: the secret has 256 random bits,
/// so there is nothing to guess.
pub fn digest(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_new_each_time_and_digests_are_stable() {
        let secret = new_secret("knit_");
        assert!(secret.starts_with("knit_"));
        assert_eq!(secret.len(), "knit_".len() + 43);
        assert_ne!(secret, new_secret("knit_"));
        assert_eq!(digest(&secret), digest(&secret));
        assert_eq!(digest(&secret).len(), 64);
        assert!(!digest(&secret).contains(&secret[5..]));
    }
}
