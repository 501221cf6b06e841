//! `secret rules`: the signed access rules as readers see them — every version with its
//! digest, signers and changes, the changes in `secrets.toml` nobody signed yet, and what
//! to pin in CI settings (`SECRETS_TRUST`) so that a pusher cannot replace the trust root.

use std::path::Path;

use secret_core::text::escape_control;

use super::{Failure, Io};

pub(crate) fn run(root: &Path, io: &mut Io<'_>) -> Result<(), Failure> {
    let trusted = crate::trusted::Trusted::open(root, io.vars)?;
    super::print_notes(&trusted.notes, io);
    let state = &trusted.state;
    let verified = match state.rules() {
        Ok(verified) => verified,
        Err(secret_core::rules::chain::ChainError::Missing)
            if state.store().is_empty() && state.store().all_removals().next().is_none() =>
        {
            let _ = writeln!(
                io.stdout,
                "no signed access rules yet: the first `cargo xtask secret set` signs those of secrets.toml as the trust root"
            );
            return Ok(());
        }
        Err(error) => {
            return Err(Failure::data(format!(
                "the signed access rules cannot be trusted: {}",
                escape_control(&state.rules_problem(error))
            ))
            .with_help("`cargo xtask check-secrets` says what to do"));
        }
    };
    let _ = writeln!(
        io.stdout,
        "signed access rules of {} (repository {}):",
        state.store().path().display(),
        escape_control(&verified.repository)
    );
    for version in &verified.versions {
        let _ = writeln!(
            io.stdout,
            "version {} {} signed {} by {}",
            version.version,
            version.digest,
            escape_control(&version.signed),
            escape_control(&version.signers.join(", "))
        );
        for change in &version.changes {
            let _ = writeln!(io.stdout, "  {}", escape_control(&change.to_string()));
        }
    }
    if state.pending().is_empty() {
        let _ = writeln!(io.stdout, "secrets.toml states exactly the signed rules");
    } else {
        let _ = writeln!(
            io.stdout,
            "changes in secrets.toml nobody has signed (readers ignore them until `cargo xtask secret rekey` signs them):"
        );
        for change in state.pending() {
            let _ = writeln!(io.stdout, "  {}", escape_control(&change.to_string()));
        }
    }
    let root_version = verified.root();
    let _ = writeln!(
        io.stdout,
        "to pin the trust root in CI settings: SECRETS_TRUST={} (or the key that signed version 1: {})",
        root_version.digest,
        escape_control(&root_version.signers.join(" or "))
    );
    trusted.remember();
    Ok(())
}
