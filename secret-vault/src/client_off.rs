//! The client in a build without the `http` feature: no HTTP client is compiled, and a
//! `secrets.toml` with a `[backend]` is an error saying how to enable it. [`Client`] has no
//! values, so every method past [`Client::connect`] is unreachable.

use std::collections::BTreeMap;

use secrecy::SecretString;
use secret_core::backend::{BackendConfig, BackendError};
use secret_core::{Error, Scope};

use crate::kv::Versioned;
use crate::settings::{Settings, Vars};

/// A connection to the backend of `[backend]`; none can exist without the `http` feature.
#[derive(Debug)]
pub enum Client {}

impl Client {
    /// Always an error naming the feature that adds the client.
    pub fn connect(config: &BackendConfig, _vars: Vars<'_>) -> Result<Self, Error> {
        Err(BackendError::new(
            config,
            "this build has no Vault/OpenBao client, and secrets.toml has a [backend]",
        )
        .with_help(
            "enable the `vault` feature of secret-build in your xtask's Cargo.toml: secret-build = { version = \"0.1\", features = [\"vault\"] }",
        )
        .into())
    }

    /// The backend's configuration.
    pub fn config(&self) -> &BackendConfig {
        match *self {}
    }

    /// Where the address, namespace and proxy came from.
    pub fn settings(&self) -> &Settings {
        match *self {}
    }

    /// `OpenBao at http://127.0.0.1:8200`.
    pub fn describe(&self) -> String {
        match *self {}
    }

    /// An error of this backend.
    pub fn error(&self, _message: impl Into<String>) -> BackendError {
        match *self {}
    }

    /// The name this workspace marks its secrets with.
    pub fn owner(&self) -> Option<&str> {
        match *self {}
    }

    /// The keys under the prefix that are not folders.
    pub fn list(&self) -> Result<Vec<String>, Error> {
        match *self {}
    }

    /// Reads the values of `name`.
    pub fn read(&self, _name: &str) -> Result<Versioned, Error> {
        match *self {}
    }

    /// Writes `values` as the new version of `name` (check-and-set on `version`).
    pub fn write(
        &self,
        _name: &str,
        _values: &BTreeMap<Scope, SecretString>,
        _version: u64,
    ) -> Result<u64, Error> {
        match *self {}
    }

    /// Marks `name` as owned by `owner`.
    pub fn mark(
        &self,
        _name: &str,
        _owner: &str,
        _custom: &BTreeMap<String, String>,
    ) -> Result<(), Error> {
        match *self {}
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use secret_core::Config;

    #[test]
    fn a_backend_without_the_feature_is_an_error_naming_it() {
        let text = "[backend]\nkind = \"openbao\"\naddress = \"http://127.0.0.1:8200\"\n";
        let config = Config::parse(Path::new("secrets.toml"), text).unwrap();
        let backend = config.backend.as_ref().unwrap();
        let error = super::Client::connect(backend, &|_| None).unwrap_err();
        let report = error.report().to_string();
        assert!(report.contains("no Vault/OpenBao client"), "{report}");
        assert!(report.contains("features = [\"vault\"]"), "{report}");
        assert!(report.contains("secrets.toml"), "{report}");
    }
}
