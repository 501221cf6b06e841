//! The fixture's binary: direct and qualified declarations.
use secret_runtime::{Secret, secret};

mod alias_elsewhere;
mod broken;
mod invalid;
mod macros;
mod renamed;
mod unbalanced;

/// Personal access token for deployments
static GITHUB_TOKEN: Secret = secret!("GitHubAPIToken");

// A comment is not a declaration: secret!("NotADeclComment")
const TEXT: &str = "secret!(\"NotADeclString\")";

fn main() {
    let qualified = secret_runtime::secret!("QualifiedPath");
    let rooted = ::secret_runtime::secret!("RootedPath");
    #[cfg(feature = "extra")]
    let gated = secret!("BehindCfg");
    println!("{qualified:?} {rooted:?} {TEXT}");
}
