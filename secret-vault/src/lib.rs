//! The Vault/OpenBao KV v2 backend behind `[backend]` in `secrets.toml`, for `secret-build`
//! (the commands and the check) and `secret-runtime` (the `vault` source).
//!
//! - [`Client`] (feature `http`): connects as the Vault CLI would (`VAULT_ADDR`,
//!   `VAULT_NAMESPACE`, `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY`, never a proxy for this
//!   machine), logs in (token, `~/.vault-token` or AppRole) and keeps the token alive,
//!   checks the mount, reads strictly, writes with check-and-set and retries transient
//!   failures within the time budget `timeout_seconds`. Without `http`, connecting is an
//!   error naming the feature.
//! - [`kv`]: one secret as read ([`Versioned`]): values by scope, owner, and why it may be
//!   unusable (foreign keys, two values for one type).
//! - [`edit`]: [`VaultEdit`], the KV side of `set`, `unset`, `import` and `sync`, only on
//!   secrets this workspace owns.
//!
//! Layout: `<mount>/data/<prefix>/<Name>`, one key per scope (`type:production`,
//! `env:staging`), as in `secrets.enc.toml`.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

#[cfg(feature = "http")]
mod client;
#[cfg(not(feature = "http"))]
#[path = "client_off.rs"]
mod client;
pub mod edit;
#[cfg(feature = "http")]
mod http;
pub mod kv;
#[cfg(feature = "http")]
mod mask;
pub mod settings;
#[cfg(feature = "http")]
mod write;

pub use client::Client;
pub use edit::{Applied, VaultEdit};
pub use kv::{Ignored, Ownership, Versioned};
pub use settings::Settings;

use secret_core::Error;

/// The KV secrets under the prefix, each read once.
#[derive(Debug, Default)]
pub struct Folder {
    /// Those this tool can use, by name.
    pub secrets: Vec<(String, Versioned)>,
    /// Those it leaves alone (names that are not secret names, keys that are not scopes).
    pub ignored: Vec<Ignored>,
}

/// Reads every KV secret under the prefix once.
pub fn read_all(client: &Client) -> Result<Folder, Error> {
    let mut folder = Folder::default();
    for name in client.list()? {
        if let Err(error) = secret_core::validate_name(&name) {
            folder.ignored.push(Ignored {
                reason: format!("not a secret name ({error})"),
                name,
            });
            continue;
        }
        let versioned = client.read(&name)?;
        match &versioned.foreign {
            Some(reason) => folder.ignored.push(Ignored {
                name,
                reason: reason.clone(),
            }),
            None => folder.secrets.push((name, versioned)),
        }
    }
    Ok(folder)
}
