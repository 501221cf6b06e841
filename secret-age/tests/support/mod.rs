//! A minimal test runner for the tests that depend on something outside the repository (the
//! age test kit, the `age` command): each case passes, fails, or is reported as `ignored` with
//! its reason on the test output, so a skip is visible. With `CI=true`, a missing dependency is
//! a failure instead.

use std::process::ExitCode;

/// What a case did when it did not fail.
pub(crate) enum Outcome {
    Passed,
    Skipped(String),
}

pub(crate) type Case = (String, Box<dyn FnOnce() -> Result<Outcome, String>>);

/// True when running in CI, where a missing test dependency fails the test.
pub(crate) fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|ci| ci == "true" || ci == "1")
}

/// A missing dependency: a failure in CI, else a visible skip.
pub(crate) fn missing(reason: String) -> Result<Outcome, String> {
    if in_ci() {
        Err(format!("{reason} (CI=true: required)"))
    } else {
        Ok(Outcome::Skipped(reason))
    }
}

/// Runs the cases whose name contains every free argument (as `cargo test NAME` filters),
/// printing one line per case the way libtest does.
pub(crate) fn run(cases: Vec<Case>) -> ExitCode {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    let cases: Vec<Case> = cases
        .into_iter()
        .filter(|(name, _)| filters.iter().all(|filter| name.contains(filter.as_str())))
        .collect();
    println!("\nrunning {} tests", cases.len());
    let (mut passed, mut ignored, mut failed) = (0, 0, Vec::new());
    for (name, case) in cases {
        match case() {
            Ok(Outcome::Passed) => {
                passed += 1;
                println!("test {name} ... ok");
            }
            Ok(Outcome::Skipped(reason)) => {
                ignored += 1;
                println!("test {name} ... ignored, {reason}");
            }
            Err(message) => {
                println!("test {name} ... FAILED");
                failed.push((name, message));
            }
        }
    }
    for (name, message) in &failed {
        println!("\n---- {name} ----\n{message}");
    }
    let status = if failed.is_empty() { "ok" } else { "FAILED" };
    println!(
        "\ntest result: {status}. {passed} passed; {} failed; {ignored} ignored\n",
        failed.len()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
