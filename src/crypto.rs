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
