//! Files the tool writes: a store write keeps the store's permissions and a symbolic link
//! to it; a write waiting for the store's lock names the holder and gives up after a
//! bounded wait.

use std::process::Stdio;

use crate::safety_support::{Ws, assert_success};
use secret_core::Store;

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[cfg(unix)]
#[test]
fn a_write_keeps_the_stores_permissions_and_its_symbolic_link() {
    use std::os::unix::fs::PermissionsExt;
    let ws = Ws::new();
    ws.set("dev", "First", "first-value");
    let store = ws.root().join("secrets.enc.toml");
    std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o644)).unwrap();
    ws.set("dev", "Second", "second-value");
    assert_eq!(mode(&store), 0o644, "the store's mode changed");

    // The store as a link to a file in another folder: the link stays, the target changes.
    let shared = ws.root().join("shared");
    std::fs::create_dir(&shared).unwrap();
    let target = shared.join("team.enc.toml");
    std::fs::rename(&store, &target).unwrap();
    std::os::unix::fs::symlink("shared/team.enc.toml", &store).unwrap();
    ws.set("dev", "Third", "third-value");
    assert!(
        std::fs::symlink_metadata(&store).unwrap().is_symlink(),
        "the symbolic link was replaced by a file"
    );
    assert_eq!(mode(&target), 0o644);
    let written = Store::load(ws.root()).unwrap();
    assert_eq!(
        written.names().collect::<Vec<_>>(),
        ["First", "Second", "Third"]
    );
    let leftovers: Vec<_> = std::fs::read_dir(&shared)
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["team.enc.toml"]);
}

#[test]
fn a_write_waiting_for_a_stuck_lock_names_the_holder_and_gives_up() {
    let ws = Ws::new();
    ws.set("dev", "First", "first-value");
    let before = std::fs::read(ws.root().join("secrets.enc.toml")).unwrap();
    let (held_tx, held_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let root = ws.root().to_owned();
    // This test process holds the lock, as a stuck `secret set` would.
    let holder = std::thread::spawn(move || {
        Store::update(&root, |_| {
            held_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            Ok::<_, secret_core::FileError>(())
        })
        .unwrap();
    });
    held_rx.recv().unwrap();

    let mut child = ws
        .command(&["secret", "set", "--type", "dev", "Second"])
        .env("SECRETS_LOCK_TIMEOUT", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"second-value")
            .unwrap();
    }
    // It returns at all: an unbounded wait never would.
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    let pid = std::process::id();
    for wanted in [
        "secrets.enc.toml.lock: the store is locked by another process (pid: ",
        &format!("pid: {pid}, host: "),
        "gave up after waiting 1 s",
        &format!("if it is stuck, stop it (`kill {pid}`)"),
        "SECRETS_LOCK_TIMEOUT=<seconds>",
    ] {
        assert!(stderr.contains(wanted), "no {wanted:?} in:\n{stderr}");
    }
    assert!(!stderr.contains("second-value"));
    assert_eq!(
        std::fs::read(ws.root().join("secrets.enc.toml")).unwrap(),
        before
    );

    // Once the holder is done, the same command succeeds.
    release_tx.send(()).unwrap();
    holder.join().unwrap();
    assert_success(&ws.set("dev", "Second", "second-value"));
}
