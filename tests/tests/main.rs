//! The integration tests of this repository, as one test binary (as cargo's own
//! `testsuite`): one module per area, the helpers they share declared once below. Run one
//! area with a filter, `cargo test -p secret-tests --test suite store_cli::`; the tests that
//! need a real server or browser are ignored by a plain `cargo test` and run by `.ci/run`
//! with `-- --ignored` (`vault_` tests need OpenBao, `dashboard::` tests Chromium, `aws_sync::` tests moto and
//! `--features aws`).
//!
//! The slow tier is ignored too, and `.ci/run` runs it with `cargo test -p secret-tests --test
//! suite ::slow:: -- --ignored`: the tests that build a separate workspace with cargo (which
//! compiles this repository's crates again, in that workspace's configuration) and the scale
//! tests. Each sits in a `mod slow` at the end of its area's file, marked
//! `#[ignore = "slow: ..."]`; the tidy test `ignored_tests_say_why_in_the_tree` holds both.

mod check_support;
mod dashboard_support;
mod openbao_support;
mod safety_support;
mod store_support;

// The check: its findings, formats and messages.
mod check_leaks;
mod check_output;
mod check_rules;
mod check_sarif;
mod check_user_workspace;
mod messages;
mod output_safety;
mod scan_fixture;
mod scan_macro_modules;

// Credentials written into the source: the finding, `adopt` and the pre-commit hook.
mod hardcoded;

// The build: the macro's and the build script's feedback.
mod build_feedback;

// The store and its CLI.
mod config_names;
mod files_cli;
mod override_names;
mod store_access;
mod store_cli;
mod store_errors;
mod store_files;
mod store_git;
mod store_team;
mod workspace_root;

// The store's signed state, attacked as someone who can push.
mod signed_state;

// Delivery: run, export, services.
mod delivery_cli;
mod export_dotenv;
mod services_cli;

// The dashboard.
mod dashboard;

// Delivery to AWS Secrets Manager (the `aws` feature; moto on 127.0.0.1).
mod aws_sync;

// The Vault/OpenBao backend.
mod vault_messages;
mod vault_openbao;
mod vault_ownership;
mod vault_runtime;

// Safety: crashes, hostile input, leaks, properties, fuzz findings.
mod fuzz_regressions;
mod safety_crash;
mod safety_hostile;
mod safety_leak;
mod safety_properties;

// The tree's textual invariants (ARCHITECTURE.md).
mod tidy;

// A new user's first day, the documentation's snippets, a newcomer to the repository.
mod doc_snippets;
mod first_day;
mod first_day_service;
mod repo_newcomer;
