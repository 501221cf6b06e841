//! Attack 6: merges that would leave two values covering one type, and the drivers in a
//! workspace that is a subfolder of the repository; with the merges that must keep working.

use super::*;

/// `secrets.toml` where ops reads and writes production and preview.
fn prod_and_preview(ops: &Key) -> String {
    format!(
        "[recipients]\nproduction = [\"{o}\"]\npreview = [\"{o}\"]\n",
        o = ops.public
    )
}

/// What `git merge` printed.
fn merge(dir: &Path, branch: &str) -> (bool, String) {
    let out = git(dir, &["merge", "--no-edit", branch]);
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// One branch sets `prod`, the other `prod,preview`: each adds a different slot, but both
/// cover production, so the driver makes it a conflict naming both slots instead of a clean
/// merge with two production values; a store where both were kept anyway is refused by every
/// reader and reported by the check, and unsetting one of them keeps the other. Regression:
/// that unset, as the refusal's help says, removed both values.
#[test]
fn prod_and_prod_preview_on_two_branches() {
    let mut ws = Ws::new();
    let ops = ws.key("ops");
    ws.write("secrets.toml", &prod_and_preview(&ops));
    ws.use_key(&ops);
    ok(&ws.secret(&["set", "--type", "prod", "Other"], "other"));
    repository(&mut ws);
    let dir = ws.root().to_owned();
    git_ok(&dir, &["checkout", "-q", "-b", "wide"]);
    ok(&ws.secret(&["set", "--type", "prod,preview", "Api"], "wide-value"));
    commit(&ws, "api for prod and preview");
    git_ok(&dir, &["checkout", "-q", "main"]);
    ok(&ws.secret(&["set", "--type", "prod", "Api"], "narrow-value"));
    commit(&ws, "api for prod");

    let (merged, said) = merge(&dir, "wide");
    assert!(!merged, "{said}");
    assert!(
        said.contains(
            "conflict: Api: the values for type:production and type:production,preview both cover production after the merge"
        ),
        "{said}"
    );
    let text = store_text(&ws);
    assert_eq!(text.matches("<<<<<<< ours\n").count(), 2, "{text}");
    let out = ws.secret(&["reveal", "--env", "prod", "Api"], "");
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("unresolved merge conflict"),
        "{}",
        out.stderr
    );

    // Someone keeps both tables (deletes the markers) and commits.
    let kept: String = text
        .lines()
        .filter(|line| {
            !line.starts_with("<<<<<<< ") && *line != "=======" && !line.starts_with(">>>>>>> ")
        })
        .map(|line| format!("{line}\n"))
        .collect();
    std::fs::write(ws.store_path(), kept).unwrap();
    commit(&ws, "merge");
    every_reader_refuses(
        &ws,
        "prod",
        "Api",
        &["is one of 2 values that apply at once (type:production, type:production,preview)"],
        "-value",
    );
    assert_has(
        &check(&ws, &["prod"], None),
        Severity::Error,
        Code::OverlappingValues,
        &[
            "`Api` has two values for production (type:production and type:production,preview), so readers use neither",
        ],
    );
    // Removing one of them (a signed removal) is the way out.
    ok(&ws.secret(&["unset", "--type", "prod,preview", "Api"], ""));
    commit(&ws, "keep the production value");
    every_reader_serves(&ws, "prod", "Api", "narrow-value");
}

/// Branches that add different secrets, and both remove the same one, merge cleanly with
/// the driver: every reader serves both additions, the removal stands, the check is clean.
#[test]
fn merges_of_different_slots_and_of_two_removals() {
    let mut ws = Ws::new();
    let ops = ws.key("ops");
    ws.write("secrets.toml", &prod_and_preview(&ops));
    ws.use_key(&ops);
    ok(&ws.secret(&["set", "--type", "prod", "Old"], "old"));
    repository(&mut ws);
    let dir = ws.root().to_owned();
    git_ok(&dir, &["checkout", "-q", "-b", "alpha"]);
    ok(&ws.secret(&["set", "--type", "prod", "Alpha"], "alpha"));
    ok(&ws.secret(&["unset", "--type", "prod", "Old"], ""));
    commit(&ws, "alpha");
    git_ok(&dir, &["checkout", "-q", "main"]);
    ok(&ws.secret(&["set", "--type", "prod", "Beta"], "beta"));
    ok(&ws.secret(&["unset", "--type", "prod", "Old"], ""));
    commit(&ws, "beta");
    let (merged, said) = merge(&dir, "alpha");
    assert!(merged, "{said}");
    every_reader_serves(&ws, "prod", "Alpha", "alpha");
    every_reader_serves(&ws, "prod", "Beta", "beta");
    let out = ws.secret(&["reveal", "--env", "prod", "Old"], "");
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stderr.contains("Old has no value"), "{}", out.stderr);
    let report = check(&ws, &["prod"], None);
    assert!(!report.has_errors(), "{}", findings(&report).join("\n"));
    assert!(
        !report
            .diagnostics
            .iter()
            .any(|d| d.code == Code::VanishedValue),
        "{}",
        findings(&report).join("\n")
    );
}

/// A workspace in a subfolder of the repository (a monorepo): `init` configures the drivers,
/// `git diff` shows one line per value through the textconv, branches adding different
/// secrets merge, the same value changed on both branches is a named conflict with both
/// tables kept between markers, and the readers judge the subfolder's store by its history.
#[test]
fn subfolder_workspace_drivers_diff_and_merge() {
    let top = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir_in(top.path()).unwrap();
    std::fs::write(dir.path().join("Cargo.toml"), "[workspace]\nmembers = []\n").unwrap();
    let home = tempfile::tempdir().unwrap();
    let mut ws = Ws {
        dir,
        vars: [("HOME".to_owned(), home.path().as_os_str().to_owned())].into(),
        home,
    };
    let sub = ws
        .root()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let store = format!("{sub}/secrets.enc.toml");
    let ops = ws.key("ops");
    ws.write("secrets.toml", &prod_and_preview(&ops));
    ws.use_key(&ops);
    ok(&ws.secret(&["set", "--type", "prod", "Token"], "one"));
    git_ok(top.path(), &["init", "-q", "-b", "main"]);
    drivers(&mut ws);
    git_ok(top.path(), &["add", "-A"]);
    git_ok(top.path(), &["commit", "-q", "-m", "base"]);

    git_ok(top.path(), &["checkout", "-q", "-b", "alpha"]);
    ok(&ws.secret(&["set", "--type", "prod", "Alpha"], "alpha"));
    commit(&ws, "alpha");
    let diff = git_ok(top.path(), &["diff", "HEAD~1", "--", &store]);
    assert!(
        diff.lines()
            .any(|line| line.starts_with("+Alpha type:production sha256:")),
        "{diff}"
    );
    assert!(!diff.contains("BEGIN AGE"), "{diff}");
    git_ok(top.path(), &["checkout", "-q", "main"]);
    ok(&ws.secret(&["set", "--type", "prod", "Beta"], "beta"));
    commit(&ws, "beta");
    let (merged, said) = merge(top.path(), "alpha");
    assert!(merged, "{said}");
    every_reader_serves(&ws, "prod", "Alpha", "alpha");
    every_reader_serves(&ws, "prod", "Beta", "beta");

    git_ok(top.path(), &["checkout", "-q", "-b", "two"]);
    ok(&ws.secret(&["set", "--type", "prod", "Token"], "two"));
    commit(&ws, "two");
    git_ok(top.path(), &["checkout", "-q", "main"]);
    ok(&ws.secret(&["set", "--type", "prod", "Token"], "three"));
    commit(&ws, "three");
    let (merged, said) = merge(top.path(), "two");
    assert!(!merged, "{said}");
    assert!(
        said.contains("conflict: Token (type:production) was changed on both branches"),
        "{said}"
    );
    let text = store_text(&ws);
    let ours = text.split("<<<<<<< ours\n").nth(1).unwrap();
    let (ours, theirs) = ours.split_once("=======\n").unwrap();
    let theirs = theirs.split(">>>>>>> theirs\n").next().unwrap();
    for side in [ours, theirs] {
        assert!(side.starts_with(PROD), "{side}");
        assert_eq!(side.matches("BEGIN AGE").count(), 1, "{side}");
    }
    // Both Alpha and Beta are still there outside the markers.
    assert!(
        text.contains("[Alpha.") && text.contains("[Beta."),
        "{text}"
    );
}
