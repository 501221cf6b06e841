//! What the team store needs from git: the merge and diff drivers for `secrets.enc.toml`,
//! and the store's history for `secret log`. Returns data; the CLI prints.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The name of the merge and diff drivers in `.gitattributes` and git's configuration.
pub const DRIVER: &str = "secrets-store";
/// The variable naming the command that runs this CLI, for the drivers `secret init`
/// configures (default: a copy of the running tool kept in the clone's git folder).
pub const DRIVER_COMMAND_VAR: &str = "SECRETS_GIT_COMMAND";

fn git(root: &Path) -> Command {
    let mut command = Command::new("git");
    command.arg("-C").arg(root);
    command
}

fn output(root: &Path, args: &[&str]) -> Option<String> {
    let output = git(root).args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Whether `root` is inside a git work tree (`false` without git).
pub fn in_repository(root: &Path) -> bool {
    output(root, &["rev-parse", "--is-inside-work-tree"]).is_some_and(|out| out.trim() == "true")
}

/// Whether this clone's git configuration has the store's merge driver, and the program it
/// runs exists: `None` outside a git repository.
pub fn driver_configured(root: &Path) -> Option<bool> {
    if !in_repository(root) {
        return None;
    }
    let key = format!("merge.{DRIVER}.driver");
    let Some(command) = output(root, &["config", "--get", &key]) else {
        return Some(false);
    };
    let program = command.trim().split(' ').next().unwrap_or("");
    let program = program.trim_matches('\'');
    Some(!program.is_empty() && (!program.starts_with('/') || Path::new(program).is_file()))
}

/// The repository's own git folder (shared by its worktrees), if `root` is in one.
pub fn common_dir(root: &Path) -> Option<PathBuf> {
    output(
        root,
        &["rev-parse", "--path-format=absolute", "--git-common-dir"],
    )
    .map(|out| PathBuf::from(out.trim()))
}

/// Copies the running program into the clone's git folder (`.git/secrets/driver`) and
/// returns the command prefix that runs its `secret` commands. Git runs the drivers with
/// that copy: merging or diffing the store never builds or runs the code of the checked-out
/// tree (a pull request's branch), and prints no build output.
pub(crate) fn install_driver(root: &Path) -> Result<String, String> {
    let dir = common_dir(root)
        .ok_or_else(|| "cannot find the repository's git folder".to_owned())?
        .join("secrets");
    std::fs::create_dir_all(&dir)
        .map_err(|error| format!("{}: cannot create: {error}", dir.display()))?;
    let exe =
        std::env::current_exe().map_err(|error| format!("cannot find this program: {error}"))?;
    let target = dir.join(format!("driver{}", std::env::consts::EXE_SUFFIX));
    let temp = dir.join(format!("driver.{}.tmp", std::process::id()));
    std::fs::copy(&exe, &temp)
        .and_then(|_| std::fs::rename(&temp, &target))
        .map_err(|error| {
            format!(
                "{}: cannot copy this program there: {error}",
                target.display()
            )
        })?;
    Ok(format!(
        "{} secret",
        secret_core::text::shell_quote(&target.to_string_lossy())
    ))
}

/// What [`configure`] did.
#[derive(Debug, Default)]
pub struct Configured {
    /// `.gitattributes` got the store's line (it is committed with the workspace).
    pub attributes_added: bool,
    /// The settings written into this clone's `.git/config`.
    pub commands: Vec<String>,
    /// Outside a git repository: the drivers wait for `git init` and `secret init` again.
    pub no_repository: bool,
    /// Git has no identity (`user.name`, `user.email`) here, which its textconv cache needs
    /// (it keeps the cache as notes, in commits): diffs are converted every time instead.
    pub uncached: bool,
}

/// Adds `secrets.enc.toml merge=secrets-store diff=secrets-store` to `.gitattributes` in
/// `root` (keeping every byte already there; a workspace in a subfolder gets its own) and
/// writes the merge driver and the diff textconv into this clone's git configuration,
/// running `command` (default: a copy of this program in the clone's git folder). The
/// textconv is cached by git. Outside a git repository only `.gitattributes` is written.
pub fn configure(root: &Path, command: Option<&str>) -> Result<Configured, String> {
    let mut done = Configured::default();
    let attributes = root.join(".gitattributes");
    let line = format!("{} merge={DRIVER} diff={DRIVER}", secret_core::STORE_FILE);
    let existing = match std::fs::read(&attributes) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(error) => return Err(format!("{}: cannot read: {error}", attributes.display())),
    };
    let present = String::from_utf8_lossy(&existing).lines().any(|existing| {
        existing.split_whitespace().collect::<Vec<_>>() == line.split(' ').collect::<Vec<_>>()
    });
    if !present {
        use std::io::Write as _;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&attributes)
            .map_err(|error| format!("{}: cannot write: {error}", attributes.display()))?;
        let mut text = String::new();
        if !existing.is_empty() && !existing.ends_with(b"\n") {
            text.push('\n');
        }
        text.push_str(
            "# secrets.enc.toml merges per secret and scope, and diffs one line per value\n",
        );
        text.push_str(&line);
        text.push('\n');
        file.write_all(text.as_bytes())
            .map_err(|error| format!("{}: cannot write: {error}", attributes.display()))?;
        done.attributes_added = true;
    }
    if !in_repository(root) {
        done.no_repository = true;
        return Ok(done);
    }
    let command = match command {
        Some(command) => command.to_owned(),
        None => install_driver(root)?,
    };
    let settings = [
        (
            format!("merge.{DRIVER}.name"),
            "secrets.enc.toml: merge per secret and scope".to_owned(),
        ),
        (
            format!("merge.{DRIVER}.driver"),
            format!("{command} merge-driver %O %A %B %P"),
        ),
        (
            format!("diff.{DRIVER}.textconv"),
            format!("{command} textconv"),
        ),
    ];
    // Git keeps the textconv cache in notes commits, and fails the whole `git diff` when it
    // cannot make one for want of an identity: cache only where git has one.
    let identity = git(root)
        .args(["var", "GIT_COMMITTER_IDENT"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    done.uncached = !identity;
    let settings = settings
        .into_iter()
        .chain([(format!("diff.{DRIVER}.cachetextconv"), identity.to_string())]);
    for (key, value) in settings {
        let status = git(root)
            .args(["config", "--local", &key, &value])
            .status()
            .map_err(|error| format!("cannot run git: {error}"))?;
        if !status.success() {
            return Err(format!("`git config {key}` failed"));
        }
        done.commands.push(format!("{key} = {value}"));
    }
    Ok(done)
}

/// One commit that changed the store.
#[derive(Debug, Clone)]
pub struct Revision {
    /// The commit's hash.
    pub commit: String,
    /// The author, as git records them.
    pub author: String,
    /// The commit's date (strict ISO 8601).
    pub date: String,
    /// The store's text at that commit (empty when the commit removed it).
    pub text: String,
}

/// The commits on the first-parent history of `HEAD` that changed `store` (a file under
/// `root`), oldest first, each with the store's text then. With `since`, only the commits
/// after that one (which must be an ancestor of `HEAD`).
pub fn store_history(
    root: &Path,
    store: &Path,
    since: Option<&str>,
) -> Result<Vec<Revision>, String> {
    if !in_repository(root) {
        return Err(format!("{} is not in a git repository", root.display()));
    }
    if since.is_none() && head(root).is_none() {
        return Ok(Vec::new());
    }
    store_history_to(root, store, since, "HEAD")
}

/// [`store_history`] up to the commit `head`, which [`head`] gave for `root` (so `root` is
/// in a repository that has a commit): no other git command runs before `git log`.
pub(crate) fn store_history_to(
    root: &Path,
    store: &Path,
    since: Option<&str>,
    head: &str,
) -> Result<Vec<Revision>, String> {
    let relative: PathBuf = store
        .strip_prefix(root)
        .map(Path::to_owned)
        .unwrap_or_else(|_| store.to_owned());
    let relative = relative.to_string_lossy().into_owned();
    let range = match since {
        Some(commit) => format!("{commit}..{head}"),
        None => head.to_owned(),
    };
    let log = output(
        root,
        &[
            "log",
            "--first-parent",
            "--reverse",
            "--format=%H%x09%an%x09%aI",
            &range,
            "--",
            &relative,
        ],
    )
    .ok_or_else(|| "`git log` failed".to_owned())?;
    let mut revisions = Vec::new();
    for line in log.lines() {
        let mut fields = line.splitn(3, '\t');
        let (Some(commit), Some(author), Some(date)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        revisions.push(Revision {
            commit: commit.to_owned(),
            author: author.to_owned(),
            date: date.to_owned(),
            text: String::new(),
        });
    }
    let objects: Vec<String> = revisions
        .iter()
        .map(|revision| format!("{}:./{relative}", revision.commit))
        .collect();
    for (revision, text) in revisions.iter_mut().zip(read_objects(root, &objects)?) {
        revision.text = text;
    }
    Ok(revisions)
}

/// The contents of `objects` (`<commit>:<path>`) through one `git cat-file --batch`; an
/// object that does not exist (the file removed at that commit) is empty.
fn read_objects(root: &Path, objects: &[String]) -> Result<Vec<String>, String> {
    use std::io::{BufRead as _, Read as _, Write as _};
    if objects.is_empty() {
        return Ok(Vec::new());
    }
    let mut child = git(root)
        .args(["cat-file", "--batch"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|error| format!("cannot run git: {error}"))?;
    let mut stdin = child.stdin.take().expect("piped");
    let list = objects.join("\n") + "\n";
    let writer = std::thread::spawn(move || stdin.write_all(list.as_bytes()));
    let mut stdout = std::io::BufReader::new(child.stdout.take().expect("piped"));
    let mut texts = Vec::with_capacity(objects.len());
    for _ in objects {
        let mut header = String::new();
        stdout
            .read_line(&mut header)
            .map_err(|error| format!("git cat-file: {error}"))?;
        let size = header
            .split_whitespace()
            .nth(2)
            .and_then(|size| size.parse::<usize>().ok());
        let Some(size) = size else {
            texts.push(String::new());
            continue;
        };
        let mut body = vec![0u8; size + 1];
        stdout
            .read_exact(&mut body)
            .map_err(|error| format!("git cat-file: {error}"))?;
        body.pop();
        texts.push(String::from_utf8_lossy(&body).into_owned());
    }
    let _ = writer.join();
    let _ = child.wait();
    Ok(texts)
}

/// Whether `commit` is an ancestor of `HEAD` (or `HEAD` itself).
pub fn is_ancestor(root: &Path, commit: &str) -> bool {
    git(root)
        .args(["merge-base", "--is-ancestor", commit, "HEAD"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// The commit `HEAD` points to, if any.
pub fn head(root: &Path) -> Option<String> {
    output(root, &["rev-parse", "--verify", "-q", "HEAD"]).map(|out| out.trim().to_owned())
}
