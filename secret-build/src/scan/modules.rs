//! Which files belong to a target: the module tree each target root grows through
//! `mod name;` (with `#[path = "..."]` or `#[cfg_attr(.., path = "...")]`), inline
//! `mod name { ... }` blocks and `include!("file.rs")`, resolved as rustc does, including
//! the modules declared inside macro invocations (`cfg_if!`, a crate's own wrappers) and
//! in the `macro_rules!` definitions the crate invokes (see [`items`]). A `.rs` file in a
//! package folder that no target reaches — a trybuild case under `tests/ui/`, a script, a
//! template — is never compiled, so its `secret!` invocations are not declarations.

mod items;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proc_macro2::TokenStream;

use items::{Context, Walk};

/// Every file reachable from `roots` (crate roots: `lib.rs`, `main.rs`, test and example
/// files, `build.rs`), the roots first, each once, without `.` or `..` components.
/// `children_of` gives the [`Child`] references of a file (see [`children_at`]), `None` when
/// the file cannot be read; the caller keeps what it learnt reading the file, so the file is
/// read once. `is_file` is [`Path::is_file`], possibly answered from a folder listing: a
/// module whose file does not exist (`mod unix;` for another platform, without `unix.rs`)
/// is not looked for further. Every file reached past the roots is one `is_file` says is
/// there; the roots are not asked about.
///
/// When a file defines a `macro_rules!` whose body declares modules ([`Child::Template`]),
/// `invocations_of` gives where a file invokes such macros ([`invocations`]: that file is
/// read again, which only happens in the few crates that declare modules this way), and
/// the modules are resolved at each invocation.
pub(crate) fn reachable(
    roots: &[PathBuf],
    is_file: &dyn Fn(&Path) -> bool,
    mut children_of: impl FnMut(&Path) -> Option<Vec<Child>>,
    mut invocations_of: impl FnMut(&Path, &BTreeSet<String>) -> Vec<Child>,
) -> Vec<PathBuf> {
    let mut seen = super::paths::PathSet::default();
    let mut reached = Vec::new();
    // (file, whether it resolves `mod` like a crate root or `mod.rs`)
    let mut queue: Vec<(PathBuf, bool)> = roots
        .iter()
        .rev()
        .map(|root| (super::paths::normalize(root), true))
        .collect();
    // Each file read (its index in `reached`, and whether it resolves `mod` like a
    // `mod.rs`), to look for invocations in.
    let mut places: Vec<(usize, bool)> = Vec::new();
    let mut templates: BTreeMap<String, Vec<Child>> = BTreeMap::new();
    // The template names each place was searched for.
    let mut searched: Vec<BTreeSet<String>> = Vec::new();
    loop {
        while let Some((file, mod_rs)) = queue.pop() {
            if !seen.insert(file.as_os_str().to_owned()) {
                continue;
            }
            let children = children_of(&file);
            let is_mod_rs = mod_rs || file.file_name().is_some_and(|name| name == "mod.rs");
            reached.push(file);
            let Some(children) = children else {
                continue;
            };
            places.push((reached.len() - 1, is_mod_rs));
            // Most files name no other file: their folders are not worked out.
            if children.is_empty() {
                continue;
            }
            let (dir, module_dir) = folders(&reached[reached.len() - 1], is_mod_rs);
            for child in &children {
                match child {
                    Child::Template { name, children } => templates
                        .entry(name.clone())
                        .or_default()
                        .extend(children.iter().cloned()),
                    child => queue.extend(child.resolve(&dir, &module_dir, is_file)),
                }
            }
        }
        if templates.is_empty() {
            break;
        }
        // Every file read so far, for the templates it was not yet searched for.
        let names: BTreeSet<String> = templates.keys().cloned().collect();
        searched.resize_with(places.len(), BTreeSet::new);
        for (&(index, is_mod_rs), done) in places.iter().zip(&mut searched) {
            let wanted: BTreeSet<String> = names.difference(done).cloned().collect();
            if wanted.is_empty() {
                continue;
            }
            let file = &reached[index];
            let (dir, module_dir) = folders(file, is_mod_rs);
            for invoked in invocations_of(file, &wanted) {
                let Child::Invoke {
                    name,
                    dir: at_dir,
                    module_dir: at_module_dir,
                } = invoked
                else {
                    continue;
                };
                for child in templates.get(&name).into_iter().flatten() {
                    let placed = child.placed(&at_dir, &at_module_dir);
                    queue.extend(placed.resolve(&dir, &module_dir, is_file));
                }
            }
            done.extend(wanted);
        }
        if queue.is_empty() {
            break;
        }
    }
    reached
}

/// The folder of `file` and its module folder (where its `mod name;` look): the folder
/// itself for a crate root or a `mod.rs` (`is_mod_rs`), else `name/` beside `name.rs`.
fn folders(file: &Path, is_mod_rs: bool) -> (PathBuf, PathBuf) {
    let dir = file.parent().map(Path::to_owned).unwrap_or_default();
    let module_dir = if is_mod_rs {
        dir.clone()
    } else {
        dir.join(file.file_stem().unwrap_or_default())
    };
    (dir, module_dir)
}

/// A file another file names, before that file's place in a module tree is known: the
/// same text gives other paths as a crate root, a `mod.rs` or a `name.rs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Child {
    /// `mod name;`: `name.rs` or `name/mod.rs` in the module folder joined with `under`.
    Mod {
        base: Base,
        under: PathBuf,
        name: String,
    },
    /// `#[path = "..."] mod name;`: the path, joined to `base` and `under`.
    PathMod { base: Base, under: PathBuf },
    /// `include!("...")`: the path, joined to `base` and `under`.
    Include { base: Base, under: PathBuf },
    /// `macro_rules! name { ... }` whose expansion declares these modules, relative to
    /// where it is invoked.
    Template { name: String, children: Vec<Child> },
    /// `name!(...)` where an item can stand, for a `name` asked for ([`invocations`]), with
    /// the folders relative to which the file resolves its items there.
    Invoke {
        name: String,
        dir: Location,
        module_dir: Location,
    },
}

/// What a [`Child`]'s path is relative to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Base {
    /// The folder of the file (where `#[path]` and `include!` paths start).
    Dir,
    /// The file's module folder (where `mod name;` looks).
    ModuleDir,
}

/// A folder, relative to the file's folder or module folder.
pub(crate) type Location = (Base, PathBuf);

impl Child {
    /// `mod name;` among a file's own items: `name` in the file's module folder.
    fn module(name: String) -> Child {
        Child::Mod {
            base: Base::ModuleDir,
            under: PathBuf::new(),
            name,
        }
    }

    /// The file, without `.` or `..` components, and whether it resolves `mod` like a
    /// `mod.rs`, for a file in `dir` whose module folder is `module_dir`; `None` for what
    /// names no file, or a file that is not there.
    fn resolve(
        &self,
        dir: &Path,
        module_dir: &Path,
        is_file: &dyn Fn(&Path) -> bool,
    ) -> Option<(PathBuf, bool)> {
        let folder = |base: &Base| match base {
            Base::Dir => dir,
            Base::ModuleDir => module_dir,
        };
        let base = |base: &Base, under: &Path| {
            if under.as_os_str().is_empty() {
                folder(base).to_owned()
            } else {
                folder(base).join(under)
            }
        };
        // The file, whether it resolves `mod` like a `mod.rs`, and whether `is_file` said
        // it is there.
        let (file, mod_rs, there) = match self {
            Child::Mod {
                base: at,
                under,
                name,
            } => {
                let (file, there) = module_file(folder(at), under, name, is_file);
                let mod_rs = file.file_name().is_some_and(|n| n == "mod.rs");
                (file, mod_rs, there)
            }
            // rustc reads a `#[path]` file as a `mod.rs`: its `mod name;` are its siblings.
            Child::PathMod { base: at, under } => (base(at, under), true, false),
            Child::Include { base: at, under } => (base(at, under), true, false),
            Child::Template { .. } | Child::Invoke { .. } => return None,
        };
        let normal = super::paths::normalize(&file);
        // `is_file` is asked again only of a path it was not asked about.
        let there = (there && normal.as_os_str() == file.as_os_str()) || is_file(&normal);
        there.then_some((normal, mod_rs))
    }

    /// A template's child placed where the macro is invoked: relative to `dir` and
    /// `module_dir` of the invocation instead of the file's own.
    fn placed(&self, dir: &Location, module_dir: &Location) -> Child {
        let at = |base: &Base, under: &Path| {
            let (base, prefix) = match base {
                Base::Dir => dir,
                Base::ModuleDir => module_dir,
            };
            (*base, prefix.join(under))
        };
        match self {
            Child::Mod { base, under, name } => {
                let (base, under) = at(base, under);
                Child::Mod {
                    base,
                    under,
                    name: name.clone(),
                }
            }
            Child::PathMod { base, under } => {
                let (base, under) = at(base, under);
                Child::PathMod { base, under }
            }
            Child::Include { base, under } => {
                let (base, under) = at(base, under);
                Child::Include { base, under }
            }
            other => other.clone(),
        }
    }
}

/// The files `text` names through `mod name;`, `#[path]` and `include!`, wherever the file
/// sits in a module tree, and the `macro_rules!` it defines that declare modules, given
/// where the words `mod` and `include` stand in it ([`super::words`]) and the
/// [`super::skim::skim`] of the whole `text` when the caller has it.
pub(crate) fn children_at(
    text: &str,
    words: &super::words::Words,
    skimmed: Option<&super::skim::Skim>,
) -> Vec<Child> {
    walk(text, child_candidates(text, words), None, skimmed)
}

/// Where `text` invokes one of the macros `names` where an item can stand
/// ([`Child::Invoke`]).
pub(crate) fn invocations(text: &str, names: &BTreeSet<String>) -> Vec<Child> {
    let bytes = text.as_bytes();
    let mut positions = Vec::new();
    for name in names {
        positions.extend(
            memchr::memmem::find_iter(bytes, name.as_bytes()).filter(|&at| {
                let after = at + name.len();
                (at == 0 || !is_ident_byte(bytes[at - 1]))
                    && bytes.get(skip_space(bytes, after)) == Some(&b'!')
            }),
        );
    }
    positions.sort_unstable();
    let mut found = walk(text, positions, Some(names), None);
    found.retain(|child| matches!(child, Child::Invoke { .. }));
    found
}

/// Lexes the items of `text` holding one of `positions` and collects what they name. The
/// text is skimmed only up to the last position, unless the caller has its skim.
fn walk(
    text: &str,
    positions: Vec<usize>,
    invocations_of: Option<&BTreeSet<String>>,
    skimmed: Option<&super::skim::Skim>,
) -> Vec<Child> {
    if positions.is_empty() {
        return Vec::new();
    }
    let mut walk = Walk {
        invocations_of,
        found: Vec::new(),
    };
    // Only the items holding a candidate are lexed, each run of them on its own (see
    // `skim`); the whole file when it does not skim cleanly or they do not lex.
    let until = positions.iter().max().map_or(0, |&last| last + 1);
    let own;
    let skimmed = match skimmed {
        Some(skimmed) => Some(skimmed),
        None => {
            own = super::skim::skim_until(text, until);
            own.as_ref()
        }
    };
    // Items that are only `mod name;` (with attributes naming no path: the most common by
    // far) are read without the lexer.
    let items = skimmed.and_then(|skimmed| {
        let positions: Vec<usize> = positions
            .iter()
            .copied()
            .filter(|&at| skimmed.in_code(at))
            .collect();
        super::skim::kept(&skimmed.ends, &positions)
            .into_iter()
            .map(|range| {
                let code = skimmed.without_comments(text, range);
                match simple_mods(&code).filter(|_| invocations_of.is_none()) {
                    Some(names) => Some(Item::Mods(names)),
                    None => code.parse::<TokenStream>().ok().map(Item::Tokens),
                }
            })
            .collect::<Option<Vec<_>>>()
    });
    let dir = (Base::Dir, PathBuf::new());
    let module_dir = (Base::ModuleDir, PathBuf::new());
    match items.map_or_else(
        || {
            text.parse::<TokenStream>()
                .map(|stream| vec![Item::Tokens(stream)])
        },
        Ok,
    ) {
        Ok(items) => {
            for item in items {
                match item {
                    Item::Tokens(stream) => {
                        items::collect(stream, &dir, &module_dir, Context::Items, &mut walk);
                    }
                    Item::Mods(names) => {
                        walk.found.extend(names.into_iter().map(Child::module));
                    }
                }
            }
        }
        Err(_) if invocations_of.is_none() => collect_lines(text, &mut walk.found),
        Err(_) => {}
    }
    // No span of this file outlives `collect`: free the lexer's copy of the text.
    proc_macro2::extra::invalidate_current_thread_spans();
    walk.found
}

/// Top-level items of a file, as [`walk`] reads them.
enum Item {
    /// Items the lexer reads.
    Tokens(TokenStream),
    /// Only `mod name;` items: their names.
    Mods(Vec<String>),
}

/// The names of the modules `code` declares when it holds nothing but `mod name;` items,
/// each with at most a visibility (`pub`, `pub(crate)`, `pub(in path)`) and attributes
/// that do not hold the word `path` (`#[cfg(unix)]`, `#[macro_use]`,
/// `#[cfg_attr(docsrs, doc(cfg(..)))]`; not `#[path]` or `#[cfg_attr(.., path = "..")]`):
/// what the token walk finds there, read without the lexer. `None` for any other code.
fn simple_mods(code: &str) -> Option<Vec<String>> {
    let mut names = Vec::new();
    let mut rest = code.trim_start();
    while !rest.is_empty() {
        while let Some(attribute) = rest.strip_prefix('#') {
            let attribute = attribute.strip_prefix('!').unwrap_or(attribute);
            let end = attribute_end(attribute.as_bytes())?;
            let inside = &attribute[..end];
            // A `cfg_attr` naming no path sets none (`#[cfg_attr(docsrs, doc(cfg(..)))]`).
            if inside.contains("path") {
                return None;
            }
            rest = attribute[end..].trim_start();
        }
        let (item, after) = rest.split_once(';')?;
        let mut item = item.trim();
        if let Some(visibility) = item.strip_prefix("pub") {
            item = match visibility.trim_start().strip_prefix('(') {
                Some(inside) => inside.split_once(')')?.1,
                None if visibility.starts_with(char::is_whitespace) => visibility,
                None => return None,
            }
            .trim_start();
        }
        let name = item.strip_prefix("mod")?;
        if !name.starts_with(char::is_whitespace) {
            return None;
        }
        let name = name.trim_start();
        let ident = !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !ident {
            return None;
        }
        names.push(name.to_owned());
        rest = after.trim_start();
    }
    Some(names)
}

/// The offset after the `]` closing an attribute whose `[` starts `text`, past nested
/// delimiters and plain string literals; `None` for anything else (an escape, a raw string,
/// a character literal).
fn attribute_end(text: &[u8]) -> Option<usize> {
    if text.first() != Some(&b'[') {
        return None;
    }
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        match b {
            b'[' | b'(' | b'{' => depth += 1,
            b']' | b')' | b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return (b == b']').then_some(i + 1);
                }
            }
            b'"' => {
                let close = i + 1 + memchr::memchr(b'"', &text[i + 1..])?;
                if text[i..close].contains(&b'\\') || text[..i].ends_with(b"r") {
                    return None;
                }
                i = close;
            }
            b'\'' | b'\\' | b'#' => return None,
            _ => {}
        }
        i += 1;
    }
    None
}

fn is_ident_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte >= 0x80
}

fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

/// Where `text` may name another file: an out-of-line `mod name;` or an `include!`, found
/// as text (so also in comments and strings: the test is conservative). Files without any
/// are not lexed — inline `mod name { ... }` blocks and `#[path]` only matter around a
/// `mod name;` — which keeps module discovery to a text search for most files.
fn child_candidates(text: &str, words: &super::words::Words) -> Vec<usize> {
    let mut positions = Vec::new();
    let bytes = text.as_bytes();
    let ident = |at: usize| {
        bytes
            .get(at)
            .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80)
    };
    let skip_space = |mut at: usize| {
        while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
            at += 1;
        }
        at
    };
    for &at in &words.module {
        if at > 0 && ident(at - 1) {
            continue;
        }
        let mut next = at + 3;
        if !bytes.get(next).is_some_and(u8::is_ascii_whitespace) {
            continue;
        }
        next = skip_space(next);
        if bytes[next..].starts_with(b"r#") {
            next += 2;
        }
        let start = next;
        while ident(next) {
            next += 1;
        }
        if next > start && bytes.get(skip_space(next)) == Some(&b';') {
            positions.push(at);
        }
    }
    positions.extend(
        words.include.iter().copied().filter(|&at| {
            (at == 0 || !ident(at - 1)) && bytes.get(skip_space(at + 7)) == Some(&b'!')
        }),
    );
    positions
}

/// `module_dir/under/name.rs` if it is a file, else `module_dir/under/name/mod.rs`; and
/// whether `is_file` said the path returned is a file (it was not asked about `mod.rs`).
fn module_file(
    module_dir: &Path,
    under: &Path,
    name: &str,
    is_file: &dyn Fn(&Path) -> bool,
) -> (PathBuf, bool) {
    // Both paths are made in one buffer, with room for the longer.
    let room = module_dir.as_os_str().len() + under.as_os_str().len() + name.len() + 9;
    let mut path = PathBuf::with_capacity(room);
    path.push(module_dir);
    if !under.as_os_str().is_empty() {
        path.push(under);
    }
    path.push(name);
    path.as_mut_os_string().push(".rs");
    if is_file(&path) {
        return (path, true);
    }
    // `name.rs` back to `name`, then `name/mod.rs`.
    path.set_extension("");
    path.push("mod.rs");
    (path, false)
}

/// For a file that does not lex: `mod name;` lines, so its modules are still scanned.
fn collect_lines(text: &str, found: &mut Vec<Child>) {
    for line in text.lines() {
        let mut words = line
            .trim()
            .trim_end_matches(';')
            .split_whitespace()
            .peekable();
        if words.peek().is_some_and(|word| word.starts_with("pub")) {
            words.next();
        }
        if words.next() == Some("mod")
            && let Some(name) = words.next()
            && words.next().is_none()
            && line.trim_end().ends_with(';')
            && name.chars().all(|ch| ch.is_alphanumeric() || ch == '_')
        {
            found.push(Child::module(name.to_owned()));
        }
    }
}

#[cfg(test)]
mod tests;
