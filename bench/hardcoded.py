#!/usr/bin/env python3
"""Scores the `hardcoded-secret` rules of check-secrets against the samples gitleaks and
detect-secrets publish (bench/hardcoded_samples.py), embedded in Rust source the way code
holds them: each sample is the value of a `const` in a crate of a generated workspace, and
`check-secrets --format json` is run on it. Prints recall and false positives per rule
family, the samples decided otherwise than their source (with the reason), and the
findings on this repository's own tree and, with --registry DIR, on a workspace of
registry crates (bench/gen.py registry).

    python3 bench/hardcoded.py --secret target/debug/secret [--registry DIR]
"""

import argparse
import collections
import json
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hardcoded_samples import SAMPLES, GENERATED, EXPECTED_DIFFERENCES  # noqa: E402

PER_PATTERN = 10  # generated true positives per gitleaks pattern
SEED = 27


def samples():
    rng = random.Random(SEED)
    out = [(family, expected, text, source) for family, expected, text, source in SAMPLES]
    for family, prefix, alphabet, length, source in GENERATED:
        for _ in range(PER_PATTERN):
            secret = "".join(rng.choice(alphabet) for _ in range(length))
            out.append((family, True, prefix + secret, f"gitleaks {source} (generated)"))
    return out


def raw_literal(text):
    hashes = 1
    while '"' + "#" * hashes in text:
        hashes += 1
    return "r" + "#" * hashes + '"' + text + '"' + "#" * hashes


def write_workspace(root, items):
    os.makedirs(os.path.join(root, "samples", "src"))
    with open(os.path.join(root, "Cargo.toml"), "w") as f:
        f.write('[workspace]\nresolver = "2"\nmembers = ["samples"]\n')
    with open(os.path.join(root, "samples", "Cargo.toml"), "w") as f:
        f.write('[package]\nname = "samples"\nversion = "0.1.0"\nedition = "2021"\n')
    lines = ["//! Samples of credentials and look-alikes, one per constant.\n"]
    line_of = {}
    for index, (_, _, text, _) in enumerate(items):
        line = sum(chunk.count("\n") for chunk in lines) + 1
        line_of[line] = index
        lines.append(f"pub const S{index}: &str = {raw_literal(text)};\n")
    with open(os.path.join(root, "samples", "src", "lib.rs"), "w") as f:
        f.write("".join(lines))
    return line_of


def findings(secret, root):
    out = subprocess.run([secret, "check-secrets", "--workspace", root, "--format", "json"],
                         capture_output=True, text=True)
    if out.returncode == 2:
        sys.exit(f"check-secrets could not run on {root}:\n{out.stderr}")
    report = json.loads(out.stdout)
    return [d for d in report["diagnostics"] if d["code"] == "hardcoded-secret"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--secret", required=True, help="the `secret` program")
    parser.add_argument("--registry", help="a registry workspace made by bench/gen.py registry")
    args = parser.parse_args()
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    items = samples()
    with tempfile.TemporaryDirectory() as root:
        line_of = write_workspace(root, items)
        flagged = {line_of[d["location"]["line"]] for d in findings(args.secret, root)
                   if d["location"]["line"] in line_of}
    stats = collections.OrderedDict()
    differences = []
    for index, (family, expected, text, source) in enumerate(items):
        s = stats.setdefault(family, {"tp": 0, "found": 0, "fp_total": 0, "fp": 0})
        hit = index in flagged
        if expected:
            s["tp"] += 1
            s["found"] += hit
        else:
            s["fp_total"] += 1
            s["fp"] += hit
        if hit != expected:
            reason = EXPECTED_DIFFERENCES.get(text, "UNEXPECTED")
            differences.append((family, expected, text, source, reason))
    print("| family | true positives found | recall | look-alikes flagged |")
    print("| --- | --- | --- | --- |")
    total_tp = total_found = total_neg = total_fp = 0
    for family, s in stats.items():
        recall = f"{100 * s['found'] / s['tp']:.0f}%" if s["tp"] else "-"
        print(f"| {family} | {s['found']} / {s['tp']} | {recall} | {s['fp']} / {s['fp_total']} |")
        total_tp += s["tp"]
        total_found += s["found"]
        total_neg += s["fp_total"]
        total_fp += s["fp"]
    print(f"| all | {total_found} / {total_tp} | {100 * total_found / total_tp:.1f}% | {total_fp} / {total_neg} |")
    print()
    print("Decided otherwise than the source:")
    for family, expected, text, source, reason in differences:
        shown = text if len(text) <= 60 else text[:57] + "..."
        print(f"- {family}: `{shown}` ({source}; source says {'credential' if expected else 'not one'}): {reason}")
    own = findings(args.secret, repo)
    print()
    print(f"This repository's tree: {len(own)} finding(s)")
    for d in own:
        print(f"  {d['location']['file']}:{d['location']['line']}: {d['message']}")
    if args.registry:
        found = findings(args.secret, args.registry)
        print(f"Registry workspace {args.registry}: {len(found)} finding(s)")
        for d in found:
            print(f"  {d['location']['file']}:{d['location']['line']}: {d['message']}")
    unexpected = [d for d in differences if d[4] == "UNEXPECTED"]
    sys.exit(1 if unexpected else 0)


if __name__ == "__main__":
    main()
