//! The age payload: STREAM over ChaCha20-Poly1305 in 64 KiB chunks.

#[cfg(feature = "encrypt")]
use chacha20poly1305::aead::Aead;
use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use zeroize::Zeroizing;

use crate::error::Error;

/// Plaintext bytes per chunk.
pub(crate) const CHUNK: usize = 64 * 1024;
/// The Poly1305 tag after each chunk.
const TAG: usize = 16;
/// Ciphertext bytes of a full chunk.
const FULL: usize = CHUNK + TAG;

/// The STREAM nonce: an 11-byte big-endian chunk counter, then 1 on the final chunk.
fn nonce(counter: u64, last: bool) -> Nonce {
    let mut nonce = [0u8; 12];
    nonce[3..11].copy_from_slice(&counter.to_be_bytes());
    nonce[11] = u8::from(last);
    Nonce::from(nonce)
}

#[cfg(feature = "encrypt")]
/// Encrypts the whole plaintext: full chunks, then a final chunk that is short, full, or (only
/// for an empty plaintext) empty.
pub(crate) fn seal(key: &[u8; 32], plaintext: &[u8], out: &mut Vec<u8>) {
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key));
    let empty: &[u8] = &[];
    let chunks: Vec<&[u8]> = if plaintext.is_empty() {
        vec![empty]
    } else {
        plaintext.chunks(CHUNK).collect()
    };
    out.reserve(plaintext.len() + chunks.len() * TAG);
    for (index, chunk) in chunks.iter().enumerate() {
        let sealed = cipher
            .encrypt(&nonce(index as u64, index + 1 == chunks.len()), *chunk)
            .expect("ChaCha20-Poly1305 encrypts any chunk of 64 KiB");
        out.extend_from_slice(&sealed);
    }
}

/// Decrypts chunk after chunk, releasing each chunk's plaintext once it is authenticated.
pub(crate) struct Opener {
    cipher: ChaCha20Poly1305,
    counter: u64,
    /// Set when a chunk flagged final was followed by more data: the error comes after that
    /// chunk's plaintext.
    pending: Option<Error>,
    done: bool,
}

impl Opener {
    pub(crate) fn new(key: &[u8; 32]) -> Self {
        Opener {
            cipher: ChaCha20Poly1305::new(Key::from_slice(key)),
            counter: 0,
            pending: None,
            done: false,
        }
    }

    fn open(&self, sealed: &[u8], last: bool) -> Option<Zeroizing<Vec<u8>>> {
        let mut buffer = Zeroizing::new(Vec::with_capacity(sealed.len()));
        buffer.extend_from_slice(sealed);
        self.cipher
            .decrypt_in_place(&nonce(self.counter, last), b"", &mut *buffer)
            .ok()?;
        Some(buffer)
    }

    fn fail(&mut self, error: Error) -> Option<Result<Zeroizing<Vec<u8>>, Error>> {
        self.done = true;
        Some(Err(error))
    }

    /// The next chunk's plaintext from `rest` (the ciphertext not read yet), and how many
    /// bytes it consumed; `None` once the final chunk was released or an error returned.
    pub(crate) fn next(
        &mut self,
        rest: &[u8],
        consumed: &mut usize,
    ) -> Option<Result<Zeroizing<Vec<u8>>, Error>> {
        if self.done {
            return None;
        }
        if let Some(error) = self.pending.take() {
            return self.fail(error);
        }
        let chunk = self.counter;
        if rest.len() > FULL {
            // More data follows: this chunk is not the final one.
            let sealed = &rest[..FULL];
            if let Some(plaintext) = self.open(sealed, false) {
                self.counter += 1;
                *consumed += FULL;
                return Some(Ok(plaintext));
            }
            if let Some(plaintext) = self.open(sealed, true) {
                self.pending = Some(Error::payload(format!(
                    "there is data after the final chunk (chunk {chunk})"
                )));
                *consumed += FULL;
                return Some(Ok(plaintext));
            }
            return self.fail(Error::payload(format!(
                "chunk {chunk} fails authentication: the file is corrupted or was modified"
            )));
        }
        if rest.len() < TAG {
            let what = if rest.is_empty() && chunk == 0 {
                "the payload is empty: the file is truncated".to_owned()
            } else if rest.is_empty() {
                format!(
                    "the final chunk is missing after chunk {}: the file is truncated",
                    chunk - 1
                )
            } else {
                format!("chunk {chunk} is shorter than its tag: the file is truncated")
            };
            return self.fail(Error::payload(what));
        }
        if let Some(plaintext) = self.open(rest, true) {
            if plaintext.is_empty() && chunk != 0 {
                return self.fail(Error::payload(format!(
                    "the final chunk (chunk {chunk}) is empty, which only an empty file may have"
                )));
            }
            self.done = true;
            *consumed += rest.len();
            return Some(Ok(plaintext));
        }
        if rest.len() == FULL
            && let Some(plaintext) = self.open(rest, false)
        {
            // Authentic but not final: the next call reports the missing final chunk.
            self.counter += 1;
            *consumed += FULL;
            return Some(Ok(plaintext));
        }
        self.fail(Error::payload(format!(
            "chunk {chunk} fails authentication: the file is corrupted, truncated or was modified"
        )))
    }
}
