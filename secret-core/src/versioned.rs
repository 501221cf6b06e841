//! The values of one secret in the Vault/OpenBao backend, as [`crate::vault::Client::read`]
//! returns them; here, outside the `vault` feature, so builds without it still name the type.

use std::collections::BTreeMap;
use std::fmt;

use secrecy::SecretString;

use crate::env::{Environment, Scope};

/// The values of one secret in the backend: scope -> value, and the KV version they were
/// read at (0 when the secret does not exist), for the next check-and-set write.
pub struct Versioned {
    /// The KV metadata version (`options.cas` of the next write).
    pub version: u64,
    /// The values by scope.
    pub values: BTreeMap<Scope, SecretString>,
    /// Why this tool does not use the secret, when its keys are not what `secret set`
    /// writes (another team's secret, two keys for one scope, a value that is not a
    /// string): `values` is then empty, and the secret is reported, never written.
    pub problem: Option<String>,
}

impl fmt::Debug for Versioned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Versioned")
            .field("version", &self.version)
            .field("scopes", &self.values.keys().collect::<Vec<_>>())
            .field("problem", &self.problem)
            .finish()
    }
}

impl Versioned {
    /// The value that applies to `env` (environment > pattern > type), with its scope.
    pub fn lookup(&self, env: &Environment) -> Option<(&Scope, &SecretString)> {
        self.values
            .iter()
            .filter_map(|(scope, value)| scope.rank(env).map(|rank| (rank, scope, value)))
            .min_by_key(|(rank, _, _)| *rank)
            .map(|(_, scope, value)| (scope, value))
    }
}
