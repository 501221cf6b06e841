//! Interoperability with the `age` command-line tool (Debian package `age`): a file this crate
//! writes, `age -d -i KEYFILE` decrypts; a file `age -r` writes, this crate decrypts.
//!
//! The binary is `AGE_BIN`, else `age` on the PATH. Without it each case is reported as
//! ignored, or fails with `CI=true` (`.ci/run` installs it).

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use secret_age::Identity;
use support::{Case, Outcome};

fn main() -> ExitCode {
    let cases: Vec<Case> = vec![
        (
            "age_cli_decrypts_what_we_encrypt".to_owned(),
            Box::new(age_decrypts_ours),
        ),
        (
            "we_decrypt_what_age_cli_encrypts".to_owned(),
            Box::new(we_decrypt_theirs),
        ),
    ];
    support::run(cases)
}

fn age_bin() -> Result<PathBuf, String> {
    let bin = std::env::var_os("AGE_BIN")
        .filter(|bin| !bin.is_empty())
        .map_or_else(|| PathBuf::from("age"), PathBuf::from);
    match Command::new(&bin).arg("--version").output() {
        Ok(output) if output.status.success() => Ok(bin),
        _ => Err(format!(
            "no `age` command ({}): install the Debian package `age` or set AGE_BIN",
            bin.display()
        )),
    }
}

/// 200 KiB over four chunks, and the empty file.
fn plaintexts() -> Vec<Vec<u8>> {
    vec![
        (0..200 * 1024u32).map(|i| (i % 251) as u8).collect(),
        Vec::new(),
    ]
}

fn run(bin: &Path, args: &[&str], stdin: &[u8]) -> Result<Vec<u8>, String> {
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run age: {e}"))?;
    // Feed stdin from a thread: age writes while it reads, and a full stdout pipe would block.
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_vec();
    let feeder = std::thread::spawn(move || input.write_all(&stdin));
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    feeder
        .join()
        .unwrap()
        .map_err(|e| format!("writing to age: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "age {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(output.stdout)
}

fn age_decrypts_ours() -> Result<Outcome, String> {
    let bin = match age_bin() {
        Ok(bin) => bin,
        Err(reason) => return support::missing(reason),
    };
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let identity = Identity::generate();
    let other = Identity::generate();
    let key_file = dir.path().join("key.txt");
    std::fs::write(&key_file, format!("{}\n", *identity.to_string())).map_err(|e| e.to_string())?;
    let key = key_file.to_str().unwrap();
    let recipients = [other.to_public(), identity.to_public()];
    for plaintext in plaintexts() {
        let binary = secret_age::encrypt(&recipients, &plaintext).map_err(|e| e.to_string())?;
        let armored =
            secret_age::encrypt_armored(&recipients, &plaintext).map_err(|e| e.to_string())?;
        for (what, file) in [("binary", binary), ("armored", armored.into_bytes())] {
            let path = dir.path().join("file.age");
            std::fs::write(&path, &file).map_err(|e| e.to_string())?;
            let decrypted = run(&bin, &["-d", "-i", key, path.to_str().unwrap()], b"")?;
            if decrypted != plaintext {
                return Err(format!(
                    "{what}, {} bytes: age decrypted other bytes",
                    plaintext.len()
                ));
            }
        }
    }
    Ok(Outcome::Passed)
}

fn we_decrypt_theirs() -> Result<Outcome, String> {
    let bin = match age_bin() {
        Ok(bin) => bin,
        Err(reason) => return support::missing(reason),
    };
    let identity = Identity::generate();
    let other = Identity::generate();
    let (ours, theirs) = (
        identity.to_public().to_string(),
        other.to_public().to_string(),
    );
    for plaintext in plaintexts() {
        for armor in [false, true] {
            let mut args = vec!["-r", theirs.as_str(), "-r", ours.as_str()];
            if armor {
                args.push("-a");
            }
            let file = run(&bin, &args, &plaintext)?;
            let decrypted = secret_age::decrypt(std::slice::from_ref(&identity), &file)
                .map_err(|e| format!("armor {armor}: {e}"))?;
            if *decrypted != plaintext {
                return Err(format!(
                    "armor {armor}, {} bytes: other bytes",
                    plaintext.len()
                ));
            }
        }
    }
    Ok(Outcome::Passed)
}
