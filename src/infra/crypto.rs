//! Small cryptographic helpers shared by tokens, keys and pseudonyms.

use std::fmt::Write as _;

use rand::TryRngCore as _;

/// Lower-case hexadecimal of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// `N` bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    if rand::rngs::OsRng.try_fill_bytes(&mut bytes).is_err() {
        // The OS generator does not fail on supported platforms; the thread RNG is itself
        // seeded from it, so this fallback keeps the same strength.
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    }
    bytes
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_is_lowercase_and_padded() {
        assert_eq!(super::hex(&[0, 15, 255]), "000fff");
    }

    #[test]
    fn random_bytes_differ() {
        assert_ne!(super::random_bytes::<16>(), super::random_bytes::<16>());
    }
}

/// HMAC-SHA256.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    use hmac::Mac as _;
    let mut mac =
        <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(key).unwrap_or_else(|_| {
            // HMAC accepts keys of any length; this branch cannot be taken.
            <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(&[0u8; 32])
                .unwrap_or_else(|_| unreachable!())
        });
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Purpose-specific keys derived from `SAMSKAP_SECRET_KEY`, so that no two uses share a key.
#[derive(Clone)]
pub struct DerivedKeys {
    /// Panel pseudonyms (keyed hash of the normalised e-mail).
    pub pseudonym: [u8; 32],
    /// Finding an anonymous response again from its link.
    pub resume: [u8; 32],
    /// Research pseudonyms, keyed again per research project (`export::Pseudonyms`).
    pub research: [u8; 32],
}

impl std::fmt::Debug for DerivedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DerivedKeys([redacted])")
    }
}

impl DerivedKeys {
    pub fn new(secret: &Secret) -> Self {
        let master = secret.expose().as_bytes();
        Self {
            pseudonym: hmac_sha256(master, b"samskap/panel-pseudonym/v1"),
            resume: hmac_sha256(master, b"samskap/anonymous-resume/v1"),
            research: hmac_sha256(master, b"samskap/research-pseudonym/v1"),
        }
    }

    /// Stable across waves; reveals nothing without the key.
    pub fn panel_pseudonym(&self, normalised_email: &str) -> String {
        format!(
            "p{}",
            hex(&hmac_sha256(&self.pseudonym, normalised_email.as_bytes())[..16])
        )
    }

    pub fn resume_key_hash(&self, token: &str) -> String {
        hex(&hmac_sha256(&self.resume, token.as_bytes()))
    }
}

/// A respondent link token: 160 bits from the OS CSPRNG, URL-safe (lower-case hex).
pub fn respondent_token() -> String {
    hex(&random_bytes::<20>())
}

/// A value that must never reach a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}
