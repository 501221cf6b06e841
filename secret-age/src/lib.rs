//! A small implementation of the [age v1 file format](https://age-encryption.org/v1) on
//! RustCrypto and dalek primitives, for the secrets toolkit's encrypted store.
//!
//! What it implements:
//!
//! - X25519 identities (`AGE-SECRET-KEY-1...`) and recipients (`age1...`): [`Identity`],
//!   [`Recipient`];
//! - encryption to one or more X25519 recipients, binary ([`encrypt`]) or in age's ASCII armor
//!   ([`encrypt_armored`]): a random 16-byte file key wrapped once per recipient with a fresh
//!   ephemeral key, the header MAC, and the STREAM payload (ChaCha20-Poly1305, 64 KiB chunks,
//!   final-chunk flag);
//! - decryption of binary or armored files ([`decrypt`], or chunk by chunk with
//!   [`Decryptor`]), as strictly as the specification asks: canonical unpadded base64 in
//!   stanzas, 64-column lines, the MAC line's exact form, all-zero (low-order) X25519 shares,
//!   empty final chunks, data after the final chunk, the armor's whitespace rules;
//! - reading a header without any key ([`parse_header`]), to count recipients.
//!
//! It passes every `x25519`, `stream`, `header`, `stanza`, `hmac`, `version` and `empty` vector
//! of the official age test kit (C2SP/CCTV), and every `armor` vector but `armor_hybrid`
//! (post-quantum recipients, not implemented) and, without the `scrypt` feature,
//! `armor_scrypt`; with it, every `scrypt` vector too.
//!
//! With the non-default feature `scrypt`, it also decrypts passphrase-encrypted files
//! (`decrypt_with_passphrase`, `Decryptor::with_passphrase`); it does not write them.
//!
//! Features, each adding to the one before: none compiles only the Bech32 codec
//! ([`bech32`], age's rules); `x25519` adds [`Identity`] and [`Recipient`]; `decrypt` reads
//! files (no random number generator); `encrypt` (default) writes files and generates
//! identities with the operating system's random number generator (`getrandom`).
//!
//! What it does not implement: encryption to a passphrase, SSH recipients, post-quantum
//! hybrid (`mlkem768x25519`) recipients, plugins, and streaming I/O (the whole file is in
//! memory, which suits files of secrets). Stanzas of those types are parsed, kept in
//! [`Header::stanzas`], and skipped when looking for a matching identity. A file holding a
//! `scrypt` stanza next to other stanzas is rejected, as age does.
//!
//! ```
//! let identity = secret_age::Identity::generate();
//! let recipient = identity.to_public();
//! let file = secret_age::encrypt_armored(&[recipient], b"hunter2").unwrap();
//! assert!(file.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n"));
//! let header = secret_age::parse_header(file.as_bytes()).unwrap();
//! assert_eq!(header.count("X25519"), 1);
//! let plaintext = secret_age::decrypt(&[identity], file.as_bytes()).unwrap();
//! assert_eq!(plaintext.as_slice(), b"hunter2");
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod bech32;
mod error;
#[cfg(feature = "decrypt")]
mod file;
#[cfg(feature = "header")]
mod format;
#[cfg(feature = "x25519")]
mod keys;
#[cfg(feature = "encrypt")]
mod random;
#[cfg(feature = "scrypt")]
mod scrypt;
#[cfg(feature = "decrypt")]
mod stream;

pub use error::{Error, KeyError};
#[cfg(feature = "scrypt")]
pub use file::decrypt_with_passphrase;
#[cfg(feature = "decrypt")]
pub use file::{Decryptor, decrypt};
#[cfg(feature = "encrypt")]
pub use file::{encrypt, encrypt_armored};
#[cfg(feature = "header")]
pub use format::{Header, Stanza, parse_header};
#[cfg(feature = "x25519")]
pub use keys::{Identity, Recipient};
