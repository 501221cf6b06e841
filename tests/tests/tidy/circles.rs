//! No import circle inside a crate: the edges between a crate's top-level modules
//! (`crate::` and `super::` paths, root re-exports) outside comments and test modules, and
//! their strongly connected components.

use super::reading::*;
use super::*;

/// The library crates: the folders `secret-*` with a `src/lib.rs`.
fn crates(files: &[SourceFile]) -> BTreeSet<String> {
    files
        .iter()
        .filter_map(|file| file.path.strip_suffix("/src/lib.rs"))
        .filter(|name| name.starts_with("secret-") && !name.contains('/'))
        .map(str::to_owned)
        .collect()
}

/// The module path inside the crate of a file under `src/` (`store/file.rs` is
/// `["store", "file"]`, `store/mod.rs` is `["store"]`, `lib.rs` is `[]`).
fn module_path(relative: &str) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_owned)
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// An import of one top-level module by another: where, and what.
#[derive(Debug, Clone)]
struct Edge {
    from: String,
    to: String,
    path: String,
    line: usize,
}

/// The names the crate root re-exports (`pub use store::{Store, Slot}` in `lib.rs`),
/// each with the top-level module it comes from.
fn root_reexports(lib: &str, modules: &BTreeSet<String>) -> BTreeMap<String, String> {
    let code = blank(lib, false);
    let mut names = BTreeMap::new();
    for (at, _) in occurrences(&code, &["use "]) {
        let end = code[at..].find(';').map_or(code.len(), |e| at + e);
        let tree: String = code[at + 4..end].split_whitespace().collect();
        let tree = tree
            .trim_start_matches("crate::")
            .trim_start_matches("self::");
        let Some(module) = tree.split("::").next() else {
            continue;
        };
        if !modules.contains(module) {
            continue;
        }
        for name in tree
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|name| !name.is_empty())
        {
            if !modules.contains(name) {
                names.entry(name.to_owned()).or_insert(module.to_owned());
            }
        }
    }
    names
}

/// The first segment of each path in the use tree or path starting at `at` (`{a::b, c}`
/// gives `a` and `c`; `store::Store` gives `store`).
fn first_segments(code: &str, at: usize) -> Vec<(usize, String)> {
    let bytes = code.as_bytes();
    let mut i = at;
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    if bytes.get(i) != Some(&b'{') {
        let end = bytes[i..]
            .iter()
            .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
            .map_or(bytes.len(), |e| i + e);
        return vec![(i, code[i..end].to_owned())];
    }
    let mut found = Vec::new();
    let mut depth = 0;
    let mut expecting = true;
    let mut j = i;
    while j < bytes.len() {
        match bytes[j] {
            b'{' => {
                depth += 1;
                expecting = depth == 1;
            }
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            b',' if depth == 1 => expecting = true,
            b if expecting && (b.is_ascii_alphabetic() || b == b'_') => {
                let end = bytes[j..]
                    .iter()
                    .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
                    .map_or(bytes.len(), |e| j + e);
                found.push((j, code[j..end].to_owned()));
                expecting = false;
                j = end;
                continue;
            }
            _ => {}
        }
        j += 1;
    }
    found
}

/// The imports between the top-level modules of each crate: paths through `crate::` and
/// through `super::` back to the crate root, outside comments and `#[cfg(test)]` items.
fn imports(files: &[SourceFile]) -> BTreeMap<String, Vec<Edge>> {
    let mut graph = BTreeMap::new();
    for krate in crates(files) {
        let src = format!("{krate}/src/");
        let sources: Vec<(&SourceFile, Vec<String>)> = files
            .iter()
            .filter_map(|file| {
                let relative = file.path.strip_prefix(&src)?;
                (relative.ends_with(".rs") && !relative.starts_with("bin/"))
                    .then(|| (file, module_path(relative)))
            })
            .collect();
        let modules: BTreeSet<String> = sources
            .iter()
            .filter_map(|(_, path)| path.first().cloned())
            .collect();
        let lib = sources
            .iter()
            .find(|(_, path)| path.is_empty())
            .map_or("", |(file, _)| file.text.as_str());
        let reexports = root_reexports(lib, &modules);
        let mut edges = Vec::new();
        for (file, path) in &sources {
            let Some(from) = path.first() else { continue };
            let code = without_tests(&blank(&file.text, false));
            let bytes = code.as_bytes();
            for (at, word) in occurrences(&code, &["crate::", "super::"]) {
                if at > 0 && bytes[at - 1] == b'$' {
                    continue;
                }
                // Walk `super::super::…` up from the file's module to the crate root.
                let mut after = at + word.len();
                let mut depth = path.len();
                if word == "super::" {
                    depth -= 1;
                    while code[after..].starts_with("super::") {
                        depth = depth.saturating_sub(1);
                        after += "super::".len();
                    }
                    if depth > 0 {
                        continue;
                    }
                }
                for (_, segment) in first_segments(&code, after) {
                    let to = if modules.contains(&segment) {
                        segment
                    } else if let Some(module) = reexports.get(&segment) {
                        module.clone()
                    } else {
                        continue;
                    };
                    if &to != from {
                        edges.push(Edge {
                            from: from.clone(),
                            to,
                            path: file.path.clone(),
                            line: line_of(&code, at),
                        });
                    }
                }
            }
        }
        graph.insert(krate, edges);
    }
    graph
}

/// The strongly connected components of more than one module (Tarjan's algorithm).
fn circles(edges: &[Edge]) -> Vec<Vec<String>> {
    struct Tarjan<'a> {
        next: BTreeMap<&'a str, BTreeSet<&'a str>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    impl<'a> Tarjan<'a> {
        fn visit(&mut self, node: &'a str) {
            let index = self.index.len();
            self.index.insert(node, index);
            self.low.insert(node, index);
            self.stack.push(node);
            self.on_stack.insert(node);
            let next: Vec<&str> = self
                .next
                .get(node)
                .map(|set| set.iter().copied().collect())
                .unwrap_or_default();
            for to in next {
                if !self.index.contains_key(to) {
                    self.visit(to);
                    let low = self.low[node].min(self.low[to]);
                    self.low.insert(node, low);
                } else if self.on_stack.contains(to) {
                    let low = self.low[node].min(self.index[to]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut members = Vec::new();
                loop {
                    let member = self.stack.pop().unwrap();
                    self.on_stack.remove(member);
                    members.push(member.to_owned());
                    if member == node {
                        break;
                    }
                }
                if members.len() > 1 {
                    members.sort();
                    self.found.push(members);
                }
            }
        }
    }
    let mut tarjan = Tarjan {
        next: BTreeMap::new(),
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for edge in edges {
        tarjan.next.entry(&edge.from).or_default().insert(&edge.to);
    }
    let nodes: Vec<&str> = tarjan.next.keys().copied().collect();
    for node in nodes {
        if !tarjan.index.contains_key(node) {
            tarjan.visit(node);
        }
    }
    tarjan.found.sort();
    tarjan.found
}

/// Each circle of imports among a crate's top-level modules, with its members and the
/// imports that close it.
fn no_import_circle(files: &[SourceFile]) -> Vec<Violation> {
    let mut violations = Vec::new();
    for (krate, edges) in imports(files) {
        for members in circles(&edges) {
            let inside: Vec<&Edge> = edges
                .iter()
                .filter(|edge| members.contains(&edge.from) && members.contains(&edge.to))
                .collect();
            let mut seen = BTreeSet::new();
            let list: Vec<String> = inside
                .iter()
                .filter(|edge| seen.insert((&edge.from, &edge.to)))
                .map(|edge| format!("{} -> {} ({}:{})", edge.from, edge.to, edge.path, edge.line))
                .collect();
            violations.push(Violation {
                path: format!("{krate}/src"),
                line: inside.first().map_or(0, |edge| edge.line),
                message: format!(
                    "the modules {} import each other in a circle: {}; move what they share \
                     into one of them or a module below both",
                    members.join(", "),
                    list.join(", ")
                ),
            });
        }
    }
    violations
}

#[test]
fn no_import_circle_inside_a_crate() {
    let tree = tree();
    // The reader sees the imports it judges: secret-core's modules use each other a lot.
    let graph = imports(&tree);
    assert!(graph.len() >= 7, "{:?}", graph.keys());
    assert!(
        graph["secret-core"].len() > 50,
        "{:?}",
        graph["secret-core"]
    );
    assert_tidy("no import circle inside a crate", no_import_circle(&tree));
}

#[test]
fn no_import_circle_fails_on_two_modules_importing_each_other() {
    let broken = copy(&[
        (
            "secret-core/src/lib.rs",
            "//! Core.\npub mod store;\npub mod edit;\npub mod text;\npub mod trust;\npub use trust::Trust;\n",
        ),
        (
            "secret-core/src/store/mod.rs",
            "//! Store.\nuse crate::{text::escape, edit::plan};\n",
        ),
        (
            "secret-core/src/store/file.rs",
            "//! Store file.\nuse super::Slot;\nuse super::super::Trust;\n",
        ),
        (
            "secret-core/src/edit/mod.rs",
            "//! Edit.\n// use crate::text::escape;\nfn f() { crate::store::Store::load(); }\n",
        ),
        (
            "secret-core/src/trust.rs",
            "//! Trust.\nuse crate::{text, edit::plan};\n#[cfg(test)]\nmod tests {\n    use crate::store::Store;\n}\n",
        ),
        (
            "secret-core/src/text.rs",
            "//! Text.\nfn f() { let _ = \"crate::store\"; }\n",
        ),
    ]);
    let violations = no_import_circle(&broken);
    assert_eq!(violations.len(), 1, "{violations:?}");
    let message = &violations[0].message;
    assert!(
        message.contains("the modules edit, store, trust import each other in a circle"),
        "{message}"
    );
    assert!(
        message.contains("edit -> store (secret-core/src/edit/mod.rs:3)"),
        "{message}"
    );
    assert!(
        message.contains("store -> edit (secret-core/src/store/mod.rs:2)"),
        "{message}"
    );
    assert!(
        message.contains("store -> trust (secret-core/src/store/file.rs:3)"),
        "{message}"
    );
    assert!(
        message.contains("trust -> edit (secret-core/src/trust.rs:2)"),
        "{message}"
    );
    assert!(!message.contains("-> text"), "{message}");
}
