//! The token walk behind [`super::children_at`] and [`super::invocations`]: what one file's
//! items declare (`mod name;`, `#[path]`, `#[cfg_attr(.., path = "..")]`, inline modules,
//! `include!`), including the items inside macro invocations, and the `macro_rules!`
//! definitions whose expansion declares modules.

use std::collections::BTreeSet;
use std::path::PathBuf;

use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};

use super::{Base, Child, Location};

/// Where [`collect`] is: how far it reads into nested groups.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Context {
    /// A file or an inline module's block: the items of a module. The braces of items
    /// (function bodies, `impl` blocks, ...) are not read: a `mod name;` there is no module
    /// of this file (rustc accepts none without `#[path]`).
    Items,
    /// The input of a macro invoked where an item can stand (`cfg_if! { ... }`, a crate's
    /// own `cfg_rt! { mod runtime; }`), or the body of a `macro_rules!` definition: the
    /// grammar is the macro's own, so the items may sit in nested braces too
    /// (`if #[cfg(unix)] { mod unix; }`, `() => { mod x; }`); those are read, except the
    /// bodies of the items written there (`fn`, `impl`, ...).
    MacroInput,
    /// The body of a function (or another item's braces): no module is declared there
    /// except with `#[path]` (`fn f() { #[path = "../utils/lazy.rs"] mod lazy; }`), and a
    /// file can be included (`let table = include!("table.rs");`). Macros invoked there are
    /// not read (`quote! { mod m; }`).
    Block,
}

/// What [`collect`] records besides files.
pub(super) struct Walk<'a> {
    /// The macros whose item-position invocations are wanted ([`Child::Invoke`]).
    pub(super) invocations_of: Option<&'a BTreeSet<String>>,
    pub(super) found: Vec<Child>,
}

/// Keywords starting an item whose braces hold no item of the module.
const ITEM_KEYWORDS: &[&str] = &[
    "fn", "impl", "trait", "struct", "enum", "union", "static", "const", "type", "extern", "let",
];

/// Collects the [`Child`] references of one token level. `dir` is where `#[path]` and
/// `include!` paths are relative to; `module_dir` is where `mod name;` looks for `name.rs`
/// and `name/mod.rs`.
///
/// A macro invoked where an item can stand (at the start, after a `;`, a `}` or an
/// attribute) has its input read as [`Context::MacroInput`]: modules declared in `cfg_if!`,
/// in a crate's own `macro_rules!` wrappers and in invocations nested in those are
/// followed, as the compiler follows them once it has expanded the macro (under any `cfg`:
/// the check covers every target). A macro invoked where an expression or a type stands
/// (`const X: T = quote! { mod m; };`) is not read: its tokens are no item of this module.
/// A `macro_rules!` body that declares modules becomes a [`Child::Template`]: its modules
/// belong to the module where the macro is invoked.
pub(super) fn collect(
    stream: TokenStream,
    dir: &Location,
    module_dir: &Location,
    context: Context,
    walk: &mut Walk<'_>,
) {
    let tokens: Vec<TokenTree> = stream.into_iter().collect();
    // `#[path = "..."]` on the item being read, and the paths of `#[cfg_attr(.., path = "..")]`.
    let mut path_attr: Option<String> = None;
    let mut cfg_paths: Vec<String> = Vec::new();
    // Whether an item can start here.
    let mut item_start = true;
    // Whether the next braces belong to an item whose body is not read (`fn`, `impl`, ...).
    let mut in_item = false;
    let mut i = 0;
    while i < tokens.len() {
        let at_start = std::mem::replace(&mut item_start, false);
        match &tokens[i] {
            TokenTree::Punct(punct) if punct.as_char() == '#' => {
                let bang =
                    matches!(tokens.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!');
                let group_at = i + 1 + usize::from(bang);
                if let Some(TokenTree::Group(group)) = tokens.get(group_at)
                    && group.delimiter() == Delimiter::Bracket
                {
                    attribute(group.stream(), &mut path_attr, &mut cfg_paths);
                    item_start = at_start;
                    i = group_at + 1;
                    continue;
                }
            }
            TokenTree::Punct(punct) if punct.as_char() == ';' => {
                path_attr = None;
                cfg_paths.clear();
                item_start = true;
                in_item = false;
            }
            TokenTree::Ident(ident) if ident == "mod" => {
                if let Some(TokenTree::Ident(name)) = tokens.get(i + 1) {
                    let name = name.to_string();
                    let name = name.strip_prefix("r#").unwrap_or(&name).to_owned();
                    match tokens.get(i + 2) {
                        Some(TokenTree::Punct(punct)) if punct.as_char() == ';' => {
                            let by_path = |path: String| Child::PathMod {
                                base: dir.0,
                                under: dir.1.join(path),
                            };
                            match path_attr.take() {
                                Some(path) => walk.found.push(by_path(path)),
                                // rustc refuses `mod name;` in a block without `#[path]`.
                                None if context == Context::Block => {
                                    walk.found.extend(cfg_paths.drain(..).map(by_path));
                                }
                                None => {
                                    // Each `cfg_attr` path is the module's file under its
                                    // `cfg`; `name.rs` where none holds.
                                    walk.found.extend(cfg_paths.drain(..).map(by_path));
                                    walk.found.push(Child::Mod {
                                        base: module_dir.0,
                                        under: module_dir.1.clone(),
                                        name,
                                    });
                                }
                            }
                            cfg_paths.clear();
                            item_start = true;
                            in_item = false;
                            i += 3;
                            continue;
                        }
                        Some(TokenTree::Group(group))
                            if group.delimiter() == Delimiter::Brace
                                && context != Context::Block =>
                        {
                            let inner = match path_attr.take() {
                                Some(path) => (dir.0, dir.1.join(path)),
                                None => (module_dir.0, module_dir.1.join(&name)),
                            };
                            collect(group.stream(), &inner, &inner, Context::Items, walk);
                            cfg_paths.clear();
                            item_start = true;
                            in_item = false;
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
                {
                    if let Some(TokenTree::Literal(literal)) = group.stream().into_iter().next()
                        && let syn::Lit::Str(path) = syn::Lit::new(literal)
                    {
                        walk.found.push(Child::Include {
                            base: dir.0,
                            under: dir.1.join(path.value()),
                        });
                    }
                    item_start = group.delimiter() == Delimiter::Brace;
                    i += 3;
                    continue;
                }
            }
            TokenTree::Ident(ident) if ident == "macro_rules" => {
                if let (Some(TokenTree::Punct(bang)), Some(TokenTree::Ident(name))) =
                    (tokens.get(i + 1), tokens.get(i + 2))
                    && bang.as_char() == '!'
                    && let Some(TokenTree::Group(body)) = tokens.get(i + 3)
                {
                    template(name.to_string(), body, walk);
                    item_start = body.delimiter() == Delimiter::Brace;
                    i += 4;
                    continue;
                }
            }
            TokenTree::Ident(_) | TokenTree::Punct(_) => {
                if let Some((name, group, next)) = invocation(&tokens, i) {
                    if at_start && context != Context::Block {
                        if walk
                            .invocations_of
                            .is_some_and(|names| names.contains(&name))
                        {
                            walk.found.push(Child::Invoke {
                                name,
                                dir: dir.clone(),
                                module_dir: module_dir.clone(),
                            });
                        }
                        collect(group.stream(), dir, module_dir, Context::MacroInput, walk);
                    }
                    path_attr = None;
                    cfg_paths.clear();
                    item_start = at_start && group.delimiter() == Delimiter::Brace;
                    i = next;
                    continue;
                }
                if let TokenTree::Ident(ident) = &tokens[i] {
                    let word = ident.to_string();
                    in_item |= ITEM_KEYWORDS.contains(&word.as_str());
                    // Visibility and `unsafe` come before an item too.
                    item_start = at_start && matches!(word.as_str(), "pub" | "unsafe");
                }
            }
            TokenTree::Group(group) => {
                let item_end = group.delimiter() == Delimiter::Brace;
                if context == Context::Block || (item_end && in_item) {
                    collect(group.stream(), dir, module_dir, Context::Block, walk);
                } else if item_end && context == Context::MacroInput {
                    collect(group.stream(), dir, module_dir, Context::MacroInput, walk);
                }
                if item_end {
                    path_attr = None;
                    cfg_paths.clear();
                    in_item = false;
                }
                // `pub(crate)`: an item can still start after it.
                item_start = item_end || (at_start && group.delimiter() == Delimiter::Parenthesis);
            }
            TokenTree::Literal(_) => {}
        }
        i += 1;
    }
}

/// `macro_rules! name { body }`: a [`Child::Template`] when the body declares modules or
/// includes files, relative to wherever the macro is invoked (`macro_rules! crate_root {
/// () => { mod de; mod ser; } }` then `crate_root!();`).
fn template(name: String, body: &Group, walk: &mut Walk<'_>) {
    let mut inner = Walk {
        invocations_of: None,
        found: Vec::new(),
    };
    collect(
        body.stream(),
        &(Base::Dir, PathBuf::new()),
        &(Base::ModuleDir, PathBuf::new()),
        Context::MacroInput,
        &mut inner,
    );
    let children: Vec<Child> = inner
        .found
        .into_iter()
        .filter(|child| {
            matches!(
                child,
                Child::Mod { .. } | Child::PathMod { .. } | Child::Include { .. }
            )
        })
        .collect();
    if !children.is_empty() {
        walk.found.push(Child::Template { name, children });
    }
}

/// The macro invocation whose path starts at `tokens[start]` (`name!`, `a::b::name!`,
/// `::a::name!`, followed by a group): the macro's name, the group and the index after it.
fn invocation(tokens: &[TokenTree], start: usize) -> Option<(String, &Group, usize)> {
    let is_colon =
        |at: usize| matches!(tokens.get(at), Some(TokenTree::Punct(p)) if p.as_char() == ':');
    let mut i = start;
    if is_colon(i) && is_colon(i + 1) {
        i += 2;
    }
    let name = loop {
        let Some(TokenTree::Ident(segment)) = tokens.get(i) else {
            return None;
        };
        i += 1;
        if is_colon(i) && is_colon(i + 1) {
            i += 2;
        } else {
            break segment;
        }
    };
    match (tokens.get(i), tokens.get(i + 1)) {
        (Some(TokenTree::Punct(bang)), Some(TokenTree::Group(group))) if bang.as_char() == '!' => {
            Some((name.to_string(), group, i + 2))
        }
        _ => None,
    }
}

/// Reads an attribute's tokens: `path = "..."` sets `path`; the paths of
/// `cfg_attr(predicate, path = "...")` (nested ones too) are added to `cfg_paths`.
fn attribute(stream: TokenStream, path: &mut Option<String>, cfg_paths: &mut Vec<String>) {
    let mut inner = stream.into_iter();
    let Some(TokenTree::Ident(name)) = inner.next() else {
        return;
    };
    if name == "path" {
        if let (Some(TokenTree::Punct(eq)), Some(TokenTree::Literal(literal)), None) =
            (inner.next(), inner.next(), inner.next())
            && eq.as_char() == '='
            && let syn::Lit::Str(value) = syn::Lit::new(literal)
        {
            *path = Some(value.value());
        }
        return;
    }
    if name != "cfg_attr" {
        return;
    }
    let (Some(TokenTree::Group(args)), None) = (inner.next(), inner.next()) else {
        return;
    };
    if args.delimiter() != Delimiter::Parenthesis {
        return;
    }
    // The attributes after the predicate, split at the commas of this level.
    let mut attributes = Vec::new();
    let mut current = Vec::new();
    for token in args.stream() {
        match &token {
            TokenTree::Punct(comma) if comma.as_char() == ',' => {
                attributes.push(std::mem::take(&mut current));
            }
            _ => current.push(token),
        }
    }
    attributes.push(current);
    for tokens in attributes.into_iter().skip(1) {
        let mut nested = None;
        attribute(tokens.into_iter().collect(), &mut nested, cfg_paths);
        cfg_paths.extend(nested);
    }
}
