//! SCRAM-SHA-256 verifiers (RFC 5802, RFC 7677), the form in which PostgreSQL and pgbouncer
//! keep a password: they check a client's proof against it, and the password itself is never
//! written on the database host.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// PostgreSQL's own default.
const ITERATIONS: u32 = 4096;

/// The verifier of `password`, as PostgreSQL prints it (`SCRAM-SHA-256$4096:salt$stored:server`).
/// Its salt is derived from the password and `context` (the cluster and the user) at the cost
/// of the verifier itself, so the same password gives the same file and a task that runs again
/// changes nothing, yet the salt tells no more than the verifier does.
pub fn verifier(password: &str, context: &str) -> Result<String, String> {
    // PostgreSQL and libpq normalise other passwords with SASLprep first, which this does not.
    if password.is_empty() || !password.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
        return Err(
            "a database password must be printable ASCII (letters, digits, punctuation, spaces)"
                .to_owned(),
        );
    }
    let salt_source = format!("knit SCRAM salt of {context}");
    let salt: [u8; 16] = pbkdf2::pbkdf2_hmac_array::<Sha256, 16>(
        password.as_bytes(),
        salt_source.as_bytes(),
        ITERATIONS,
    );
    let keys = keys(password, &salt);
    Ok(format!(
        "SCRAM-SHA-256${ITERATIONS}:{}${}:{}",
        STANDARD.encode(salt),
        STANDARD.encode(Sha256::digest(keys.client_key)),
        STANDARD.encode(keys.server_key)
    ))
}

/// What a password gives for one salt; the verifier keeps the client key's digest.
struct Keys {
    client_key: [u8; 32],
    server_key: [u8; 32],
}

fn keys(password: &str, salt: &[u8]) -> Keys {
    let salted = pbkdf2::pbkdf2_hmac_array::<Sha256, 32>(password.as_bytes(), salt, ITERATIONS);
    Keys {
        client_key: hmac(&salted, b"Client Key"),
        server_key: hmac(&salted, b"Server Key"),
    }
}

fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verifier_is_stable_for_its_password_and_context_and_holds_neither() {
        let one = verifier("pencil s3cret", "shop/app").expect("a verifier");
        assert_eq!(one, verifier("pencil s3cret", "shop/app").expect("again"));
        assert_ne!(
            one,
            verifier("pencil s3cret", "shop/other").expect("other user")
        );
        assert_ne!(
            one,
            verifier("pencil s3creT", "shop/app").expect("other password")
        );
        assert!(!one.contains("pencil"));
        let (head, keys) = one
            .split_once('$')
            .and_then(|(scheme, rest)| {
                assert_eq!(scheme, "SCRAM-SHA-256");
                rest.split_once('$')
            })
            .expect("three parts");
        let (iterations, salt) = head.split_once(':').expect("iterations:salt");
        assert_eq!(iterations, "4096");
        assert_eq!(STANDARD.decode(salt).expect("base64").len(), 16);
        let (stored, server) = keys.split_once(':').expect("stored:server");
        assert_eq!(STANDARD.decode(stored).expect("base64").len(), 32);
        assert_eq!(STANDARD.decode(server).expect("base64").len(), 32);
    }

    #[test]
    fn only_printable_ascii_passwords_have_one() {
        for bad in ["", "caf\u{e9}", "line\nbreak", "tab\tbed"] {
            assert!(verifier(bad, "shop/app").is_err(), "{bad:?}");
        }
    }

    /// RFC 7677's exchange: user "user", password "pencil", its salt and 4096 iterations; its
    /// client proof and server signature for its AuthMessage prove both keys a verifier holds.
    #[test]
    fn the_keys_are_those_of_rfc_7677() {
        let salt = STANDARD.decode("W22ZaJ0SNY7soEsUEjb6gQ==").expect("salt");
        let keys = keys("pencil", &salt);
        let auth = "n=user,r=rOprNGfwEbeRWgbNEkqO,\
                    r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,\
                    c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        let stored_key = Sha256::digest(keys.client_key);
        let signature = hmac(&stored_key, auth.as_bytes());
        let proof: Vec<u8> = keys
            .client_key
            .iter()
            .zip(signature)
            .map(|(key, sign)| key ^ sign)
            .collect();
        assert_eq!(
            STANDARD.encode(proof),
            "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        assert_eq!(
            STANDARD.encode(hmac(&keys.server_key, auth.as_bytes())),
            "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        );
    }
}
