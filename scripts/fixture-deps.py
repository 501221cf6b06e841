#!/usr/bin/env python3
"""Writes tests/fixtures/shared-deps/Cargo.toml: the registry crates the test fixtures use,
with the features the workspace's own test build gives them.

The tests that build a user's workspace with cargo (build feedback, the xtask, the README's
service, the doc snippets) share the suite's target directory. Cargo reuses a compiled
crate only when its features and its dependencies' features are the same, and a fixture
that depends on `secret-runtime` alone resolves e.g. `digest` without the `mac` feature
the workspace enables elsewhere, so it would compile `digest`, `sha2`, `curve25519-dalek`
and everything above them again. Every fixture package depends on `shared-deps` (normal
and build dependency), which names each crate with the workspace's features on each side
(the program's and the build scripts' and proc macros'), so the fixtures' registry crates
are the ones the suite's build already compiled.

Run after a dependency or feature change (the tests stay correct without it, only slower):

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


def unit_graph(cwd, args):
    env = dict(os.environ, RUSTC_BOOTSTRAP="1")
    out = subprocess.run(
        ["cargo", *args, "--unit-graph", "-Z", "unstable-options", "--offline"],
        cwd=cwd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"cargo {' '.join(args)} in {cwd}:\n{out.stderr}")
    return json.loads(out.stdout)


def registry_units(graph):
    """(name, version, side, features) of each registry library unit. `side` is "target"
    for the program's, "macro" for a proc macro's and what it uses, "build" for what only
    build scripts use (a unit can be used on several sides)."""
    units = graph["units"]
    seen = set()

    def walk(i, side):
        if (i, side) in seen:
            return
        seen.add((i, side))
        unit = units[i]
        kinds = unit["target"]["kind"]
        into = "macro" if "proc-macro" in kinds else side
        if into == "target" and "custom-build" in kinds and unit["mode"] == "build":
            into = "build"
        for dep in unit["dependencies"]:
            macro = "proc-macro" in units[dep["index"]]["target"]["kind"]
            walk(dep["index"], "macro" if macro else into)

    for root in graph["roots"]:
        walk(root, "target")
    found = set()
    for i, side in seen:
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
        found.add((name, version, side, tuple(sorted(unit["features"]))))
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
        used = {(name, version, side) for name, version, side, _ in
                registry_units(unit_graph(root, ["build", "--workspace"]))}
    # The workspace's features for each crate on each side. A crate the fixtures use on a
    # side where the workspace does not gets the other side's: without cross-compiling,
    # cargo builds a crate once for both sides when features and dependencies agree.
    ours = {"target": {}, "macro": {}, "build": {}}
    for name, version, side, features in workspace:
        ours[side].setdefault((name, version), set()).update(features)
    sides = {False: {}, True: {}}
    for name, version, side in used:
        key = (name, version)
        features = next((ours[s][key] for s in ("target", side) if key in ours[s]), None)
        if features is not None:
            sides[side != "target"][key] = features
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
            "[dependencies]",
        ]
        for (name, version), features in sorted(sides[host].items()):
            key = name if len(versions[name]) == 1 else f"{name}-{version.split('.')[0]}"
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
