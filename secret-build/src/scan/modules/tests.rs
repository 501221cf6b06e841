//! The module trees of small source folders, against what rustc resolves.
use super::*;

/// The module tree of `src/main.rs` in a folder holding `files`, relative to it.
fn tree(files: &[(&str, &str)]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let reached = reachable(
        &[dir.path().join("src/main.rs")],
        &Path::is_file,
        |path| {
            std::fs::read_to_string(path)
                .ok()
                .map(|text| children_at(&text, &crate::scan::words::find(text.as_bytes()), None))
        },
        |path, names| {
            std::fs::read_to_string(path)
                .map(|text| invocations(&text, names))
                .unwrap_or_default()
        },
    );
    let mut found: Vec<String> = reached
        .iter()
        .filter(|path| path.is_file())
        .map(|path| {
            let path = super::super::paths::normalize(path);
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

#[test]
fn modules_declared_in_macro_invocations_are_followed() {
    let found = tree(&[
        (
            "src/main.rs",
            "use cfg_if::cfg_if;\n\
             macro_rules! cfg_rt { ($($item:item)*) => { $( #[cfg(feature = \"rt\")] $item )* } }\n\
             cfg_if! {\n    if #[cfg(unix)] {\n        mod unix;\n    } else if #[cfg(windows)] {\n        \
             #[path = \"sys/win.rs\"]\n        mod windows;\n    } else {\n        mod other;\n    }\n}\n\
             cfg_rt! {\n    pub(crate) mod runtime;\n    cfg_if::cfg_if! { if #[cfg(test)] { mod nested; } }\n}\n\
             ::cfg_if::cfg_if!(if #[cfg(all())] { mod parenthesised; });\n\
             #[cfg_attr(unix, path = \"sys/unix_impl.rs\")]\n#[cfg_attr(windows, path = \"sys/windows_impl.rs\")]\nmod imp;\n\
             include!(\"generated/decls.rs\");\n\
             cfg_rt! { fn f() { quote! { mod in_fn_body; } } }\n\
             const C: &str = stringify!(mod in_const;);\n\
             macro_rules! template { () => { mod in_macro_rules; }; }\n\
             // cfg_if! { mod in_comment; }\n\
             fn g() { let _ = \"cfg_rt! { mod in_string; }\"; }\n",
        ),
        ("src/unix.rs", ""),
        ("src/sys/win.rs", ""),
        ("src/other.rs", ""),
        ("src/runtime/mod.rs", "cfg_net! { mod net; }\n"),
        ("src/runtime/net.rs", ""),
        ("src/nested.rs", ""),
        ("src/parenthesised.rs", ""),
        ("src/sys/unix_impl.rs", ""),
        ("src/sys/windows_impl.rs", ""),
        ("src/imp.rs", ""),
        (
            "src/generated/decls.rs",
            "cfg_if! { if #[cfg(unix)] { mod from_include; } }\n",
        ),
        ("src/generated/from_include.rs", ""),
        // Decoys: none of these is a module of the crate.
        ("src/in_fn_body.rs", ""),
        ("src/in_const.rs", ""),
        ("src/in_macro_rules.rs", ""),
        ("src/in_comment.rs", ""),
        ("src/in_string.rs", ""),
        ("src/from_include.rs", ""),
        ("src/windows.rs", ""),
    ]);
    assert_eq!(
        found,
        [
            "src/generated/decls.rs",
            "src/generated/from_include.rs",
            "src/imp.rs",
            "src/main.rs",
            "src/nested.rs",
            "src/other.rs",
            "src/parenthesised.rs",
            "src/runtime/mod.rs",
            "src/runtime/net.rs",
            "src/sys/unix_impl.rs",
            "src/sys/win.rs",
            "src/sys/windows_impl.rs",
            "src/unix.rs",
        ]
    );
}

#[test]
fn modules_declared_by_an_invoked_macro_rules_resolve_where_it_is_invoked() {
    let found = tree(&[
        (
            "src/main.rs",
            "#[path = \"core/crate_root.rs\"]\nmod crate_root;\n\
             crate_root!();\nmod inline {\n    crate_root::wrapper! {}\n}\n",
        ),
        (
            "src/core/crate_root.rs",
            "macro_rules! crate_root {\n    () => {\n        mod de;\n        \
             #[cfg_attr(docsrs, path = \"core/private/mod.rs\")]\n        mod private;\n    };\n}\n\
             macro_rules! wrapper { ($($t:tt)*) => { #[path = \"wrapped.rs\"] mod w; }; }\n\
             macro_rules! never_invoked { () => { mod unused; }; }\n\
             mod sibling;\n",
        ),
        ("src/de.rs", "mod impls;\n"),
        ("src/de/impls.rs", ""),
        ("src/private/mod.rs", ""),
        ("src/core/private/mod.rs", ""),
        ("src/inline/wrapped.rs", ""),
        ("src/core/sibling.rs", ""),
        // Decoys: a macro never invoked, and the definition's own folder.
        ("src/unused.rs", ""),
        ("src/core/de.rs", ""),
    ]);
    assert_eq!(
        found,
        [
            "src/core/crate_root.rs",
            "src/core/private/mod.rs",
            "src/core/sibling.rs",
            "src/de.rs",
            "src/de/impls.rs",
            "src/inline/wrapped.rs",
            "src/main.rs",
            "src/private/mod.rs",
        ]
    );
}

#[test]
fn modules_with_a_path_and_files_included_in_function_bodies_are_followed() {
    let found = tree(&[
        ("src/main.rs", "mod backends;\n"),
        (
            "src/backends.rs",
            "pub fn fill() {\n    #[path = \"utils/lazy.rs\"]\n    mod lazy;\n    \
             let table = include!(\"table.rs\");\n    mod without_path;\n    \
             let _ = quote! { #[path = \"quoted.rs\"] mod quoted; };\n}\n\
             impl S {\n    fn g() {\n        if true {\n            \
             #[cfg_attr(unix, path = \"deep.rs\")]\n            mod deep;\n        }\n    }\n}\n",
        ),
        ("src/utils/lazy.rs", ""),
        ("src/table.rs", "[1, 2]\n"),
        ("src/deep.rs", ""),
        // Decoys: a block declares no module without a path; a macro's tokens are not read.
        ("src/backends/without_path.rs", ""),
        ("src/without_path.rs", ""),
        ("src/quoted.rs", ""),
        ("src/backends/deep.rs", ""),
    ]);
    assert_eq!(
        found,
        [
            "src/backends.rs",
            "src/deep.rs",
            "src/main.rs",
            "src/table.rs",
            "src/utils/lazy.rs",
        ]
    );
}

/// `mod name;` items read without the lexer give what the token walk gives, and anything
/// else (an attribute naming a path, an inline module, another item, a raw name, an
/// attribute the quick reading cannot follow) goes to the lexer.
#[test]
fn plain_mod_items_are_read_without_the_lexer_as_the_lexer_reads_them() {
    // As the caller passes them: each comment blanked.
    let plain = " \npub mod a;\n \npub(crate) mod b ;\npub ( in crate::x )mod c;\nmod d;\n";
    assert_eq!(simple_mods(plain).unwrap(), ["a", "b", "c", "d"]);
    let lexed = |code: &str| {
        let mut walk = Walk {
            invocations_of: None,
            found: Vec::new(),
        };
        let here = (Base::ModuleDir, PathBuf::new());
        let dir = (Base::Dir, PathBuf::new());
        items::collect(
            code.parse().unwrap(),
            &dir,
            &here,
            Context::Items,
            &mut walk,
        );
        walk.found
    };
    let code = "pub mod a;\npub(crate) mod b ;\npub(in crate::x)mod c;\nmod d;\n";
    let fast = |code: &str| -> Vec<Child> {
        simple_mods(code)
            .unwrap()
            .into_iter()
            .map(Child::module)
            .collect()
    };
    assert_eq!(fast(code), lexed(code));
    let attributed = "#[cfg(all(unix, feature = \"a;b]\"))]\n#[macro_use]\npub mod a;\n#![allow(x)] mod b;\n\
         #[cfg_attr(docsrs, doc(cfg(feature = \"c\")))]\npub mod c;";
    assert_eq!(simple_mods(attributed).unwrap(), ["a", "b", "c"]);
    assert_eq!(fast(attributed), lexed(attributed));
    for other in [
        "#[path = \"x.rs\"] mod a;",
        "#[cfg_attr(unix, path = \"x.rs\")] mod a;",
        "#[cfg(feature = r\"a\")] mod a;",
        "#[doc = \"\\\"\"] mod a;",
        "mod r#type;",
        "mod a { mod b; }",
        "use a::b; mod c;",
        "pubmod a;",
        "mod a",
        "cfg_if! { mod a; }",
    ] {
        assert_eq!(simple_mods(other), None, "{other}");
    }
}
