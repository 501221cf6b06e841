//! Which files belong to a target: the module tree each target root grows through
//! `mod name;` (with `#[path = "..."]`), inline `mod name { ... }` blocks and
//! `include!("file.rs")`, resolved as rustc does. A `.rs` file in a package folder that no
//! target reaches — a trybuild case under `tests/ui/`, a script, a template — is never
//! compiled, so its `secret!` invocations are not declarations.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use proc_macro2::{Delimiter, TokenStream, TokenTree};

/// Every file reachable from `roots` (crate roots: `lib.rs`, `main.rs`, test and example
/// files, `build.rs`). `children_of` gives the [`Child`] references of a file (see
/// [`children`]), `None` when the file cannot be read; the caller keeps what it learnt
/// reading the file, so the file is read once. `is_file` is [`Path::is_file`], possibly
/// answered from a folder listing.
pub(crate) fn reachable(
    roots: &[PathBuf],
    is_file: &dyn Fn(&Path) -> bool,
    mut children_of: impl FnMut(&Path) -> Option<Vec<Child>>,
) -> BTreeSet<PathBuf> {
    let mut seen = BTreeSet::new();
    // (file, whether it resolves `mod` like a crate root or `mod.rs`)
    let mut queue: Vec<(PathBuf, bool)> = roots.iter().map(|root| (root.clone(), true)).collect();
    while let Some((file, mod_rs)) = queue.pop() {
        if !seen.insert(file.clone()) {
            continue;
        }
        let Some(children) = children_of(&file) else {
            continue;
        };
        if children.is_empty() {
            continue;
        }
        let dir = file.parent().map(Path::to_owned).unwrap_or_default();
        let is_mod_rs = mod_rs || file.file_name().is_some_and(|name| name == "mod.rs");
        let module_dir = if is_mod_rs {
            dir.clone()
        } else {
            dir.join(file.file_stem().unwrap_or_default())
        };
        queue.extend(
            children
                .iter()
                .map(|child| child.resolve(&dir, &module_dir, is_file)),
        );
    }
    seen
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
}

/// What a [`Child`]'s path is relative to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Base {
    /// The folder of the file (where `#[path]` and `include!` paths start).
    Dir,
    /// The file's module folder (where `mod name;` looks).
    ModuleDir,
}

impl Child {
    /// The file and whether it resolves `mod` like a `mod.rs`, for a file in `dir` whose
    /// module folder is `module_dir`.
    fn resolve(
        &self,
        dir: &Path,
        module_dir: &Path,
        is_file: &dyn Fn(&Path) -> bool,
    ) -> (PathBuf, bool) {
        let base = |base: &Base, under: &Path| {
            let base = match base {
                Base::Dir => dir,
                Base::ModuleDir => module_dir,
            };
            if under.as_os_str().is_empty() {
                base.to_owned()
            } else {
                base.join(under)
            }
        };
        match self {
            Child::Mod {
                base: at,
                under,
                name,
            } => {
                let file = module_file(&base(at, under), name, is_file);
                let mod_rs = file.file_name().is_some_and(|n| n == "mod.rs");
                (file, mod_rs)
            }
            Child::PathMod { base: at, under } => {
                let file = base(at, under);
                let mod_rs = file.file_name().is_some_and(|n| n == "mod.rs");
                (file, mod_rs)
            }
            Child::Include { base: at, under } => (base(at, under), true),
        }
    }
}

/// The files `text` names through `mod name;`, `#[path]` and `include!`, wherever the file
/// sits in a module tree.
pub(crate) fn children(text: &str) -> Vec<Child> {
    let positions = child_candidates(text);
    if positions.is_empty() {
        return Vec::new();
    }
    let mut found = Vec::new();
    // Only the items holding a candidate are lexed, each run of them on its own (see
    // `skim`); the whole file when it does not skim cleanly or they do not lex.
    let items = super::skim::skim(text).and_then(|skimmed| {
        let positions: Vec<usize> = positions
            .iter()
            .copied()
            .filter(|&at| skimmed.in_code(at))
            .collect();
        super::skim::kept(&skimmed.ends, &positions)
            .into_iter()
            .map(|range| text[range].parse::<TokenStream>().ok())
            .collect::<Option<Vec<_>>>()
    });
    let dir = (Base::Dir, PathBuf::new());
    let module_dir = (Base::ModuleDir, PathBuf::new());
    match items.map_or_else(
        || text.parse::<TokenStream>().map(|stream| vec![stream]),
        Ok,
    ) {
        Ok(streams) => {
            for stream in streams {
                collect(stream, &dir, &module_dir, &mut found);
            }
        }
        Err(_) => collect_lines(text, &mut found),
    }
    // No span of this file outlives `collect`: free the lexer's copy of the text.
    proc_macro2::extra::invalidate_current_thread_spans();
    found
}

/// Where `text` may name another file: an out-of-line `mod name;` or an `include!`, found
/// as text (so also in comments and strings: the test is conservative). Files without any
/// are not lexed — inline `mod name { ... }` blocks and `#[path]` only matter around a
/// `mod name;` — which keeps module discovery to a text search for most files.
fn child_candidates(text: &str) -> Vec<usize> {
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
    for at in memchr::memmem::find_iter(bytes, b"mod") {
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
        memchr::memmem::find_iter(bytes, b"include").filter(|&at| {
            (at == 0 || !ident(at - 1)) && bytes.get(skip_space(at + 7)) == Some(&b'!')
        }),
    );
    positions
}

/// A folder, relative to the file's folder or module folder.
type Location = (Base, PathBuf);

/// `dir` is where `#[path]` and `include!` paths are relative to; `module_dir` is where
/// `mod name;` looks for `name.rs` and `name/mod.rs`.
fn collect(stream: TokenStream, dir: &Location, module_dir: &Location, found: &mut Vec<Child>) {
    let tokens: Vec<TokenTree> = stream.into_iter().collect();
    let mut path_attr: Option<String> = None;
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            TokenTree::Punct(punct) if punct.as_char() == '#' => {
                if let Some(TokenTree::Group(group)) = tokens.get(i + 1)
                    && group.delimiter() == Delimiter::Bracket
                {
                    if let Some(path) = path_attribute(group.stream()) {
                        path_attr = Some(path);
                    }
                    i += 2;
                    continue;
                }
            }
            TokenTree::Punct(punct) if punct.as_char() == ';' => path_attr = None,
            TokenTree::Ident(ident) if ident == "mod" => {
                if let Some(TokenTree::Ident(name)) = tokens.get(i + 1) {
                    let name = name.to_string();
                    let name = name.strip_prefix("r#").unwrap_or(&name).to_owned();
                    match tokens.get(i + 2) {
                        Some(TokenTree::Punct(punct)) if punct.as_char() == ';' => {
                            found.push(match path_attr.take() {
                                Some(path) => Child::PathMod {
                                    base: dir.0,
                                    under: dir.1.join(path),
                                },
                                None => Child::Mod {
                                    base: module_dir.0,
                                    under: module_dir.1.clone(),
                                    name,
                                },
                            });
                            i += 3;
                            continue;
                        }
                        Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Brace => {
                            let inner = match path_attr.take() {
                                Some(path) => (dir.0, dir.1.join(path)),
                                None => (module_dir.0, module_dir.1.join(&name)),
                            };
                            collect(group.stream(), &inner, &inner, found);
                            i += 3;
                            continue;
                        }
                        _ => {}
                    }
                }
            }
            TokenTree::Ident(ident) if ident == "include" => {
                if let (Some(TokenTree::Punct(bang)), Some(TokenTree::Group(group))) =
                    (tokens.get(i + 1), tokens.get(i + 2))
                    && bang.as_char() == '!'
                    && let Some(TokenTree::Literal(literal)) = group.stream().into_iter().next()
                    && let syn::Lit::Str(path) = syn::Lit::new(literal)
                {
                    found.push(Child::Include {
                        base: dir.0,
                        under: dir.1.join(path.value()),
                    });
                }
            }
            TokenTree::Group(group) if group.delimiter() == Delimiter::Brace => path_attr = None,
            _ => {}
        }
        i += 1;
    }
}

/// `module_dir/name.rs`, else `module_dir/name/mod.rs`.
fn module_file(module_dir: &Path, name: &str, is_file: &dyn Fn(&Path) -> bool) -> PathBuf {
    let flat = module_dir.join(format!("{name}.rs"));
    if is_file(&flat) {
        flat
    } else {
        module_dir.join(name).join("mod.rs")
    }
}

/// The path of a `path = "..."` attribute.
fn path_attribute(stream: TokenStream) -> Option<String> {
    let mut inner = stream.into_iter();
    match (inner.next(), inner.next(), inner.next(), inner.next()) {
        (
            Some(TokenTree::Ident(key)),
            Some(TokenTree::Punct(eq)),
            Some(TokenTree::Literal(literal)),
            None,
        ) if key == "path" && eq.as_char() == '=' => match syn::Lit::new(literal) {
            syn::Lit::Str(path) => Some(path.value()),
            _ => None,
        },
        _ => None,
    }
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
            found.push(Child::Mod {
                base: Base::ModuleDir,
                under: PathBuf::new(),
                name: name.to_owned(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The module tree of `src/main.rs` in a folder holding `files`, relative to it.
    fn tree(files: &[(&str, &str)]) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let reached = reachable(&[dir.path().join("src/main.rs")], &Path::is_file, |path| {
            std::fs::read_to_string(path)
                .ok()
                .map(|text| children(&text))
        });
        let mut found: Vec<String> = reached
            .iter()
            .filter(|path| path.is_file())
            .map(|path| {
                let path = super::super::files::normalize(path);
                let path = path.strip_prefix(dir.path()).unwrap().to_owned();
                path.to_string_lossy().replace('\\', "/")
            })
            .collect();
        found.sort();
        found
    }

    #[test]
    fn resolves_mod_path_inline_modules_and_include_as_rustc_does() {
        let found = tree(&[
            (
                "src/main.rs",
                "mod flat;\nmod nested;\n#[path = \"elsewhere/p.rs\"]\nmod by_path;\n\
                 mod inline {\n    mod inner;\n    #[path = \"q.rs\"]\n    mod q;\n}\n\
                 include!(\"included.rs\");\nfn f() { let _ = \"mod not_a_module;\"; }\n",
            ),
            ("src/flat.rs", "pub mod child;\n"),
            ("src/flat/child.rs", ""),
            ("src/nested/mod.rs", "mod deeper;\n"),
            ("src/nested/deeper.rs", ""),
            ("src/elsewhere/p.rs", ""),
            ("src/inline/inner.rs", ""),
            ("src/inline/q.rs", ""),
            ("src/included.rs", ""),
            ("src/not_a_module.rs", ""),
            ("src/orphan.rs", ""),
        ]);
        assert_eq!(
            found,
            [
                "src/elsewhere/p.rs",
                "src/flat.rs",
                "src/flat/child.rs",
                "src/included.rs",
                "src/inline/inner.rs",
                "src/inline/q.rs",
                "src/main.rs",
                "src/nested/deeper.rs",
                "src/nested/mod.rs",
            ]
        );
    }

    #[test]
    fn a_file_that_does_not_lex_still_names_its_modules() {
        let found = tree(&[
            ("src/main.rs", "mod ok;\nfn broken() {\n"),
            ("src/ok.rs", ""),
        ]);
        assert_eq!(found, ["src/main.rs", "src/ok.rs"]);
    }
}
