//! Files the CLI writes next to the user's own: `init` only appends to `.gitignore`,
//! `export --output` keeps a symbolic link, `export dir:` never changes a folder it did not
//! create, refuses one other users can open, and removes the files of secrets it no longer
//! exports.

use crate::store_support::{Ws, ok};

fn workspace() -> Ws {
    let mut ws = Ws::new();
    let key = ws.key("me");
    let r = &key.public;
    ws.config(
        "",
        &format!("production = [\"{r}\"]\ndevelopment = [\"{r}\"]\nlocal = [\"{r}\"]"),
    );
    ws.use_key(&key);
    for (name, value) in [("Alpha", "alpha-value-1"), ("Beta", "beta-value-2")] {
        ok(&ws.secret(&["set", "--type", "prod", name], value));
    }
    ws
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn init_keeps_a_gitignore_that_is_not_utf8() {
    let ws = Ws::new();
    // Latin-1 `café`, then the user's own entries.
    let before: &[u8] = b"# caf\xe9\n.env\nprivate-keys/";
    std::fs::write(ws.root().join(".gitignore"), before).unwrap();
    ok(&ws.secret(&["init"], ""));
    let after = std::fs::read(ws.root().join(".gitignore")).unwrap();
    assert!(
        after.starts_with(before),
        "the user's lines were changed: {:?}",
        String::from_utf8_lossy(&after)
    );
    let added = String::from_utf8_lossy(&after[before.len()..]).into_owned();
    for line in ["", ".secrets.local.toml", ".secrets.local.cue"] {
        assert!(added.lines().any(|got| got == line), "{added:?}");
    }
    // A second init adds nothing.
    ok(&ws.secret(&["init"], ""));
    assert_eq!(std::fs::read(ws.root().join(".gitignore")).unwrap(), after);
}

#[cfg(unix)]
#[test]
fn export_output_onto_a_symbolic_link_writes_its_target() {
    let ws = workspace();
    let target = ws.home.path().join("real.env");
    std::fs::write(&target, "old\n").unwrap();
    let link = ws.root().join("out.env");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = ws.secret(
        &[
            "export", "--env", "prod", "--format", "dotenv", "--output", "out.env",
        ],
        "",
    );
    ok(&out);
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    let written = std::fs::read_to_string(&target).unwrap();
    assert!(written.contains("SECRET_Alpha="), "{written}");
    assert_eq!(mode(&target), 0o600);
}

#[cfg(unix)]
#[test]
fn export_dir_never_changes_a_folder_it_did_not_create_and_refuses_a_shared_one() {
    use std::os::unix::fs::PermissionsExt;
    let ws = workspace();
    // A shared folder (sticky, everyone may write), directly and through a link.
    let shared = ws.home.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let link = ws.home.path().join("link");
    std::os::unix::fs::symlink(&shared, &link).unwrap();
    for dir in [&shared, &link] {
        let out = ws.secret(
            &[
                "export",
                "--env",
                "prod",
                "--format",
                &format!("dir:{}", dir.display()),
            ],
            "",
        );
        assert_eq!(out.code, 2, "{}", out.all());
        assert!(
            out.stderr
                .contains("other users can open this folder (mode 1777)")
                && out.stderr.contains("nothing was written"),
            "{}",
            out.stderr
        );
        assert_eq!(mode(&shared), 0o1777, "the folder's mode changed");
        assert_eq!(std::fs::read_dir(&shared).unwrap().count(), 0);
    }
    // A private folder of the user's keeps its mode, set-group-id bit included.
    let private = ws.home.path().join("private");
    std::fs::create_dir(&private).unwrap();
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o2700)).unwrap();
    let out = ws.secret(
        &[
            "export",
            "--env",
            "prod",
            "--format",
            &format!("dir:{}", private.display()),
        ],
        "",
    );
    ok(&out);
    assert_eq!(mode(&private), 0o2700);
    // A folder it creates is 0700.
    let fresh = ws.home.path().join("fresh/secrets");
    ok(&ws.secret(
        &[
            "export",
            "--env",
            "prod",
            "--format",
            &format!("dir:{}", fresh.display()),
        ],
        "",
    ));
    assert_eq!(mode(&fresh), 0o700);
}

#[test]
fn export_dir_removes_the_files_of_secrets_no_longer_exported() {
    let ws = workspace();
    let dir = ws.home.path().join("mounted");
    let export = || {
        let out = ws.secret(
            &[
                "export",
                "--env",
                "prod",
                "--format",
                &format!("dir:{}", dir.display()),
            ],
            "",
        );
        ok(&out);
        out
    };
    export();
    std::fs::write(dir.join("NOTES"), "the user's own file").unwrap();
    assert!(dir.join("Beta").exists());
    ok(&ws.secret(&["unset", "--type", "prod", "Beta"], ""));
    let out = export();
    assert!(
        out.stderr
            .contains("removed 1 file of secrets no longer exported"),
        "{}",
        out.stderr
    );
    assert!(!dir.join("Beta").exists(), "the old value is still served");
    assert_eq!(
        std::fs::read_to_string(dir.join("Alpha")).unwrap(),
        "alpha-value-1"
    );
    assert!(
        dir.join("NOTES").exists(),
        "a file the tool did not write was removed"
    );
}
