//! # dtls-psk — DTLS 1.2 with pre-shared keys, safe and sans-IO
//!
//! A small, safe wrapper over the vendored tinydtls (`tinydtls-sys`) for both
//! roles: a client session (identity + key) and a server that keeps sessions
//! per peer and looks keys up by identity. Cipher suite
//! TLS_PSK_WITH_AES_128_CCM_8, as RFC 7925 profiles it for constrained
//! devices.
//!
//! This is the only crate of the workspace where `unsafe` is allowed; every
//! block carries a `// SAFETY:` comment.
#![deny(unsafe_code)]
#![warn(missing_docs)]
