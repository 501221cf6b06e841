//! `secret adopt FILE:LINE --name Name --type T`: moves a credential written into the
//! source (what `check-secrets` reports as `hardcoded-secret`) into the store, and the
//! source onto the store.
//!
//! The value is read from the file, never from the command line, and stored the way `set`
//! stores one. The source changes only where the types allow it, and is planned in full
//! before anything is written: a `const` or `static` of type `&str` becomes a
//! `static NAME: secret_runtime::Secret = secret_runtime::secret!("Name")` and each use of
//! it `NAME.expose()?`; a literal in a function body (a `format!` argument, a struct field,
//! a call argument) becomes `NAME.expose()?` with that `static` declared before the item.
//! `?` needs the enclosing function to return a `Result` whose error a
//! `secret_runtime::Error` converts into (`Box<dyn Error>`, `anyhow`, `eyre`,
//! `secret_runtime::Error`); where it does not, or where the literal is evaluated at
//! compile time, the command says what to change and changes nothing. Files are replaced
//! atomically (written beside, then renamed).

use std::ops::Range;
use std::path::{Path, PathBuf};

use clap::Args;
use secrecy::ExposeSecret;

use super::{Failure, Io, ScopeArgs, identities, open_backend};
use crate::backend::{Backend, VaultEdit};
use crate::scan::hardcoded::{self, Literal};
use crate::scan::skim::{self, Skim};

/// Arguments of `secret adopt`.
#[derive(Debug, Args)]
pub(crate) struct AdoptArgs {
    #[command(flatten)]
    scope: ScopeArgs,
    /// The secret's name in the store (and in `secret!`)
    #[arg(long)]
    name: String,
    /// Where the literal is: `FILE:LINE` (or `FILE:LINE:COLUMN` when the line holds several),
    /// as `check-secrets` prints it; relative to the workspace root
    place: String,
}

/// One file's new text.
struct Edit {
    path: PathBuf,
    text: String,
    /// What changed, one line each, for the user (no value in it).
    changes: Vec<String>,
}

pub(crate) fn run(
    root: &Path,
    args: &AdoptArgs,
    file_store: bool,
    io: &mut Io<'_>,
) -> Result<(), Failure> {
    super::set::check_name(&args.name)?;
    let (file, line, column) = parse_place(&args.place)?;
    let path = if root.join(&file).is_file() {
        root.join(&file)
    } else {
        io.cwd.join(&file)
    };
    let text = std::fs::read_to_string(&path).map_err(|error| {
        Failure::usage(format!("cannot read {}: {error}", file.display()))
            .with_help("give the file as `check-secrets` prints it, relative to the workspace root")
    })?;
    let literal = choose(&text, &file, line, column)?;
    let edits = plan(root, &path, &file, &text, &literal, &args.name)?;

    // The value, stored as `set` stores one.
    let trusted = crate::trusted::Trusted::open(root, io.vars)?;
    super::print_notes(&trusted.notes, io);
    let state = &trusted.state;
    let config = state.config().clone();
    let scope = args.scope.scope(state)?;
    let value = literal.value.clone();
    if let Backend::Vault(client) = open_backend(state, file_store, io)? {
        let edit = VaultEdit::read(&client, &args.name)?;
        edit.preflight(&scope, false)?;
        edit.set(&scope, value, false)?;
        let _ = writeln!(
            io.stdout,
            "stored {} for {} in {}",
            args.name,
            scope.describe(),
            super::escaped(&client.describe())
        );
    } else {
        let ids = identities(io)?;
        super::set::preflight(state, &args.name, &scope, false, &ids)?;
        super::set::write_value(root, &config, &args.name, &scope, &value, false, &ids)?;
        let after = secret_core::state::State::load(root, None)?;
        super::set::report_root(state, &after, io);
        trusted.remember_state(&after);
        let _ = writeln!(
            io.stdout,
            "stored {} for {} in {}",
            args.name,
            scope.describe(),
            secret_core::STORE_FILE
        );
    }

    for edit in &edits {
        replace_file(&edit.path, &edit.text).map_err(|error| {
            Failure::usage(format!(
                "the value is stored, but {} could not be rewritten: {error}",
                edit.path.display()
            ))
            .with_help("replace the literal by hand as described above")
        })?;
        for change in &edit.changes {
            let _ = writeln!(io.stdout, "{}", secret_core::text::escape_control(change));
        }
    }
    if let Some(note) = missing_dependency(root, &path) {
        let _ = writeln!(
            io.stdout,
            "note: {}",
            secret_core::text::escape_control(&note)
        );
    }
    let _ = writeln!(
        io.stdout,
        "warning: the value is still in git history, where anyone with a clone can read it: \
         treat it as leaked and due for rotation. Replace it at its provider, then store the \
         new one with `cargo xtask secret set {} {}`",
        scope.flags(),
        args.name
    );
    Ok(())
}

/// `FILE:LINE` or `FILE:LINE:COLUMN`.
fn parse_place(place: &str) -> Result<(PathBuf, usize, Option<usize>), Failure> {
    let bad = || {
        Failure::usage(format!("`{place}` is not FILE:LINE")).with_help(
            "give the place `check-secrets` prints for the literal, such as `src/main.rs:12`",
        )
    };
    let (rest, last) = place.rsplit_once(':').ok_or_else(bad)?;
    let last: usize = last.parse().map_err(|_| bad())?;
    if let Some((file, line)) = rest.rsplit_once(':')
        && let Ok(line) = line.parse::<usize>()
    {
        return Ok((PathBuf::from(file), line, Some(last)));
    }
    Ok((PathBuf::from(rest), last, None))
}

/// The literal on `line` (at `column`, if given): the one the check flags, or the only
/// one.
fn choose(text: &str, file: &Path, line: usize, column: Option<usize>) -> Result<Literal, Failure> {
    let mut literals = hardcoded::literals_on_line(text, line);
    let place = format!("{}:{line}", file.display());
    if let Some(column) = column {
        literals.retain(|literal| hardcoded::line_column(text, literal.range.start).1 == column);
    }
    if literals.is_empty() {
        return Err(
            Failure::usage(format!("no string literal starts at {place}"))
                .with_help("give the line (and column) `check-secrets` prints for the literal"),
        );
    }
    if literals.len() > 1 {
        let flagged: Vec<usize> = literals
            .iter()
            .enumerate()
            .filter(|(_, literal)| {
                hardcoded::judge(literal.value.expose_secret(), literal.binding.as_deref())
                    .is_some()
            })
            .map(|(index, _)| index)
            .collect();
        if flagged.len() != 1 {
            let columns: Vec<String> = literals
                .iter()
                .map(|literal| {
                    hardcoded::line_column(text, literal.range.start)
                        .1
                        .to_string()
                })
                .collect();
            return Err(Failure::usage(format!(
                "{place} holds several string literals (at columns {})",
                columns.join(", ")
            ))
            .with_help(format!("say which with `{place}:COLUMN`")));
        }
        return Ok(literals.swap_remove(flagged[0]));
    }
    Ok(literals.swap_remove(0))
}

/// The edits that move the source onto the store, or why the types do not allow it.
fn plan(
    root: &Path,
    path: &Path,
    file: &Path,
    text: &str,
    literal: &Literal,
    name: &str,
) -> Result<Vec<Edit>, Failure> {
    let place = |at: usize| format!("{}:{}", file.display(), hardcoded::line_column(text, at).0);
    let refuse = |at: usize, message: String, help: String| {
        Failure::data(format!("{}: {message}; nothing was changed", place(at))).with_help(help)
    };
    if literal.bytes {
        return Err(refuse(
            literal.range.start,
            "the literal is a byte string, which a secret's handle does not give".to_owned(),
            format!(
                "write it as a string literal first, or replace it by hand with `{}.expose()?.as_bytes()`",
                static_name(name)
            ),
        ));
    }
    let skim = skim::skim(text).ok_or_else(|| {
        Failure::usage(format!(
            "{} does not parse (unbalanced delimiters)",
            file.display()
        ))
    })?;
    let declaration = format!("secret_runtime::secret!({})", quoted(name));
    if let Some(item) = str_item(text, literal) {
        // `const NAME: &str = "...";` -> a static handle, and each use of NAME exposes it.
        let mut uses = Vec::new();
        let files = package_files(root, path, &item.ident, item.public);
        for other in &files {
            let other_text = if other == path {
                text.to_owned()
            } else {
                std::fs::read_to_string(other).unwrap_or_default()
            };
            let Some(other_skim) = skim::skim(&other_text) else {
                continue;
            };
            let found = identifier_uses(&other_text, &other_skim, &item.ident);
            let found: Vec<usize> = found
                .into_iter()
                .filter(|at| other != path || !item.range.contains(at))
                .collect();
            let shown = relative(root, other);
            // `format!("{NAME}")` names it inside a literal, where `.expose()?` cannot go.
            if let Some(at) = inline_format_use(&other_text, &other_skim, &item.ident) {
                let (line, _) = hardcoded::line_column(&other_text, at);
                return Err(Failure::data(format!(
                    "{shown}:{line}: `{}` is used inside a format string, where `{}.expose()?` cannot stand; nothing was changed",
                    item.ident, item.ident
                ))
                .with_help(format!(
                    "pass it as an argument instead (`format!(\"{{}}\", {})`), then run adopt again",
                    item.ident
                )));
            }
            if found.is_empty() {
                continue;
            }
            for &at in &found {
                if let Err(why) = can_expose(&other_text, &other_skim, at) {
                    let (line, _) = hardcoded::line_column(&other_text, at);
                    return Err(Failure::data(format!(
                        "{shown}:{line}: `{}` is used where `{}.expose()?` cannot stand: {why}; nothing was changed",
                        item.ident, item.ident
                    ))
                    .with_help(format!(
                        "make that function return a `Result` whose error a `secret_runtime::Error` converts into (such as `Result<_, Box<dyn std::error::Error>>`), then run adopt again; or declare `static {}: secret_runtime::Secret = {declaration};` yourself and handle the error of `expose()` there",
                        item.ident
                    )));
                }
            }
            uses.push((other.clone(), other_text, found));
        }
        let replacement = format!(
            "{}static {}: secret_runtime::Secret = {declaration};",
            item.visibility, item.ident
        );
        let mut edits = Vec::new();
        let mut own = (text.to_owned(), Vec::new());
        own.1.push(format!(
            "{}: `{}` is now `{replacement}`",
            place(item.range.start),
            item.ident
        ));
        let mut own_uses = Vec::new();
        for (other, other_text, found) in uses {
            if other == path {
                own_uses = found;
                continue;
            }
            let shown = relative(root, &other);
            let mut changes = Vec::new();
            for &at in &found {
                changes.push(format!(
                    "{shown}:{}: `{}` is now `{}.expose()?`",
                    hardcoded::line_column(&other_text, at).0,
                    item.ident,
                    item.ident
                ));
            }
            let new = expose_at(&other_text, &found, item.ident.len(), &[]);
            edits.push(Edit {
                path: other,
                text: new,
                changes,
            });
        }
        for &at in &own_uses {
            own.1.push(format!(
                "{}: `{}` is now `{}.expose()?`",
                place(at),
                item.ident,
                item.ident
            ));
        }
        own.0 = expose_at(
            text,
            &own_uses,
            item.ident.len(),
            &[(item.range.clone(), replacement)],
        );
        edits.insert(
            0,
            Edit {
                path: path.to_owned(),
                text: own.0,
                changes: own.1,
            },
        );
        return Ok(edits);
    }
    // A literal in a function body: a static handle before the item, the literal exposed.
    let at = literal.range.start;
    if let Err(why) = can_expose(text, &skim, at) {
        return Err(refuse(
            at,
            format!("the literal cannot become `.expose()?`: {why}"),
            format!(
                "declare `static {}: secret_runtime::Secret = {declaration};` and read it with `.expose()` where an error can be handled, then remove the literal",
                static_name(name)
            ),
        ));
    }
    let ident = static_name(name);
    if !identifier_uses(text, &skim, &ident).is_empty() {
        return Err(refuse(
            at,
            format!("`{ident}` is already a name in this file"),
            "choose another --name".to_owned(),
        ));
    }
    let item_start = item_start(text, &skim, at);
    let static_item = format!("static {ident}: secret_runtime::Secret = {declaration};\n\n");
    let mut new = String::with_capacity(text.len() + static_item.len());
    new.push_str(&text[..item_start]);
    new.push_str(&static_item);
    new.push_str(&text[item_start..literal.range.start]);
    new.push_str(&format!("{ident}.expose()?"));
    new.push_str(&text[literal.range.end..]);
    // Lines as they are in the rewritten file.
    let new_line = |at: usize| hardcoded::line_column(&new, at).0;
    let changes = vec![
        format!(
            "{}:{}: the literal is now `{ident}.expose()?`",
            file.display(),
            new_line(at + static_item.len())
        ),
        format!(
            "{}:{}: declared `static {ident}: secret_runtime::Secret = {declaration};`",
            file.display(),
            new_line(item_start)
        ),
    ];
    Ok(vec![Edit {
        path: path.to_owned(),
        text: new,
        changes,
    }])
}

/// A `const` or `static` item of type `&str` initialised by the literal.
struct StrItem {
    /// The item, from its keyword (or visibility) to its `;`.
    range: Range<usize>,
    ident: String,
    /// `pub `, `pub(crate) `, or empty.
    visibility: String,
    public: bool,
}

fn str_item(text: &str, literal: &Literal) -> Option<StrItem> {
    let line_start = text[..literal.range.start]
        .rfind('\n')
        .map_or(0, |at| at + 1);
    let head = &text[line_start..literal.range.start];
    let indent = head.len() - head.trim_start().len();
    let mut rest = head.trim();
    let mut visibility = String::new();
    if let Some(after) = rest.strip_prefix("pub") {
        let after_vis = if let Some(inner) = after.strip_prefix('(') {
            let close = inner.find(')')?;
            &inner[close + 1..]
        } else {
            after
        };
        visibility = format!("{} ", rest[..rest.len() - after_vis.len()].trim());
        rest = after_vis.trim_start();
    }
    let rest = rest
        .strip_prefix("const ")
        .or_else(|| rest.strip_prefix("static "))?
        .trim_start();
    let ident_len = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    let ident = &rest[..ident_len];
    let ty: String = rest[ident_len..]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if ident.is_empty() || !matches!(ty.as_str(), ":&str=" | ":&'staticstr=") {
        return None;
    }
    let after = &text[literal.range.end..];
    let semicolon = after.len() - after.trim_start().len();
    if !after[semicolon..].starts_with(';') {
        return None;
    }
    Some(StrItem {
        range: line_start + indent..literal.range.end + semicolon + 1,
        ident: ident.to_owned(),
        public: !visibility.is_empty(),
        visibility,
    })
}

/// `text` with `.expose()?` after the identifier at each of `uses` (`len` bytes long), and
/// each of `replaced` ranges replaced.
fn expose_at(
    text: &str,
    uses: &[usize],
    len: usize,
    replaced: &[(Range<usize>, String)],
) -> String {
    let mut edits: Vec<(Range<usize>, String)> = uses
        .iter()
        .map(|&at| (at + len..at + len, ".expose()?".to_owned()))
        .chain(replaced.iter().cloned())
        .collect();
    edits.sort_by_key(|(range, _)| std::cmp::Reverse(range.start));
    let mut text = text.to_owned();
    for (range, with) in edits {
        text.replace_range(range, &with);
    }
    text
}

/// Where `ident` is used as a value in code: not a field (`.ident`) or a declaration.
fn identifier_uses(text: &str, skim: &Skim, ident: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    text.match_indices(ident)
        .map(|(at, _)| at)
        .filter(|&at| {
            skim.in_code(at)
                && (at == 0 || !word(bytes[at - 1]))
                && bytes.get(at + ident.len()).is_none_or(|&b| !word(b))
                && !text[..at].trim_end().ends_with('.')
                && !text[..at].trim_end().ends_with("static")
                && !text[..at].trim_end().ends_with("const")
        })
        .collect()
}

/// Where a string literal of `text` names `ident` as an inline format argument
/// (`{ident}`, `{ident:?}`).
fn inline_format_use(text: &str, skim: &Skim, ident: &str) -> Option<usize> {
    skim.strings(text).find_map(|range| {
        let literal = &text[range.clone()];
        [format!("{{{ident}}}"), format!("{{{ident}:")]
            .iter()
            .find_map(|needle| literal.find(needle.as_str()))
            .map(|at| range.start + at)
    })
}

/// Whether `X.expose()?` can stand at `at`: inside a function body whose function returns
/// a `Result` a `secret_runtime::Error` converts into.
fn can_expose(text: &str, skim: &Skim, at: usize) -> Result<(), String> {
    let function = functions(text, skim)
        .into_iter()
        .filter(|function| function.body.contains(&at))
        .min_by_key(|function| function.body.len());
    let Some(function) = function else {
        return Err("it is evaluated at compile time (in a `const`, `static` or other item outside a function body)".to_owned());
    };
    let returns: String = function
        .returns
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let converts = returns.contains("Result")
        && (["Box<dyn", "anyhow", "eyre", "secret_runtime::Error"]
            .iter()
            .any(|error| returns.contains(error))
            || (returns.contains("Error>") && imports_runtime_error(text))
            || (returns.starts_with("Result<")
                && !returns.contains(',')
                && imports_result_alias(text)));
    if converts {
        Ok(())
    } else if returns.is_empty() {
        Err(format!(
            "`fn {}` returns nothing, so `?` has nowhere to send the error",
            function.name
        ))
    } else {
        Err(format!(
            "`fn {}` returns `{}`, which a `secret_runtime::Error` does not convert into",
            function.name,
            function.returns.trim()
        ))
    }
}

fn imports_runtime_error(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim();
        line.starts_with("use secret_runtime::") && line.contains("Error")
    })
}

fn imports_result_alias(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim();
        (line.starts_with("use anyhow::")
            || line.starts_with("use eyre::")
            || line.starts_with("use color_eyre::"))
            && line.contains("Result")
    })
}

/// A function with a body: its name, its return type as written, and its body's range.
struct Function {
    name: String,
    returns: String,
    body: Range<usize>,
}

fn functions(text: &str, skim: &Skim) -> Vec<Function> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    for (at, _) in text.match_indices("fn ") {
        if !skim.in_code(at)
            || (at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_'))
        {
            continue;
        }
        let name: String = text[at + 3..]
            .trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        // The signature: up to the body's `{` (or a `;`: no body) outside parentheses,
        // brackets and generics.
        let mut depth = 0i32;
        let mut i = at + 3;
        let mut open = None;
        while i < bytes.len() {
            if skim.in_code(i) {
                match bytes[i] {
                    b'(' | b'[' => depth += 1,
                    b')' | b']' => depth -= 1,
                    b'{' if depth == 0 => {
                        open = Some(i);
                        break;
                    }
                    b';' if depth == 0 => break,
                    _ => {}
                }
            }
            i += 1;
        }
        let Some(open) = open else { continue };
        let signature = &text[at..open];
        let returns = signature
            .find("->")
            .map(|arrow| {
                let after = &signature[arrow + 2..];
                after
                    .find(" where")
                    .map_or(after, |w| &after[..w])
                    .to_owned()
            })
            .unwrap_or_default();
        let Some(close) = matching_brace(bytes, skim, open) else {
            continue;
        };
        found.push(Function {
            name,
            returns,
            body: open..close + 1,
        });
    }
    found
}

fn matching_brace(bytes: &[u8], skim: &Skim, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, &b) in bytes.iter().enumerate().skip(open) {
        if !matches!(b, b'{' | b'}') || !skim.in_code(i) {
            continue;
        }
        if b == b'{' {
            depth += 1;
        } else {
            depth = depth.checked_sub(1)?;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

/// Where the top-level item holding `at` starts (its attributes and doc comments
/// included).
fn item_start(text: &str, skim: &Skim, at: usize) -> usize {
    let previous_end = skim
        .ends
        .iter()
        .copied()
        .take_while(|&end| end <= at)
        .last()
        .unwrap_or(0);
    let rest = &text[previous_end..];
    let skipped = rest.len() - rest.trim_start().len();
    previous_end + skipped
}

/// The files of the package holding `path` that may use `ident`: `path` alone for a
/// private item, else every `.rs` file under the package folder (not `target/`).
fn package_files(root: &Path, path: &Path, ident: &str, public: bool) -> Vec<PathBuf> {
    if !public {
        return vec![path.to_owned()];
    }
    let package = path
        .ancestors()
        .skip(1)
        .find(|dir| dir.join("Cargo.toml").is_file())
        .unwrap_or(root);
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(package)
        .into_iter()
        .filter_entry(|entry| {
            let name = entry.file_name().to_string_lossy();
            entry.depth() == 0 || !(name.starts_with('.') || name == "target")
        })
        .filter_map(Result::ok)
        .filter(|entry| {
            entry.file_type().is_file() && entry.path().extension().is_some_and(|e| e == "rs")
        })
        .map(|entry| entry.into_path())
        .filter(|file| {
            file == path || std::fs::read_to_string(file).is_ok_and(|text| text.contains(ident))
        })
        .collect();
    files.sort();
    if !files.iter().any(|file| file == path) {
        files.insert(0, path.to_owned());
    }
    files
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// `GitHubToken` -> `GIT_HUB_TOKEN`: the static a handle is declared in.
fn static_name(name: &str) -> String {
    let mut out = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_uppercase() && previous_lower {
            out.push('_');
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        out.extend(c.to_uppercase());
    }
    out
}

/// `name` as a Rust string literal (a valid secret name needs no escape).
fn quoted(name: &str) -> String {
    format!("\"{name}\"")
}

/// A note when the package holding `path` does not depend on `secret-runtime`.
fn missing_dependency(root: &Path, path: &Path) -> Option<String> {
    let manifest = path
        .ancestors()
        .skip(1)
        .map(|dir| dir.join("Cargo.toml"))
        .find(|manifest| manifest.is_file())?;
    let text = std::fs::read_to_string(&manifest).ok()?;
    (!text.contains("secret-runtime")).then(|| {
        format!(
            "{} does not depend on secret-runtime yet: add `secret-runtime` under [dependencies]",
            relative(root, &manifest)
        )
    })
}

/// Replaces the file at `path` with `text` atomically: written beside it, then renamed
/// over it, keeping its permissions.
fn replace_file(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let temporary = dir.join(format!(".{name}.adopt.{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        if let Ok(metadata) = std::fs::metadata(path) {
            std::fs::set_permissions(&temporary, metadata.permissions())?;
        }
        std::fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_and_names() {
        assert_eq!(
            parse_place("src/main.rs:12").unwrap(),
            (PathBuf::from("src/main.rs"), 12, None)
        );
        assert_eq!(
            parse_place("src/main.rs:12:5").unwrap(),
            (PathBuf::from("src/main.rs"), 12, Some(5))
        );
        assert!(parse_place("src/main.rs").is_err());
        assert_eq!(static_name("GitHubToken"), "GIT_HUB_TOKEN");
        assert_eq!(static_name("ApiKey"), "API_KEY");
    }

    #[test]
    fn expose_needs_a_function_returning_a_convertible_result() {
        let text = "fn a() -> Result<(), Box<dyn std::error::Error>> { X }\nfn b() { X }\nfn c() -> Result<(), String> { X }\nconst D: &str = X;\n";
        let skim = skim::skim(text).unwrap();
        let at = |n: usize| text.match_indices('X').nth(n).unwrap().0;
        assert!(can_expose(text, &skim, at(0)).is_ok());
        assert!(
            can_expose(text, &skim, at(1))
                .unwrap_err()
                .contains("returns nothing")
        );
        assert!(
            can_expose(text, &skim, at(2))
                .unwrap_err()
                .contains("Result<(), String>")
        );
        assert!(
            can_expose(text, &skim, at(3))
                .unwrap_err()
                .contains("compile time")
        );
    }
}
