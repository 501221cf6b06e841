//! Who may talk to the dashboard: one-time link tokens, the sessions they are traded for,
//! and the identity of this server start.
//!
//! Nothing here is ambient: there is no cookie. A link token (in the printed link's
//! fragment, or in the private file the browser is opened on) works once and for
//! [`TOKEN_LIFETIME`]; trading it gives the tab a session secret, which the page keeps in
//! `sessionStorage` and sends in [`SESSION_HEADER`]. The server's answers to a session
//! carry [`INSTANCE_HEADER`], a random value drawn at start and given only to sessions,
//! so a tab can tell its own server from any other process on the port.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a link token can be traded for a session.
pub(super) const TOKEN_LIFETIME: Duration = Duration::from_secs(180);

/// The request header that carries the tab's session.
pub(super) const SESSION_HEADER: &str = "x-dashboard-session";

/// The answer header that names this server start (only in answers to a session).
pub(super) const INSTANCE_HEADER: &str = "x-dashboard-instance";

/// The tokens and sessions of one server start.
pub(super) struct Auth {
    instance: String,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    tokens: Vec<Token>,
    sessions: Vec<String>,
}

struct Token {
    value: String,
    issued: Instant,
    used: bool,
    /// The private file that holds the token for the browser, removed once it is used
    /// or expired.
    file: Option<PathBuf>,
}

/// Why a link token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    /// Not a token of this server start.
    Unknown,
    /// Traded already: each link opens one tab.
    Used,
    /// Older than [`TOKEN_LIFETIME`].
    Expired,
}

impl Refusal {
    /// What the page and the terminal say.
    pub(super) fn message(self) -> &'static str {
        match self {
            Self::Unknown => {
                "refused: this link is not this dashboard's; open the link `cargo xtask secret ui` printed"
            }
            Self::Used => {
                "refused: this link was used already (each link opens one tab); press Enter in the terminal running `cargo xtask secret ui` for a new one"
            }
            Self::Expired => {
                "refused: this link expired (a link works for 3 minutes); press Enter in the terminal running `cargo xtask secret ui` for a new one"
            }
        }
    }
}

/// A traded token: the new session, and the token's file to remove.
pub(super) struct Traded {
    pub(super) session: String,
    pub(super) file: Option<PathBuf>,
}

impl Auth {
    /// Draws this server start's identity.
    pub(super) fn new() -> std::io::Result<Self> {
        Ok(Self {
            instance: random_hex()?,
            state: Mutex::default(),
        })
    }

    /// This server start's identity.
    pub(super) fn instance(&self) -> &str {
        &self.instance
    }

    /// A new link token, valid once for [`TOKEN_LIFETIME`] from `now`.
    pub(super) fn issue(&self, now: Instant) -> std::io::Result<String> {
        let value = random_hex()?;
        self.lock().tokens.push(Token {
            value: value.clone(),
            issued: now,
            used: false,
            file: None,
        });
        Ok(value)
    }

    /// Remembers that `token` was written to `file` (removed when the token is used or
    /// expires).
    pub(super) fn attach_file(&self, token: &str, file: PathBuf) {
        if let Some(entry) = self
            .lock()
            .tokens
            .iter_mut()
            .find(|entry| same(&entry.value, token))
        {
            entry.file = Some(file);
        }
    }

    /// Trades `token` for a new session. A token is spent by its first trade, whatever
    /// happens to the answer.
    pub(super) fn trade(&self, token: &str, now: Instant) -> Result<Traded, Refusal> {
        let mut state = self.lock();
        let entry = state
            .tokens
            .iter_mut()
            .find(|entry| same(&entry.value, token))
            .ok_or(Refusal::Unknown)?;
        if entry.used {
            return Err(Refusal::Used);
        }
        entry.used = true;
        if now.saturating_duration_since(entry.issued) > TOKEN_LIFETIME {
            // Its file goes with the next `expire`.
            return Err(Refusal::Expired);
        }
        let file = entry.file.take();
        let session = random_hex().map_err(|_| Refusal::Unknown)?;
        state.sessions.push(session.clone());
        Ok(Traded { session, file })
    }

    /// Whether `session` was handed out by this server start.
    pub(super) fn knows(&self, session: &str) -> bool {
        // Every session is compared in full, so the time does not tell which came close.
        self.lock()
            .sessions
            .iter()
            .fold(false, |found, known| found | same(known, session))
    }

    /// Spends the tokens older than [`TOKEN_LIFETIME`]; returns their files to remove.
    pub(super) fn expire(&self, now: Instant) -> Vec<PathBuf> {
        let mut state = self.lock();
        let mut files = Vec::new();
        for entry in &mut state.tokens {
            if now.saturating_duration_since(entry.issued) > TOKEN_LIFETIME {
                files.extend(entry.file.take());
            }
        }
        files
    }

    /// The files of tokens not used yet (removed when the dashboard stops).
    pub(super) fn files(&self) -> Vec<PathBuf> {
        self.lock()
            .tokens
            .iter()
            .filter_map(|entry| entry.file.clone())
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind: keep serving.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

pub(super) use crate::cli::random_hex;

/// Compares secrets in time independent of where they differ.
pub(super) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_traded_once_for_a_new_session() {
        let auth = Auth::new().unwrap();
        let now = Instant::now();
        let token = auth.issue(now).unwrap();
        assert_eq!(token.len(), 32, "128 bits in hex");
        let first = auth.trade(&token, now).unwrap().session;
        assert!(auth.knows(&first));
        assert_ne!(first, token);
        assert_eq!(auth.trade(&token, now).err(), Some(Refusal::Used));
        let second = auth.trade(&auth.issue(now).unwrap(), now).unwrap().session;
        assert_ne!(first, second, "each trade makes its own session");
        assert!(auth.knows(&second) && auth.knows(&first));
        assert!(!auth.knows(&token) && !auth.knows(""));
        assert_eq!(
            auth.trade("00112233445566778899aabbccddeeff", now).err(),
            Some(Refusal::Unknown)
        );
    }

    #[test]
    fn a_token_expires_and_its_file_is_handed_back() {
        let auth = Auth::new().unwrap();
        let then = Instant::now();
        let late = then + TOKEN_LIFETIME + Duration::from_secs(1);
        let token = auth.issue(then).unwrap();
        auth.attach_file(&token, PathBuf::from("/run/open.html"));
        assert_eq!(auth.files(), [PathBuf::from("/run/open.html")]);
        assert!(auth.expire(then).is_empty());
        assert_eq!(auth.trade(&token, late).err(), Some(Refusal::Expired));
        assert_eq!(auth.trade(&token, late).err(), Some(Refusal::Used));
        assert_eq!(auth.expire(late), [PathBuf::from("/run/open.html")]);
        assert!(auth.expire(late).is_empty(), "handed back once");

        // A trade hands the file back too, so it is removed at once.
        let token = auth.issue(then).unwrap();
        auth.attach_file(&token, PathBuf::from("/run/again.html"));
        let traded = auth.trade(&token, then).unwrap();
        assert_eq!(traded.file, Some(PathBuf::from("/run/again.html")));
        assert!(auth.files().is_empty());
    }

    #[test]
    fn each_start_has_its_own_identity() {
        let (a, b) = (Auth::new().unwrap(), Auth::new().unwrap());
        assert_eq!(a.instance().len(), 32);
        assert_ne!(a.instance(), b.instance());
    }
}
