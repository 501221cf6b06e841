//! Names in the local override files (`.secrets.local.toml`, `.secrets.local.cue`) and the
//! names given to the run-time resolver follow the one naming rule: a name is never a path,
//! a line break or a variable assignment. `.secrets.local.cue` follows CUE's meaning
//! (definitions and hidden fields are not secrets, a field given twice must agree) and its
//! errors never quote a value.

use std::collections::HashMap;
use std::ffi::OsString;
use std::sync::Arc;

use crate::store_support::{Ws, ok};
use secret_core::secrecy::ExposeSecret;
use secret_runtime::Resolver;

fn workspace() -> Ws {
    let mut ws = Ws::new();
    let key = ws.key("me");
    ws.use_key(&key);
    ws.config("", &format!("local = [\"{}\"]", key.public));
    ws
}

/// Regression: `"../outside/escaped"` made `export dir:` write outside its folder, and
/// `"X\nINJECTED"` or `"A=B"` added variables to dotenv output and `run`'s child.
#[test]
fn an_override_name_that_is_not_a_secret_name_is_refused() {
    let ws = workspace();
    let out_dir = ws.home.path().join("out");
    let dir_target = format!("dir:{}", out_dir.display());
    for (file, text, shown) in [
        (
            ".secrets.local.toml",
            "Fine = \"ok\"\n\"../outside/escaped\" = \"value-one\"\n",
            "`../outside/escaped`",
        ),
        (
            ".secrets.local.toml",
            "\"X\\nINJECTED\" = \"value-one\"\n",
            "`X\\nINJECTED`",
        ),
        (".secrets.local.toml", "\"A=B\" = \"value-one\"\n", "`A=B`"),
        (
            ".secrets.local.cue",
            "Fine: \"ok\"\n\"../outside/escaped\": \"value-one\"\n",
            "`../outside/escaped`",
        ),
        (
            ".secrets.local.cue",
            "\"X\\nINJECTED\": \"value-one\"\n",
            "`X\\nINJECTED`",
        ),
    ] {
        let _ = std::fs::remove_file(ws.root().join(".secrets.local.toml"));
        let _ = std::fs::remove_file(ws.root().join(".secrets.local.cue"));
        ws.write(file, text);
        let line = text.lines().count();
        for args in [
            &["export", "--env", "local", "--format", "dotenv"][..],
            &["export", "--env", "local", "--format", &dir_target][..],
        ] {
            let out = ws.secret(args, "");
            assert_eq!(out.code, 2, "{file} {args:?}: {}", out.all());
            assert!(
                out.stderr.contains(&format!(
                    "{file}:{line}: {shown} is not a valid secret name"
                )),
                "{}",
                out.stderr
            );
            assert!(
                out.stderr
                    .contains("a secret name starts with an ASCII letter")
            );
            assert!(out.stdout.is_empty(), "{}", out.stdout);
            assert!(!out.all().contains("value-one"));
            assert!(!ws.home.path().join("outside").exists());
        }
    }
}

/// Regression: the public `Resolver::resolve(name)` read `$SECRETS_DIR/../x` and absolute
/// paths.
#[test]
fn the_resolver_refuses_a_name_that_is_a_path() {
    let ws = Ws::new();
    let secrets = ws.home.path().join("secrets");
    std::fs::create_dir_all(&secrets).unwrap();
    std::fs::write(ws.home.path().join("outside"), "not-a-secret").unwrap();
    std::fs::write(secrets.join("Inside"), "inside-value").unwrap();
    let mut vars: HashMap<String, OsString> = HashMap::new();
    vars.insert("SECRETS_DIR".into(), secrets.clone().into());
    vars.insert("SECRETS_WORKSPACE".into(), ws.root().into());
    let resolver =
        Resolver::from_vars(Arc::new(move |name| vars.get(name).cloned()), None, None).unwrap();
    assert_eq!(
        resolver.resolve("Inside").unwrap().expose_secret(),
        "inside-value"
    );
    let outside = ws.home.path().join("outside");
    for name in ["../outside", outside.to_str().unwrap(), "A=B", ""] {
        let error = resolver.resolve(name).unwrap_err();
        assert!(
            error.to_string().ends_with(
                "is not a valid secret name; a secret name starts with an ASCII letter, then ASCII letters, digits or `_`, at most 128 characters"
            ),
            "{name}: {error}"
        );
        assert!(!error.to_string().contains("not-a-secret"));
    }
}

/// Regression: errors quoted up to 8 characters of a value (a leak into a terminal or CI
/// log); `#Note` and `_hidden` were exported as secrets; a field given twice silently kept
/// its last value.
#[test]
fn cue_overrides_follow_cue_and_never_quote_a_value() {
    let ws = workspace();
    for (text, message) in [
        (
            "Token: \"ab\\uZZ9hunter\"\n",
            ".secrets.local.cue:1: a `\\u` escape needs 4 hex digits",
        ),
        (
            "Token: \"ab\\Uhunter12\"\n",
            ".secrets.local.cue:1: a `\\U` escape needs 8 hex digits",
        ),
        (
            "Token: \"ab\\qhunter\"\n",
            ".secrets.local.cue:1: unknown escape after `\\`",
        ),
        (
            "Token: \"abc\"\"hunter\"\n",
            ".secrets.local.cue:1: a `\"` after the value of Token",
        ),
        (
            "Token: \"abc\" hunter\n",
            ".secrets.local.cue:1: more text after the value of Token",
        ),
        (
            "Token: \"one\"\nhunter2\n",
            ".secrets.local.cue:2: expected `:` after the field name",
        ),
        (
            "Token: \"one\"\n9hunter\n",
            ".secrets.local.cue:2: the field name is not a valid secret name",
        ),
        (
            "Token: \"one\"\n%hunter\n",
            ".secrets.local.cue:2: expected a field such as",
        ),
        (
            "Token: \"one\"\n// again\nToken: \"hunter\"\n",
            ".secrets.local.cue:3: Token is set again with a different value (first set on line 1)",
        ),
    ] {
        ws.write(".secrets.local.cue", text);
        let out = ws.secret(&["export", "--env", "local", "--format", "dotenv"], "");
        assert_eq!(out.code, 2, "{text}: {}", out.all());
        assert!(out.stderr.contains(message), "{text}: {}", out.stderr);
        for part in ["hunter", "ZZ9", "Uhun"] {
            assert!(!out.stderr.contains(part), "{part} quoted: {}", out.stderr);
        }
    }
    ws.write(
        ".secrets.local.cue",
        "#Note: \"a definition\"\n_draft: \"hidden\"\nToken: \"same\"\nToken: \"same\"\n",
    );
    let out = ws.secret(&["export", "--env", "local", "--format", "dotenv"], "");
    ok(&out);
    assert_eq!(out.stdout.trim(), "SECRET_Token='same'", "{}", out.stdout);
}
