//! The check against `tests/fixtures/macro-modules`: a service whose modules are declared
//! inside macro invocations (`cfg_if!`, its own `macro_rules!` wrapper, an invocation nested
//! in another, `#[path]` inside an invocation, a `macro_rules!` that declares a module where
//! it is invoked) and in an `include!`d file. Every declaration in those modules is found
//! at its file and line, and the decoys next to them (a comment, a string, a macro never
//! invoked, a macro called in an expression, an orphan file, a file of another target's
//! `tests/` folder, the file a `#[path]` replaces) are not.

use std::path::{Path, PathBuf};

use secret_build::check::{Format, check, render};
use secret_build::scan::scan_workspace;

/// Copies the fixture into a temporary folder, with a `secrets.toml` and no store.
fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/macro-modules");
    copy_dir(&source, dir.path());
    std::fs::write(dir.path().join("secrets.toml"), "[environments]\n").unwrap();
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

/// (name, file, line, column) of every declaration found, in the scanner's order.
const EXPECTED: &[(&str, &str, usize, usize)] = &[
    // `mod bare_metal;` under a `cfg` that never holds on a hosted target.
    ("BareMetalKey", "service/src/bare_metal.rs", 3, 26),
    // The `include!`d file itself.
    (
        "IncludedDeclaration",
        "service/src/generated/declared.rs",
        4,
        48,
    ),
    // `mod from_include;` in the `include!`d file, next to that file.
    (
        "FromIncludedModule",
        "service/src/generated/from_include.rs",
        1,
        45,
    ),
    // The crate root.
    ("ServiceKey", "service/src/lib.rs", 43, 34),
    // The last `cfg_if!` branch.
    ("OtherPlatformToken", "service/src/other.rs", 3, 28),
    // `#[path = "platform/windows_impl.rs"]` inside `cfg_if!`.
    (
        "WindowsCertificate",
        "service/src/platform/windows_impl.rs",
        4,
        34,
    ),
    // `pub mod runtime;` inside the crate's own `cfg_rt!` wrapper.
    ("RuntimeApiKey", "service/src/runtime/mod.rs", 12, 34),
    // `cfg_if!` nested in `cfg_rt!`, in a module that wrapper declared.
    ("SignalPipeSecret", "service/src/runtime/signals.rs", 3, 27),
    // `mod storage;` in the body of `macro_rules! storage_module`, invoked in lib.rs.
    ("StorageBucketKey", "service/src/storage.rs", 3, 29),
    // The first `cfg_if!` branch.
    ("UnixSocketKey", "service/src/unix.rs", 5, 33),
];

#[test]
fn modules_declared_in_macro_invocations_and_included_files_are_checked() {
    let dir = fixture();
    let report = scan_workspace(dir.path()).unwrap();
    let found: Vec<(&str, PathBuf, usize, usize)> = report
        .declarations
        .iter()
        .map(|d| (d.name.as_str(), d.path.clone(), d.line, d.column))
        .collect();
    let expected: Vec<(&str, PathBuf, usize, usize)> = EXPECTED
        .iter()
        .map(|&(name, path, line, column)| (name, PathBuf::from(path), line, column))
        .collect();
    assert_eq!(found, expected);
    assert!(report.problems.is_empty(), "{:?}", report.problems);

    // The check names each declaration's file and line (no value anywhere: all errors).
    let checked = check(dir.path(), &["prod".to_owned()]).unwrap();
    let human = render(&checked, dir.path(), Format::Human, false);
    let lines: Vec<&str> = human.lines().collect();
    for (name, path, line, column) in EXPECTED {
        let error = format!("error[missing-secret]: secret `{name}` has no value for production");
        let at = lines.iter().position(|l| *l == error);
        let place = at.and_then(|at| lines.get(at + 1)).map(|l| l.trim());
        assert_eq!(
            place,
            Some(format!("--> {path}:{line}:{column}").as_str()),
            "{error}\n{human}"
        );
    }
}

#[test]
fn comments_strings_uninvoked_macros_and_other_files_stay_decoys() {
    let dir = fixture();
    let report = scan_workspace(dir.path()).unwrap();
    let names: Vec<&str> = report
        .declarations
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    assert!(
        names.iter().all(|name| !name.starts_with("Decoy")),
        "{names:?}"
    );
    // Each decoy file is listed as a file no target compiles, and was not scanned.
    let unreached: Vec<String> = report
        .unreached
        .iter()
        .map(|path| path.display().to_string().replace('\\', "/"))
        .collect();
    assert_eq!(
        unreached,
        [
            "service/src/commented_out.rs",
            "service/src/from_include.rs",
            "service/src/in_a_macro_call.rs",
            "service/src/in_a_string.rs",
            "service/src/never_invoked.rs",
            "service/src/orphan.rs",
            "service/src/windows.rs",
            "service/tests/ui/trybuild_case.rs",
        ]
    );
}
