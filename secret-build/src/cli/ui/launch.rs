//! Opening the dashboard in a browser without a token on any command line.
//!
//! A program's arguments are readable by every local user (`ps`, `/proc/PID/cmdline`), and
//! the browser an opener starts keeps them for its whole life. So the browser is opened on
//! a private file (`0600`, in a folder of its own that only the user can enter) holding a
//! form that posts a one-time token to the dashboard: the token is in no argument, in no
//! URL and so in no browser history. The server removes the file once the token is used
//! or has expired. This is the approach Jupyter takes with its redirect file.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The name of the file inside its private folder.
const FILE_NAME: &str = "open-dashboard.html";

/// Writes the launcher for `token` into a new private folder under `parent`; returns the
/// file.
pub(super) fn write(parent: &Path, base: &str, token: &str) -> std::io::Result<PathBuf> {
    let dir = parent.join(format!("secrets-ui-{}", super::auth::random_hex()?));
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(&dir)?;
    let file = dir.join(FILE_NAME);
    // `base` and `token` are ours (`http://127.0.0.1:PORT`, hex): nothing to escape.
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>Opening the secrets dashboard</title></head><body>\
         <form method=\"post\" action=\"{base}/open\">\
         <input type=\"hidden\" name=\"token\" value=\"{token}\">\
         <p>Opening the secrets dashboard… <button type=\"submit\">Open it</button></p>\
         </form><script>document.forms[0].submit();</script></body></html>\n"
    );
    if let Err(error) = secret_core::files::create_private(&file, html.as_bytes()) {
        let _ = std::fs::remove_dir(&dir);
        return Err(error);
    }
    Ok(file)
}

/// Removes a launcher and its folder (nothing else: the folder holds only the file).
pub(super) fn remove(file: &Path) {
    let _ = std::fs::remove_file(file);
    if let Some(dir) = file.parent()
        && dir
            .file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with("secrets-ui-"))
    {
        let _ = std::fs::remove_dir(dir);
    }
}

/// Where launchers go: `$XDG_RUNTIME_DIR` (private to the user, emptied at log-out), else
/// the temporary folder.
pub(super) fn parent(vars: &dyn Fn(&str) -> Option<OsString>) -> PathBuf {
    vars("XDG_RUNTIME_DIR")
        .filter(|dir| !dir.is_empty() && Path::new(dir).is_dir())
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
}

/// Opens `file` with `$BROWSER`, else the platform's opener.
pub(super) fn open(file: &Path, vars: &dyn Fn(&str) -> Option<OsString>) -> Result<(), String> {
    let opener: PathBuf = match vars("BROWSER").filter(|browser| !browser.is_empty()) {
        Some(browser) => browser.into(),
        None if cfg!(target_os = "macos") => "open".into(),
        None => "xdg-open".into(),
    };
    std::process::Command::new(&opener)
        .arg(file)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(drop)
        .map_err(|error| format!("{}: {error}", opener.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_launcher_is_private_and_removed_with_its_folder() {
        let parent = tempfile::tempdir().unwrap();
        let token = "00112233445566778899aabbccddeeff";
        let file = write(parent.path(), "http://127.0.0.1:4000", token).unwrap();
        let html = std::fs::read_to_string(&file).unwrap();
        assert!(
            html.contains("action=\"http://127.0.0.1:4000/open\""),
            "{html}"
        );
        assert!(html.contains(&format!("value=\"{token}\"")), "{html}");
        assert!(
            !file.to_string_lossy().contains(token),
            "no token in the path"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&file), 0o600);
            assert_eq!(mode(file.parent().unwrap()), 0o700);
        }
        remove(&file);
        assert_eq!(std::fs::read_dir(parent.path()).unwrap().count(), 0);
    }
}
