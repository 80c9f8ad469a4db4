//! SHA-256 as motus names things by it: models (the bytes that run), quantized models' sources,
//! device ids, flow-cache settings. One spelling: lower-case hex.

use sha2::{Digest, Sha256};

/// Lower-case hex SHA-256 of `bytes` (64 digits; a prefix of it where a short name will do).
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_are_lower_case_hex() {
        assert_eq!(super::sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
