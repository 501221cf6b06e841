#!/usr/bin/env python3
"""Workspace generators for the benchmarks (bench/run.sh); standard library only.

- `registry`: the sources of the crates in this project's dependency trees and those of
  bench/registry-crates (about 300, from ~/.cargo/registry/src, found through
  `cargo metadata`), one member crate per dependency
  with a generated dependency-free Cargo.toml (so `cargo metadata --no-deps` works offline),
  with `secret!` declarations appended to every Nth `.rs` file.
- `synthetic`: N member crates of M modules each, deterministic Rust-like code, a
  declaration in every Kth module.
- `macro`: a workspace with `decl` (1,000 `secret!` statics), `noop` (the same 1,000
  statics through `noop_macro`, a proc macro without dependencies that emits what `secret!`
  emits without parsing or checking anything), `plain` (1,000 `&str` statics) and
  `listing` (a program with the 1,000 declarations that times `declarations()` and
  `check_all()`), all depending on secret-runtime, plus `secrets.toml`.
- `registries`: three programs with the same 1,000 declarations registered with
  `inventory`, with `linkme`, and not at all.
- `deps`: two tiny crates, one on secret-runtime (default features), one on secrecy.

Each prints one JSON line describing what it wrote.
"""

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys

SECRETS_TOML = "[environments]\n"


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def manifest(name, extra=""):
    return f'[package]\nname = "{name}"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n{extra}'


def workspace_manifest(members):
    lines = ",\n".join(f'    "{m}"' for m in members)
    return f'[workspace]\nresolver = "2"\nmembers = [\n{lines}\n]\n'


def declaration(index):
    return (
        f"\n/// Benchmark secret number {index}\n"
        f"#[allow(dead_code)]\n"
        f"static BENCH_SECRET_{index}: secret_runtime::Secret = "
        f'secret_runtime::secret!("BenchSecret{index}");\n'
    )


def rs_bytes(root):
    total, files = 0, 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != "target" and not d.startswith(".")]
        for name in filenames:
            if name.endswith(".rs"):
                total += os.path.getsize(os.path.join(dirpath, name))
                files += 1
    return total, files


# The manifests whose dependency trees make the registry workspace: this project, its
# example and fuzz workspaces, and bench/registry-crates (more crates, to about 300).
REGISTRY_MANIFESTS = ["Cargo.toml", "examples/Cargo.toml", "fuzz/Cargo.toml",
                      "bench/registry-crates/Cargo.toml"]


def registry_packages(repo):
    """The registry packages of the dependency trees of REGISTRY_MANIFESTS, each name and
    version once, sorted. `cargo metadata` downloads what the registry cache lacks."""
    packages = {}
    for manifest in REGISTRY_MANIFESTS:
        meta = json.loads(
            subprocess.run(
                ["cargo", "metadata", "--format-version", "1", "--locked", "--manifest-path",
                 os.path.join(repo, manifest)],
                check=True, capture_output=True, text=True,
            ).stdout
        )
        for package in meta["packages"]:
            if (package.get("source") or "").startswith("registry+"):
                packages.setdefault((package["name"], package["version"]), package)
    return [packages[key] for key in sorted(packages)]


def registry(args):
    """Copies the registry sources of the dependency trees into `args.out`."""
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    os.makedirs(args.out)
    members, declared, counter = [], 0, 0
    appended = {}
    for package in registry_packages(args.repo):
        pkg_dir = os.path.dirname(package["manifest_path"])
        src = os.path.join(pkg_dir, "src")
        if not os.path.isdir(src):
            continue
        member = re.sub(r"[^A-Za-z0-9_]", "_", f"{package['name']}_{package['version']}")
        dest = os.path.join(args.out, member)
        shutil.copytree(src, os.path.join(dest, "src"), symlinks=False)
        extra = ""
        for target in package["targets"]:
            rel = os.path.relpath(target["src_path"], pkg_dir)
            if "lib" in target["kind"] or "proc-macro" in target["kind"]:
                if rel != "src/lib.rs" and rel.startswith("src/"):
                    extra += f'\n[lib]\npath = "{rel}"\n'
        if not os.path.exists(os.path.join(dest, "src", "lib.rs")) and "[lib]" not in extra \
                and not os.path.exists(os.path.join(dest, "src", "main.rs")):
            write(os.path.join(dest, "src", "lib.rs"), "")
        write(os.path.join(dest, "Cargo.toml"), manifest(member, extra))
        members.append(member)
        for dirpath, dirnames, filenames in os.walk(os.path.join(dest, "src")):
            dirnames.sort()
            for name in sorted(filenames):
                if not name.endswith(".rs"):
                    continue
                counter += 1
                if counter % args.every == 0:
                    path = os.path.join(dirpath, name)
                    with open(path, "a", encoding="utf-8") as f:
                        f.write(declaration(counter))
                    appended[f"BenchSecret{counter}"] = os.path.relpath(path, args.out)
                    declared += 1
    write(os.path.join(args.out, "Cargo.toml"), workspace_manifest(members))
    write(os.path.join(args.out, "secrets.toml"), SECRETS_TOML)
    # Where each declaration went (name -> file), for the share found; outside the
    # workspace's members, so nothing scans it.
    write(os.path.join(args.out, "appended.json"), json.dumps(appended, indent=0, sort_keys=True))
    # A project of its own, as a clone is: a git repository with one commit. Generated under
    # this repository's target/, the check would otherwise read this repository's history
    # (hundreds of commits) looking for the workspace's store, which no project does.
    # No automatic `git gc` after the commit: it would pack the objects in the background
    # while the benchmark runs.
    git = ["git", "-C", args.out, "-c", "user.name=bench", "-c", "user.email=bench@localhost",
           "-c", "commit.gpgsign=false", "-c", "gc.auto=0", "-c", "maintenance.auto=false"]
    subprocess.run(git + ["init", "-q"], check=True)
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "generated for the scan benchmark"], check=True)
    total, files = rs_bytes(args.out)
    print(json.dumps({"dir": args.out, "members": len(members), "files": files,
                      "bytes": total, "declarations_appended": declared}))


WORDS = ["parse", "value", "buffer", "token", "state", "config", "reader", "writer",
         "entry", "index", "span", "cache", "handle", "frame", "node", "item"]


def module_text(rng, crate, module, declare, size):
    """About `size` bytes of Rust-like code; a `secret!` static when `declare`."""
    out = [f"//! Module {module} of crate {crate}: generated for the scan benchmark.\n\n",
           "use std::collections::HashMap;\nuse std::fmt;\n\n"]
    if declare:
        out.append(f"/// The key for service {crate}-{module}\n"
                   f"pub static SERVICE_KEY: secret_runtime::Secret = "
                   f'secret_runtime::secret!("Service{crate}Key{module}");\n\n')
    n = 0
    while sum(map(len, out)) < size:
        w = rng.choice(WORDS)
        n += 1
        out.append(
            f"/// A {w} that keeps a secret count and a `Secret` handle name.\n"
            f"#[derive(Debug, Clone, Default)]\n"
            f"pub struct {w.capitalize()}{n} {{\n"
            f"    /// How many entries.\n    pub count: usize,\n"
            f"    names: HashMap<String, Vec<u8>>,\n}}\n\n"
            f"impl {w.capitalize()}{n} {{\n"
            f"    /// Adds `name` (a secret or not) and returns the new count.\n"
            f"    pub fn add(&mut self, name: &str) -> usize {{\n"
            f"        // not a declaration: secret (\"{w}\") or \"secret!\" in a string\n"
            f"        let key = format!(\"{{}}-{{}}\", name, {n});\n"
            f"        self.names.entry(key).or_insert_with(|| vec![{n % 256}u8; 4]);\n"
            f"        assert!(self.count < usize::MAX, \"overflow in {w}\");\n"
            f"        self.count += 1;\n        self.count\n    }}\n}}\n\n"
            f"impl fmt::Display for {w.capitalize()}{n} {{\n"
            f"    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {{\n"
            f"        write!(f, \"{w}({{}})\", self.count)\n    }}\n}}\n\n"
        )
    return "".join(out)


def synthetic(args):
    """`args.crates` crates of `args.modules` modules; a declaration every `args.every`."""
    rng = random.Random(args.crates)
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    members, declared, counter = [], 0, 0
    for c in range(args.crates):
        member = f"crate_{c:05}"
        members.append(member)
        base = os.path.join(args.out, member)
        write(os.path.join(base, "Cargo.toml"), manifest(member))
        mods = "".join(f"pub mod m{m};\n" for m in range(args.modules))
        write(os.path.join(base, "src", "lib.rs"), f"//! Crate {c}.\n\n{mods}")
        for m in range(args.modules):
            counter += 1
            declare = counter % args.every == 0
            declared += declare
            write(os.path.join(base, "src", f"m{m}.rs"),
                  module_text(rng, c, m, declare, args.size))
    write(os.path.join(args.out, "Cargo.toml"), workspace_manifest(members))
    write(os.path.join(args.out, "secrets.toml"), SECRETS_TOML)
    total, files = rs_bytes(args.out)
    print(json.dumps({"dir": args.out, "members": len(members), "files": files,
                      "bytes": total, "declarations": declared}))


# The floor of a proc macro per declaration: one call, no parsing beyond taking the literal,
# no store check, and the final expansion of `secret!` for a valid name (declaration,
# registration, handle) with constant place fields, emitted in one string.
NOOP_MACRO = r'''//! Emits what `secret_runtime::secret!` expands to, without validating or checking anything.
use proc_macro::TokenStream;

#[proc_macro]
pub fn secret(input: TokenStream) -> TokenStream {
    let name = input.to_string();
    format!(
        "{{ const __SECRET_FIELDS: (&str, &str, &str, u32, u32, &str, bool) = \
         ({name}, \"noop\", \"src/lib.rs\", 1, 1, \"/noop\", false); \
         static __SECRET_DECLARATION: ::secret_runtime::__private::Declaration = \
         ::secret_runtime::__private::Declaration::__declare(__SECRET_FIELDS); \
         ::secret_runtime::__private::register!(__SECRET_DECLARATION); \
         ::secret_runtime::Secret::__from_declaration(&__SECRET_DECLARATION) }}"
    )
    .parse()
    .expect("valid tokens")
}
'''


LISTING_MAIN = r'''
fn main() {
    let start = std::time::Instant::now();
    let count = secret_runtime::declarations().len();
    let first_listing = start.elapsed();
    let mut listings = Vec::new();
    for _ in 0..201 {
        let start = std::time::Instant::now();
        std::hint::black_box(secret_runtime::declarations());
        listings.push(start.elapsed().as_nanos());
    }
    listings.sort();
    let start = std::time::Instant::now();
    let missing = match secret_runtime::check_all() {
        Ok(()) => 0,
        Err(missing) => missing.errors.len(),
    };
    let check_all = start.elapsed();
    println!(
        "{{\"count\": {count}, \"first_listing_ns\": {}, \"listing_ns\": {}, \
         \"check_all_ns\": {}, \"missing\": {missing}}}",
        first_listing.as_nanos(),
        listings[listings.len() / 2],
        check_all.as_nanos()
    );
}
'''


def macro(args):
    """The `decl` and `plain` crates of the macro-cost benchmark."""
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    runtime = os.path.join(args.repo, "secret-runtime")
    dep = f'\n[dependencies]\nsecret-runtime = {{ path = "{runtime}" }}\n'
    write(os.path.join(args.out, "Cargo.toml"),
          workspace_manifest(["decl", "listing", "noop", "noop_macro", "plain"]))
    shutil.copy(os.path.join(args.repo, "Cargo.lock"), os.path.join(args.out, "Cargo.lock"))
    write(os.path.join(args.out, "secrets.toml"), SECRETS_TOML)
    decl = ["//! 1,000 `secret!` declarations.\n#![allow(dead_code)]\n",
            "use secret_runtime::{secret, Secret};\n"]
    plain = ["//! 1,000 plain `&str` statics.\n#![allow(dead_code)]\n",
             "use secret_runtime::Secret as _;\n"]
    noop = ["//! 1,000 statics through a no-op proc macro.\n#![allow(dead_code)]\n",
            "use secret_runtime::Secret;\n"]
    for i in range(args.count):
        decl.append(f'static S_{i}: Secret = secret!("Name_{i}");\n')
        noop.append(f'static S_{i}: Secret = noop_macro::secret!("Name_{i}");\n')
        plain.append(f'static S_{i}: &str = "Name_{i}";\n')
    write(os.path.join(args.out, "noop", "Cargo.toml"),
          manifest("noop", dep + 'noop_macro = { path = "../noop_macro" }\n'))
    write(os.path.join(args.out, "noop", "src", "lib.rs"), "".join(noop))
    write(os.path.join(args.out, "noop_macro", "Cargo.toml"),
          manifest("noop_macro", "\n[lib]\nproc-macro = true\n"))
    write(os.path.join(args.out, "noop_macro", "src", "lib.rs"), NOOP_MACRO)
    write(os.path.join(args.out, "decl", "Cargo.toml"), manifest("decl", dep))
    write(os.path.join(args.out, "decl", "src", "lib.rs"), "".join(decl))
    write(os.path.join(args.out, "plain", "Cargo.toml"), manifest("plain", dep))
    write(os.path.join(args.out, "plain", "src", "lib.rs"), "".join(plain))
    # `listing`: a program with the same 1,000 declarations that times `declarations()` and
    # the first `check_all()` (which resolves the 900 values and reports the 100 missing).
    listing = ["//! 1,000 `secret!` declarations listed and checked at run time.\n",
               "use secret_runtime::{secret, Secret};\n", LISTING_MAIN]
    for i in range(args.count):
        listing.append(f'static S_{i}: Secret = secret!("Name_{i}");\n')
    write(os.path.join(args.out, "listing", "Cargo.toml"), manifest("listing", dep))
    write(os.path.join(args.out, "listing", "src", "main.rs"), "".join(listing))
    # The local values for the first `--set` names, as a dotenv file for `secret import`.
    write(os.path.join(args.out, "values.env"),
          "".join(f"Name_{i}=value-{i}\n" for i in range(args.set)))
    print(json.dumps({"dir": args.out, "declarations": args.count, "with_value": args.set}))


# The registry comparison: the same 1,000 declarations (the shape of secret-runtime's
# `Declaration`) registered with `inventory` (what `secret!` emits: one `submit!` per
# declaration, run by a constructor at start-up), with `linkme` (the declaration itself
# placed in a link section; the list is a slice) and not at all (the baseline).
REGISTRY_MAIN = r'''
#[derive(Debug)]
pub struct Declaration {
    name: &'static str,
    krate: &'static str,
    file: &'static str,
    line: u32,
    column: u32,
}

/// Every declaration, sorted as `secret_runtime::declarations()` sorts them.
fn declarations() -> Vec<&'static Declaration> {
    let mut all: Vec<&'static Declaration> = LIST;
    all.sort_by_key(|d| (d.name, d.krate, d.file, d.line, d.column));
    all
}

fn main() {
    let Some(batches) = std::env::args().nth(1).and_then(|n| n.parse::<usize>().ok()) else {
        // No argument: start and exit, to time the process start-up.
        return;
    };
    let first = std::time::Instant::now();
    let count = declarations().len();
    let first = first.elapsed();
    let mut per_batch = Vec::new();
    for _ in 0..batches {
        let start = std::time::Instant::now();
        for _ in 0..100 {
            std::hint::black_box(declarations());
        }
        per_batch.push(start.elapsed().as_nanos() as f64 / 100.0);
    }
    per_batch.sort_by(f64::total_cmp);
    println!(
        "{{\"count\": {count}, \"first_ns\": {}, \"listing_ns\": {}}}",
        first.as_nanos(),
        per_batch[per_batch.len() / 2]
    );
}
'''

REGISTRIES = {
    "reg_inventory": (
        'inventory = "0.3.20"\n',
        "struct Registered(&'static Declaration);\ninventory::collect!(Registered);\n",
        "inventory::iter::<Registered>.into_iter().map(|r| r.0).collect()",
        lambda i, decl: f"static D_{i}: Declaration = {decl};\n"
                        f"inventory::submit! {{ Registered(&D_{i}) }}\n",
    ),
    "reg_linkme": (
        'linkme = "0.3"\n',
        "#[linkme::distributed_slice]\nstatic DECLARATIONS: [Declaration];\n",
        "DECLARATIONS.iter().collect()",
        lambda i, decl: f"#[linkme::distributed_slice(DECLARATIONS)]\n"
                        f"static D_{i}: Declaration = {decl};\n",
    ),
    "reg_none": (
        "",
        "",
        "Vec::new()",
        lambda i, decl: f"static D_{i}: Declaration = {decl};\n",
    ),
}


def registries(args):
    """Three binaries with the same `args.count` declarations: inventory, linkme, none."""
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    write(os.path.join(args.out, "Cargo.toml"), workspace_manifest(sorted(REGISTRIES)))
    shutil.copy(os.path.join(args.repo, "Cargo.lock"), os.path.join(args.out, "Cargo.lock"))
    for crate, (dep, header, list_expr, item) in REGISTRIES.items():
        body = [f"//! {args.count} declarations, registry: {crate}.\n#![allow(dead_code)]\n",
                header, REGISTRY_MAIN.replace("LIST", list_expr)]
        for i in range(args.count):
            decl = (f'Declaration {{ name: "Name_{i}", krate: "{crate}", file: "src/main.rs", '
                    f"line: {i + 1}, column: 1 }}")
            body.append(item(i, decl))
        write(os.path.join(args.out, crate, "Cargo.toml"),
              manifest(crate, f"\n[dependencies]\n{dep}"))
        write(os.path.join(args.out, crate, "src", "main.rs"), "".join(body))
    print(json.dumps({"dir": args.out, "declarations": args.count,
                      "crates": sorted(REGISTRIES)}))


def deps(args):
    """Two fresh crates: one on secret-runtime (default features), one on secrecy."""
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    runtime = os.path.join(args.repo, "secret-runtime")
    lock = os.path.join(args.repo, "Cargo.lock")
    crates = {
        "on_runtime": (f'secret-runtime = {{ path = "{runtime}" }}\n',
                       "pub use secret_runtime::Secret;\n"),
        "on_secrecy": ('secrecy = "0.10.3"\n', "pub use secrecy::SecretString;\n"),
    }
    for name, (dep, body) in crates.items():
        base = os.path.join(args.out, name)
        write(os.path.join(base, "Cargo.toml"),
              manifest(name, f"\n[dependencies]\n{dep}\n[workspace]\n"))
        write(os.path.join(base, "src", "lib.rs"), f"//! Depends on one crate.\n{body}")
        shutil.copy(lock, os.path.join(base, "Cargo.lock"))
    print(json.dumps({"dir": args.out, "crates": sorted(crates)}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("registry")
    p.add_argument("--repo", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--every", type=int, default=10)
    p = sub.add_parser("synthetic")
    p.add_argument("--out", required=True)
    p.add_argument("--crates", type=int, required=True)
    p.add_argument("--modules", type=int, default=10)
    p.add_argument("--size", type=int, default=3000)
    p.add_argument("--every", type=int, default=7)
    p = sub.add_parser("macro")
    p.add_argument("--repo", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--set", type=int, default=900)
    p = sub.add_parser("registries")
    p.add_argument("--repo", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--count", type=int, default=1000)
    p = sub.add_parser("deps")
    p.add_argument("--repo", required=True)
    p.add_argument("--out", required=True)
    args = parser.parse_args()
    {"registry": registry, "synthetic": synthetic, "macro": macro,
     "registries": registries, "deps": deps}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
