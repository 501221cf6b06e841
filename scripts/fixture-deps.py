#!/usr/bin/env python3
"""Writes tests/fixtures/shared-deps/{target,host}/Cargo.toml: the registry crates the
test fixtures use, with the features the workspace's own test build gives them.

The tests that build a user's workspace with cargo (build feedback, the xtask, the README's
service, the doc snippets) share the suite's target directory. Cargo reuses a compiled
crate only when its features and its dependencies' features are the same, and a fixture
that depends on `secret-runtime` alone resolves e.g. `digest` without the `mac` feature
the workspace enables elsewhere, so it would compile `digest`, `sha2`, `curve25519-dalek`
and everything above them again. Every fixture package depends on `shared-deps` (a normal
dependency: the crates its program uses) and on `shared-host-deps` (a build dependency:
the crates its build scripts and proc macros use; a build dependency's own dependencies
are built for the host, so one package cannot serve both sides). Each names a crate with
the features the workspace's program side gives it, where it has one: cargo builds a
crate once for both sides when their features and dependencies agree. Our own crates are
not listed: cargo compiles them again for any workspace outside this one anyway (it
hashes a path dependency by its path relative to the workspace root), and the fixtures
build them in the configurations users have.

The lists are a Linux build's, as CI's (under `cfg(target_os = "linux")`: elsewhere the
fixtures resolve their own). Run after a dependency or feature change (the tests stay
correct without it, only slower):

    python3 scripts/fixture-deps.py           # rewrites the two manifests
    python3 scripts/fixture-deps.py --check   # fails if they are not up to date (CI)

It reads the unit graphs with `cargo --unit-graph` (unstable output, enabled here with
RUSTC_BOOTSTRAP=1 for this one command; nothing is built).
"""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "tests/fixtures/shared-deps"
# The unit graph is of the machine the script runs on, and the crates it names (`rustix`'s
# `linux-raw-sys`, ...) are those of its operating system: the list is Linux's, as CI's.
PLATFORM = "linux"


def unit_graph(cwd, args):
    env = dict(os.environ, RUSTC_BOOTSTRAP="1")
    out = subprocess.run(
        ["cargo", *args, "--unit-graph", "-Z", "unstable-options", "--offline"],
        cwd=cwd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"cargo {' '.join(args)} in {cwd}:\n{out.stderr}")
    return json.loads(out.stdout)


def registry_units(graph):
    """(name, version, host, features) of each registry library unit; `host` when a build
    script or a proc macro uses it (a unit can be used on both sides)."""
    units = graph["units"]
    seen = set()

    def walk(i, host):
        if (i, host) in seen:
            return
        seen.add((i, host))
        unit = units[i]
        kinds = unit["target"]["kind"]
        into = host or "proc-macro" in kinds or (
            "custom-build" in kinds and unit["mode"] == "build")
        for dep in unit["dependencies"]:
            walk(dep["index"], into or "proc-macro" in units[dep["index"]]["target"]["kind"])

    for root in graph["roots"]:
        walk(root, False)
    found = set()
    for i, host in seen:
        unit = units[i]
        pkg = unit["pkg_id"]
        if not pkg.startswith("registry+"):
            continue
        kinds = unit["target"]["kind"]
        if unit["mode"] not in ("build", "check") or not (
            {"lib", "rlib", "proc-macro"} & set(kinds)
        ):
            continue
        name, version = pkg.rsplit("#", 1)[1].rsplit("@", 1)
        found.add((name, version, host, tuple(sorted(unit["features"]))))
    return found


def fixture(root, deps):
    """A workspace like the tests' fixtures: one package per dependency line."""
    members = []
    for name, lines in deps.items():
        members.append(name)
        pkg = root / name
        (pkg / "src").mkdir(parents=True)
        (pkg / "src/lib.rs").write_text("")
        (pkg / "build.rs").write_text("fn main() {}\n")
        (pkg / "Cargo.toml").write_text(
            f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2024"\n\n{lines}')
    (root / "Cargo.toml").write_text(
        f'[workspace]\nresolver = "3"\nmembers = {json.dumps(members)}\n')
    (root / "Cargo.lock").write_bytes((REPO / "Cargo.lock").read_bytes())


def main():
    if not sys.platform.startswith(PLATFORM):
        sys.exit(f"scripts/fixture-deps.py: run it on {PLATFORM} (the list is of a {PLATFORM} build)")
    check = sys.argv[1:] == ["--check"]
    stale = []
    workspace = registry_units(unit_graph(REPO, ["test", "--workspace", "--no-run"]))
    runtime, build = REPO / "secret-runtime", REPO / "secret-build"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        fixture(root, {
            "runtime": f'[dependencies]\nsecret-runtime = {{ path = "{runtime}" }}\n',
            "cli": f'[dependencies]\nsecret-build = {{ path = "{build}" }}\n',
            "helper": f'[build-dependencies]\nsecret-build = {{ path = "{build}", '
                      'default-features = false, features = ["build-helper"] }\n',
        })
        used = {(name, version, host) for name, version, host, _ in
                registry_units(unit_graph(root, ["build", "--workspace"]))}
    # Each crate gets the features the workspace's program side gives it, else those of the
    # side the fixtures use it on: without cross-compiling, cargo builds a crate once for
    # both sides when their features and dependencies agree, so the build scripts and proc
    # macros of the fixtures share the program's builds (where the workspace's own build
    # scripts and proc macros use other features, the fixtures build those once more).
    ours = {False: {}, True: {}}
    for name, version, host, features in workspace:
        ours[host].setdefault((name, version), set()).update(features)
    sides = {False: {}, True: {}}
    for name, version, host in used:
        key = (name, version)
        features = ours[False].get(key, ours[host].get(key))
        if features is not None:
            sides[host][key] = features
    versions = {}
    for side in sides.values():
        for name, version in side:
            versions.setdefault(name, set()).add(version)
    for host, package, folder in ((False, "shared-deps", "target"), (True, "shared-host-deps", "host")):
        lines = [
            "# Written by scripts/fixture-deps.py: do not edit by hand.",
            "[package]",
            f'name = "{package}"',
            'version = "0.1.0"',
            'edition = "2024"',
            "publish = false",
            "",
            f"[target.'cfg(target_os = \"{PLATFORM}\")'.dependencies]",
        ]
        for (name, version), features in sorted(sides[host].items()):
            key = name if len(versions[name]) == 1 else f"{name}-{version.replace('.', '-')}"
            rename = "" if key == name else f'package = "{name}", '
            lines.append(
                f'{key} = {{ {rename}version = "={version}", default-features = false, '
                f"features = {json.dumps(sorted(features))} }}")
        manifest = OUT / folder / "Cargo.toml"
        text = "\n".join(lines) + "\n"
        shown = manifest.relative_to(REPO)
        if check:
            if not manifest.exists() or manifest.read_text() != text:
                stale.append(str(shown))
            continue
        (manifest.parent / "src").mkdir(parents=True, exist_ok=True)
        manifest.write_text(text)
        (manifest.parent / "src/lib.rs").write_text(
            "//! Nothing: the dependencies in `Cargo.toml` are its purpose.\n")
        print(f"wrote {shown}: {len(sides[host])} crates")
    if stale:
        sys.exit(f"{', '.join(stale)}: not what the workspace's features give; "
                 "run `python3 scripts/fixture-deps.py` and commit the result")


main()
