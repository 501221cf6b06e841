//! The scanner against `tests/fixtures/scan-workspace`: every declaration form the spec
//! names is found at the right line and column, and nothing else is.

use std::path::{Path, PathBuf};

use secret_build::scan::{ProblemKind, scan_workspace};

/// Copies the fixture into a temporary folder, adding files the scanner must skip.
fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/scan-workspace");
    copy_dir(&source, dir.path());
    for skipped in ["target/debug/build/out/generated.rs", ".hidden/x.rs"] {
        let path = dir.path().join(skipped);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "static S: Secret = secret!(\"MustBeSkipped\");\n").unwrap();
    }
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn p(path: &str) -> PathBuf {
    PathBuf::from(path)
}

#[test]
fn finds_every_declaration_form_at_its_line_and_column() {
    let dir = fixture();
    let report = scan_workspace(dir.path()).unwrap();
    let found: Vec<(&str, &str, PathBuf, usize, usize)> = report
        .declarations
        .iter()
        .map(|d| {
            (
                d.name.as_str(),
                d.package.as_str(),
                d.path.clone(),
                d.line,
                d.column,
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![
            // An `examples/` target, with braces as delimiters.
            ("FromExample", "app", p("app/examples/demo.rs"), 2, 13),
            // The alias imported in renamed.rs, used in a file that never names `secret`.
            (
                "AliasElsewhere",
                "app",
                p("app/src/alias_elsewhere.rs"),
                3,
                13
            ),
            // A file syn cannot parse.
            ("InBrokenFile", "app", p("app/src/broken.rs"), 3, 11),
            // A module found through `#[path = "extra/by_path.rs"]`.
            (
                "ThroughPathAttribute",
                "app",
                p("app/src/extra/by_path.rs"),
                1,
                53
            ),
            // A `macro_rules!` body (the `$name` arm is skipped).
            ("InMacroRules", "app", p("app/src/macros.rs"), 3, 9),
            // Inside other macros' invocations.
            ("InVecMacro", "app", p("app/src/macros.rs"), 11, 24),
            ("InPrintln", "app", p("app/src/macros.rs"), 12, 20),
            // Directly, with a doc comment; then qualified paths; then behind `cfg`.
            ("GitHubAPIToken", "app", p("app/src/main.rs"), 12, 31),
            ("QualifiedPath", "app", p("app/src/main.rs"), 18, 21),
            ("RootedPath", "app", p("app/src/main.rs"), 19, 18),
            ("BehindCfg", "app", p("app/src/main.rs"), 21, 17),
            // A renamed import.
            ("RenamedImport", "app", p("app/src/renamed.rs"), 3, 37),
            // Recovered from a file whose delimiters do not balance (an unfinished edit).
            ("LostInUnbalanced", "app", p("app/src/unbalanced.rs"), 2, 16),
            // A `tests/` target.
            ("FromTests", "app", p("app/tests/integration.rs"), 3, 13),
            // The same name in a second crate, and a const in an impl block.
            ("GitHubAPIToken", "worker", p("worker/src/lib.rs"), 4, 44),
            ("DatabaseUrl", "worker", p("worker/src/lib.rs"), 8, 40),
        ]
    );
    assert_eq!(report.packages, ["app", "worker"]);
}

#[test]
fn comments_strings_target_dirs_and_non_members_are_not_declarations() {
    let dir = fixture();
    let report = scan_workspace(dir.path()).unwrap();
    let names: Vec<&str> = report
        .declarations
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    for absent in [
        "NotADeclComment",
        "NotADeclString",
        "NotAMember",
        "MustBeSkipped",
        "TrybuildCase",
        "OrphanFile",
    ] {
        assert!(!names.contains(&absent), "{absent} was reported: {names:?}");
    }
    // Files no target compiles (a trybuild case, a file without `mod`) are listed, unscanned.
    assert_eq!(
        report.unreached,
        [p("app/src/orphan.rs"), p("app/tests/ui/not_a_module.rs")]
    );
}

#[test]
fn doc_comments_become_descriptions_and_targets_are_named() {
    let dir = fixture();
    let report = scan_workspace(dir.path()).unwrap();
    let get = |name: &str, package: &str| {
        report
            .declarations
            .iter()
            .find(|d| d.name == name && d.package == package)
            .unwrap()
    };
    let token = get("GitHubAPIToken", "app");
    assert_eq!(
        token.description.as_deref(),
        Some("Personal access token for deployments")
    );
    assert_eq!((token.end_line, token.end_column), (12, 56));
    assert_eq!(
        get("DatabaseUrl", "worker").description.as_deref(),
        Some("Inside an impl block")
    );
    assert_eq!(get("QualifiedPath", "app").description, None);
    assert_eq!(get("GitHubAPIToken", "app").target_kind, "bin");
    assert_eq!(get("FromTests", "app").target_kind, "test");
    assert_eq!(get("FromExample", "app").target_kind, "example");
    assert_eq!(get("DatabaseUrl", "worker").target_kind, "lib");
    assert_eq!(
        report.description("GitHubAPIToken"),
        Some("Personal access token for deployments")
    );
}

#[test]
fn bad_names_and_unlexable_files_are_problems_not_crashes() {
    let dir = fixture();
    let report = scan_workspace(dir.path()).unwrap();
    let problems: Vec<(ProblemKind, PathBuf, Option<usize>, Option<usize>)> = report
        .problems
        .iter()
        .map(|problem| {
            (
                problem.kind,
                problem.path.clone(),
                problem.line,
                problem.column,
            )
        })
        .collect();
    assert_eq!(
        problems,
        vec![
            (
                ProblemKind::InvalidDeclaration,
                p("app/src/invalid.rs"),
                Some(1),
                Some(30)
            ),
            (
                ProblemKind::UnlexableFile,
                p("app/src/unbalanced.rs"),
                None,
                None
            ),
        ]
    );
    assert!(
        report.problems[0]
            .message
            .contains("the secret name starts with the digit `1`"),
        "{}",
        report.problems[0].message
    );
    // The unbalanced file's warning stays, and says what was recovered.
    assert!(
        report.problems[1]
            .message
            .contains("1 `secret!` call in it was recovered one by one, but others may be missed"),
        "{}",
        report.problems[1].message
    );
}

#[test]
fn prefilter_skips_files_without_declarations() {
    let dir = fixture();
    std::fs::write(
        dir.path().join("worker/src/plain.rs"),
        "pub fn nothing_to_see() -> u8 { 1 }\n",
    )
    .unwrap();
    let lib = dir.path().join("worker/src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, format!("{text}\npub mod plain;\n")).unwrap();
    let report = scan_workspace(dir.path()).unwrap();
    assert_eq!(
        (report.files_lexed, report.files_total),
        (11, 12),
        "{report:?}"
    );
}

#[test]
fn a_folder_without_a_workspace_cannot_be_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let error = scan_workspace(dir.path()).unwrap_err().to_string();
    assert!(error.starts_with("cannot read the workspace at"), "{error}");
}
