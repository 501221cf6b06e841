//! Attack 9: the build gate. A production value that is present in the store but refused by
//! every reader must fail a production build, as it fails the check and the service.

use secret_tests::{FIXTURE_PROFILE, repo, shared_deps, target_dir};

use super::*;

/// `cargo <args>` in `ws` with `SECRETS_ENV=prod`, sharing this repository's target
/// directory (the dependencies compiled for the suite are reused).
fn cargo(ws: &Ws, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO"))
        .current_dir(ws.root())
        .args(args)
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("RUSTFLAGS")
        .env_remove("SECRETS_BUILD_CHECK")
        .env("SECRETS_ENV", "prod")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// Tests of the slow tier (ignored by a plain `cargo test`; see `tests/tests/main.rs`).
mod slow {
    use super::*;

    /// A production value whose signature does not verify counts as no value for the build:
    /// `SECRETS_ENV=prod` fails both the `secret!` macro's check and the build-script helper,
    /// naming the secret, as the keyless check and every reader refuse it.
    #[test]
    #[ignore = "slow: builds a separate workspace with cargo, which compiles this repository's crates again; .ci/run runs it (`cargo test -p secret-tests --test suite ::slow:: -- --ignored`)"]
    fn refused_production_value_fails_the_prod_build() {
        let mut ws = Ws::new();
        let ops = ws.key("ops");
        let runtime = repo().join("secret-runtime");
        let build = repo().join("secret-build");
        ws.write(
        "Cargo.toml",
        &format!(
            "[workspace]\nresolver = \"3\"\nmembers = [\"app\", \"scripted\"]\n{FIXTURE_PROFILE}"
        ),
    );
        for dir in ["app/src", "scripted/src"] {
            std::fs::create_dir_all(ws.root().join(dir)).unwrap();
        }
        ws.write(
        "app/Cargo.toml",
        &format!("[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\nsecret-runtime = {{ path = {runtime:?} }}\n{}", shared_deps()),
    );
        ws.write(
        "app/src/main.rs",
        "static TOKEN: secret_runtime::Secret = secret_runtime::secret!(\"Token\");\n\nfn main() {\n    println!(\"{TOKEN:?}\");\n}\n",
    );
        ws.write(
        "scripted/Cargo.toml",
        &format!(
            "[package]\nname = \"scripted\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\nsecret-runtime = {{ path = {runtime:?} }}\n\n[build-dependencies]\nsecret-build = {{ path = {build:?}, default-features = false, features = [\"build-helper\"] }}\n{}",
            shared_deps(),
        ),
    );
        ws.write(
            "scripted/build.rs",
            "fn main() {\n    secret_build::build::check();\n}\n",
        );
        ws.write(
        "scripted/src/main.rs",
        "static TOKEN: secret_runtime::Secret = secret_runtime::secret!(\"Token\");\n\nfn main() {\n    println!(\"{TOKEN:?}\");\n}\n",
    );
        std::fs::copy(repo().join("Cargo.lock"), ws.root().join("Cargo.lock")).unwrap();
        ws.write(
            "secrets.toml",
            &format!("[recipients]\nproduction = [\"{}\"]\n", ops.public),
        );
        ws.use_key(&ops);
        ok(&ws.secret(&["set", "--type", "prod", "Token"], "prod-1"));
        repository(&mut ws);
        for args in [["build", "-p", "app"], ["build", "-p", "scripted"]] {
            let out = cargo(&ws, &args);
            assert!(
                out.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }

        // The value encrypted by hand, the signature kept: present, and refused.
        let text = store_text(&ws);
        let old = table(&text, PROD);
        let from = old.find("value = \"\"\"\n").unwrap() + 12;
        let to = from + old[from..].find("\"\"\"").unwrap();
        let armor = store_support::age_encrypt(&[&ops.public], "attacker-value");
        let forged = format!("{}{}\n{}", &old[..from], armor.trim_end(), &old[to..]);
        std::fs::write(ws.store_path(), with_table(&text, PROD, Some(&forged))).unwrap();
        commit(&ws, "rotate");
        every_reader_refuses(
            &ws,
            "prod",
            "Token",
            &["its signature does not verify"],
            "attacker-value",
        );
        let out = cargo(&ws, &["build", "-p", "app"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "the macro accepted it: {stderr}");
        assert!(stderr.contains("secret `Token`"), "{stderr}");
        let out = cargo(&ws, &["build", "-p", "scripted"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "the build script accepted it: {stderr}"
        );
        assert!(stderr.contains("secret `Token`"), "{stderr}");
    }
}
