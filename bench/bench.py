#!/usr/bin/env python3
"""The benchmarks of docs/BENCHMARKS.md, driven by bench/run.sh; standard library only.

Every figure is compared with a baseline measured in the same run. Commands that are
compared are timed in interleaved rounds (A, B, C, then B, C, A, ...) so that load from
other processes falls on all of them alike; the figure is the median over the rounds.
Results go to WORK/results.json and the table is printed as Markdown (and written between
the markers of docs/BENCHMARKS.md with --write-docs).
"""

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEVNULL = subprocess.DEVNULL


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


def ok_codes(cmd):
    """Exit codes that mean success: 1 is "errors found" for the check, "no match" for rg."""
    return (0, 1) if cmd[0] == "rg" or "check-secrets" in cmd else (0,)


def run(cmd, env=None, cwd=None, capture=False):
    """Runs `cmd`; returns the CompletedProcess (stdout/stderr captured when `capture`)."""
    out = subprocess.PIPE if capture else DEVNULL
    proc = subprocess.run(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.PIPE, text=True)
    if proc.returncode not in ok_codes(cmd):
        raise SystemExit(f"bench: `{' '.join(cmd)}` exited with {proc.returncode}:\n"
                         f"{proc.stderr[-3000:]}")
    return proc


def timed(cmd, env=None, cwd=None, before=None):
    if before:
        before()
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, stdout=DEVNULL, stderr=DEVNULL)
    elapsed = time.perf_counter() - start
    if proc.returncode not in ok_codes(cmd):
        raise SystemExit(f"bench: `{' '.join(cmd)}` exited with {proc.returncode}")
    return elapsed


def interleaved(commands, runs, warmup):
    """`commands`: name -> dict(cmd=[...], env=..., cwd=..., before=callable).
    Returns name -> sorted list of wall times (seconds), and the per-round samples."""
    names = list(commands)
    samples = {name: [] for name in names}
    rounds = []
    for r in range(warmup + runs):
        order = names[r % len(names):] + names[: r % len(names)]
        this = {}
        for name in order:
            c = commands[name]
            this[name] = timed(c["cmd"], c.get("env"), c.get("cwd"), c.get("before"))
        if r >= warmup:
            rounds.append(this)
            for name in names:
                samples[name].append(this[name])
    return samples, rounds


def med(values):
    return statistics.median(values)


def peak_rss_kib(cmd, env=None):
    """Maximum resident set size of `cmd` in KiB, from GNU time -v."""
    proc = subprocess.run(["/usr/bin/time", "-v"] + cmd, env=env, stdout=DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    return int(found.group(1)) if found else None


def gen(*args):
    out = subprocess.run([sys.executable, os.path.join(HERE, "gen.py"), *args],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


# --- 1. scan against rg + cargo metadata -------------------------------------------------

# The check asks cargo for the workspace's target directory and skips what is under it: a
# CARGO_TARGET_DIR from the caller (the generated workspaces sit under the target directory
# by default) would make it skip every file.
CHECK_ENV = {k: v for k, v in os.environ.items() if k != "CARGO_TARGET_DIR"}


def check_cmd(args, workspace):
    return [args.xtask, "check-secrets", "--workspace", workspace, "--env", "local",
            "--format", "json"]


def rg_cmd(workspace):
    # --no-ignore: the workspace is generated under target/, which the repository's
    # .gitignore lists; -t rust: the same files the scanner reads (*.rs).
    return ["rg", "--no-ignore", "-t", "rust", "secret!", workspace]


def meta_cmd(workspace):
    return ["cargo", "metadata", "--no-deps", "--format-version", "1", "--offline",
            "--manifest-path", os.path.join(workspace, "Cargo.toml")]


def found_declarations(args, workspace):
    proc = run(check_cmd(args, workspace), env=CHECK_ENV, capture=True)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return None
    return report


def bench_scan(args, results):
    workspace = os.path.join(args.work, "registry")
    info = gen("registry", "--repo", args.repo, "--out", workspace, "--every", "10")
    log(f"registry workspace: {info['members']} crates, {info['files']} files, "
        f"{info['bytes'] / 1e6:.1f} MB")
    report = found_declarations(args, workspace) or {}
    declared = len({d.get("name") for d in report.get("declarations", [])}) \
        if isinstance(report.get("declarations"), list) else None
    samples, rounds = interleaved({
        "check": {"cmd": check_cmd(args, workspace), "env": CHECK_ENV},
        "rg": {"cmd": rg_cmd(workspace)},
        "metadata": {"cmd": meta_cmd(workspace)},
    }, args.runs, args.warmup)
    per_round = [r["check"] / (r["rg"] + r["metadata"]) for r in rounds]
    results["scan"] = {
        **info,
        "declared_names_found": declared,
        "check_s": med(samples["check"]),
        "rg_s": med(samples["rg"]),
        "metadata_s": med(samples["metadata"]),
        "ratio": med(samples["check"]) / (med(samples["rg"]) + med(samples["metadata"])),
        "ratio_per_round_median": med(per_round),
        "check_rss_kib": peak_rss_kib(check_cmd(args, workspace), CHECK_ENV),
        "rg_rss_kib": peak_rss_kib(rg_cmd(workspace)),
        "runs": args.runs,
    }


# --- 2. scaling ----------------------------------------------------------------------------

def bench_scaling(args, results):
    rows = []
    for crates in args.sizes:
        workspace = os.path.join(args.work, f"synthetic-{crates}")
        info = gen("synthetic", "--out", workspace, "--crates", str(crates))
        log(f"synthetic workspace: {crates} crates, {info['files']} files, "
            f"{info['bytes'] / 1e6:.1f} MB")
        runs = max(3, args.runs // 2) if crates >= 1000 else args.runs
        samples, _ = interleaved({
            "check": {"cmd": check_cmd(args, workspace), "env": CHECK_ENV},
            "rg": {"cmd": rg_cmd(workspace)},
            "metadata": {"cmd": meta_cmd(workspace)},
        }, runs, args.warmup)
        check, meta = med(samples["check"]), med(samples["metadata"])
        mb = info["bytes"] / 1e6
        rows.append({
            **info,
            "crates": crates,
            "check_s": check,
            "rg_s": med(samples["rg"]),
            "metadata_s": meta,
            "us_per_mb": check * 1e6 / mb,
            "us_per_mb_without_metadata": (check - meta) * 1e6 / mb,
            "check_rss_kib": peak_rss_kib(check_cmd(args, workspace), CHECK_ENV),
            "runs": runs,
        })
        if not args.keep:
            shutil.rmtree(workspace, ignore_errors=True)
    results["scaling"] = rows


# --- 3. macro cost and dependency cost -----------------------------------------------------

def bench_macro(args, results):
    workspace = os.path.join(args.work, "macro")
    info = gen("macro", "--repo", args.repo, "--out", workspace, "--count", "1000",
               "--set", "900")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SECRETS_") and k != "CARGO_TARGET_DIR"}
    env["CARGO_TARGET_DIR"] = os.path.join(args.work, "macro-target")
    # A store with local values for 900 of the 1,000 names, so the macro's check path runs
    # (100 declarations get the missing-value warning). `secret init` makes an identity in
    # $HOME: a throw-away one here.
    home = os.path.join(args.work, "home")
    os.makedirs(home, exist_ok=True)
    init_env = dict(env, HOME=home)
    run([args.xtask, "secret", "init", "--workspace", workspace], env=init_env)
    proc = run([args.xtask, "secret", "import", "--type", "local", "--workspace", workspace,
                os.path.join(workspace, "values.env")], env=init_env, capture=True)
    if not os.path.exists(os.path.join(workspace, "secrets.enc.toml")):
        raise SystemExit(f"bench: secret import wrote no store: {proc.stderr}")
    log("macro crates: first check (dependencies)")
    for crate in ("decl", "noop", "plain"):
        run(["cargo", "check", "-p", crate], env=env, cwd=workspace)
    proc = run(["cargo", "check", "-p", "decl", "--message-format", "short"], env=env,
               cwd=workspace, capture=True)

    def toucher(crate):
        path = os.path.join(workspace, crate, "src", "lib.rs")
        return lambda: os.utime(path)

    commands = {
        crate: {"cmd": ["cargo", "check", "-p", crate], "env": env, "cwd": workspace,
                "before": toucher(crate)}
        for crate in ("decl", "noop", "plain")
    }
    samples, rounds = interleaved(commands, args.runs, max(1, args.warmup))
    results["macro"] = {
        **info,
        "decl_s": med(samples["decl"]),
        "plain_s": med(samples["plain"]),
        "noop_s": med(samples["noop"]),
        "ratio": med(samples["decl"]) / med(samples["plain"]),
        "ratio_per_round_median": med([r["decl"] / r["plain"] for r in rounds]),
        "noop_ratio": med(samples["decl"]) / med(samples["noop"]),
        "noop_ratio_per_round_median": med([r["decl"] / r["noop"] for r in rounds]),
        "warnings": touch_check_warnings(workspace, env),
        "runs": args.runs,
    }


def touch_check_warnings(workspace, env):
    os.utime(os.path.join(workspace, "decl", "src", "lib.rs"))
    proc = run(["cargo", "check", "-p", "decl", "--message-format", "short"], env=env,
               cwd=workspace, capture=True)
    return proc.stderr.count("has no value for")


def bench_deps(args, results):
    base = os.path.join(args.work, "deps")
    gen("deps", "--repo", args.repo, "--out", base)
    env = {k: v for k, v in os.environ.items() if k != "CARGO_TARGET_DIR"}
    rows = {}
    for r in range(args.clean_runs):
        order = ["on_runtime", "on_secrecy"] if r % 2 == 0 else ["on_secrecy", "on_runtime"]
        for crate in order:
            cwd = os.path.join(base, crate)
            shutil.rmtree(os.path.join(cwd, "target"), ignore_errors=True)
            log(f"clean build of {crate} ({r + 1}/{args.clean_runs})")
            start = time.perf_counter()
            proc = subprocess.run(["cargo", "build"], cwd=cwd, env=env, capture_output=True,
                                  text=True)
            elapsed = time.perf_counter() - start
            if proc.returncode != 0:
                raise SystemExit(f"bench: cargo build in {cwd} failed:\n{proc.stderr}")
            compiled = len(re.findall(r"^\s+Compiling ", proc.stderr, re.M))
            syn = sorted(set(re.findall(r"Compiling (syn v[\d.]+)", proc.stderr)))
            row = rows.setdefault(crate, {"times": [], "crates": compiled, "syn": syn})
            row["times"].append(elapsed)
    for row in rows.values():
        row["build_s"] = med(row["times"])
    rows["ratio"] = rows["on_runtime"]["build_s"] / rows["on_secrecy"]["build_s"]
    results["deps"] = rows


# --- 4. run time (criterion) ---------------------------------------------------------------

def criterion_estimate(target_dir, group, name):
    path = os.path.join(target_dir, "criterion", group, name, "new", "estimates.json")
    with open(path, encoding="utf-8") as f:
        return json.load(f)["median"]["point_estimate"]


def bench_runtime(args, results):
    env = dict(os.environ)
    target_dir = env.get("CARGO_TARGET_DIR") or os.path.join(args.repo, "target")
    cmd = ["cargo", "bench", "-p", "secret-runtime", "--bench", "expose", "--",
           "--warm-up-time", str(args.warm_up_time), "--measurement-time",
           str(args.measurement_time)]
    log("criterion: " + " ".join(cmd))
    proc = subprocess.run(cmd, cwd=args.repo, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"bench: cargo bench failed:\n{proc.stderr[-4000:]}")
    expose = criterion_estimate(target_dir, "access", "expose_resolved")
    static = criterion_estimate(target_dir, "access", "static_str")
    first = criterion_estimate(target_dir, "store", "first_resolution_of_100")
    first_all = criterion_estimate(target_dir, "store", "first_resolution_of_100_resolve_all")
    age_floor = criterion_estimate(target_dir, "store", "age_decrypt_100")
    results["runtime"] = {
        "expose_ns": expose,
        "static_ns": static,
        "ratio": expose / static,
        "first_resolution_100_ms": first / 1e6,
        "first_resolution_100_resolve_all_ms": first_all / 1e6,
        "age_decrypt_100_ms": age_floor / 1e6,
    }


# --- machine and table ---------------------------------------------------------------------

def machine(args):
    def first(pattern, path):
        try:
            with open(path, encoding="utf-8") as f:
                found = re.search(pattern, f.read(), re.M)
                return found.group(1).strip() if found else "?"
        except OSError:
            return "?"

    def out(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True).stdout.strip()
        except OSError:
            return "?"

    mem_kib = first(r"^MemTotal:\s+(\d+)", "/proc/meminfo")
    return {
        "cpus": os.cpu_count(),
        "cpu": first(r"^model name\s*:\s*(.*)$", "/proc/cpuinfo"),
        "memory_gib": round(int(mem_kib) / 1024 / 1024, 1) if mem_kib.isdigit() else "?",
        "os": f"{platform.system()} {platform.release()}",
        "rustc": out(["rustc", "--version"]),
        "cargo": out(["cargo", "--version"]),
        "ripgrep": out(["rg", "--version"]).splitlines()[0] if shutil.which("rg") else "?",
        "mode": "quick" if args.quick else "full",
        "load_before": os.getloadavg()[0],
    }


def table(results):
    m = results["machine"]
    lines = [
        f"Machine: {m['cpus']} CPUs ({m['cpu']}), {m['memory_gib']} GiB, {m['os']}; "
        f"{m['rustc']}; {m['ripgrep']}; {m['mode']} run, load average {m['load_before']:.2f} "
        "at the start.",
        "",
        "| figure | measured | baseline (same run) | ratio | target | met |",
        "| --- | --- | --- | --- | --- | --- |",
    ]

    def row(figure, measured, baseline, ratio, target, met):
        lines.append(f"| {figure} | {measured} | {baseline} | {ratio} | {target} | "
                     f"{'yes' if met else '**no**'} |")

    if "scan" in results:
        s = results["scan"]
        row(f"scan: `check-secrets` over the dependency sources ({s['members']} crates, "
            f"{s['files']} files, {s['bytes'] / 1e6:.1f} MB)",
            f"{s['check_s'] * 1e3:.0f} ms",
            f"rg {s['rg_s'] * 1e3:.0f} ms + cargo metadata {s['metadata_s'] * 1e3:.0f} ms",
            f"{s['ratio']:.2f}x", "<= 1.5x", s["ratio"] <= 1.5)
        lines_mem = (f"{s['check_rss_kib'] / 1024:.0f} MiB"
                     if s.get("check_rss_kib") else "?")
        rg_mem = f"{s['rg_rss_kib'] / 1024:.0f} MiB" if s.get("rg_rss_kib") else "?"
        row("scan: peak memory of `check-secrets`", lines_mem, f"rg {rg_mem}", "", "report",
            True)
    if "macro" in results:
        mc = results["macro"]
        row("macro: incremental `cargo check` of 1,000 `secret!` statics "
            f"({mc['with_value']} with a local value, {mc['warnings']} warnings)",
            f"{mc['decl_s'] * 1e3:.0f} ms",
            f"1,000 `&str` statics {mc['plain_s'] * 1e3:.0f} ms",
            f"{mc['ratio']:.2f}x", "report", True)
        row("macro: the same against a no-op proc macro emitting the same 1,000 statics",
            f"{mc['decl_s'] * 1e3:.0f} ms",
            f"no-op proc macro {mc['noop_s'] * 1e3:.0f} ms",
            f"{mc['noop_ratio']:.2f}x", "<= 1.25x", mc["noop_ratio"] <= 1.25)
    if "deps" in results:
        d = results["deps"]
        r, s = d["on_runtime"], d["on_secrecy"]
        row(f"clean `cargo build` of a crate on secret-runtime ({r['crates']} crates compiled"
            f"{', ' + ' and '.join(r['syn']) if r['syn'] else ''})",
            f"{r['build_s']:.1f} s",
            f"on secrecy alone {s['build_s']:.1f} s ({s['crates']} crates)",
            f"{d['ratio']:.1f}x", "report", True)
    if "runtime" in results:
        rt = results["runtime"]
        row("run time: `expose()` on a resolved handle (criterion median)",
            f"{rt['expose_ns']:.2f} ns", f"`static &str` read {rt['static_ns']:.2f} ns",
            f"{rt['ratio']:.2f}x", "<= 2x", rt["ratio"] <= 2.0)
        floor = f"age crate, 100 decryptions {rt['age_decrypt_100_ms']:.2f} ms"
        row("run time: first resolution of 100 secrets from the store, one `resolve` each "
            "(criterion median)",
            f"{rt['first_resolution_100_ms']:.2f} ms", floor,
            f"{rt['first_resolution_100_ms'] / rt['age_decrypt_100_ms']:.2f}x", "< 5 ms",
            rt["first_resolution_100_ms"] < 5.0)
        row("run time: the same through `Resolver::resolve_all` (one thread per core, as "
            "`check_all()`)",
            f"{rt['first_resolution_100_resolve_all_ms']:.2f} ms", floor,
            f"{rt['first_resolution_100_resolve_all_ms'] / rt['age_decrypt_100_ms']:.2f}x",
            "< 5 ms", rt["first_resolution_100_resolve_all_ms"] < 5.0)
    if "scaling" in results:
        lines += [
            "",
            "Scaling (synthetic workspaces, `check-secrets` wall time, medians):",
            "",
            "| crates | files | MB | check-secrets | cargo metadata | rg | µs/MB | "
            "µs/MB without metadata | peak memory |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for s in results["scaling"]:
            rss = f"{s['check_rss_kib'] / 1024:.0f} MiB" if s.get("check_rss_kib") else "?"
            lines.append(
                f"| {s['crates']} | {s['files']} | {s['bytes'] / 1e6:.1f} | "
                f"{s['check_s'] * 1e3:.0f} ms | {s['metadata_s'] * 1e3:.0f} ms | "
                f"{s['rg_s'] * 1e3:.0f} ms | {s['us_per_mb']:.0f} | "
                f"{s['us_per_mb_without_metadata']:.0f} | {rss} |")
    return "\n".join(lines) + "\n"


START = "<!-- bench:results:start (written by bench/run.sh) -->"
END = "<!-- bench:results:end -->"


def write_docs(path, text):
    with open(path, encoding="utf-8") as f:
        doc = f.read()
    if START not in doc or END not in doc:
        raise SystemExit(f"bench: {path} has no results markers")
    head, rest = doc.split(START, 1)
    _, tail = rest.split(END, 1)
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"{head}{START}\n{text}{END}{tail}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repo", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--xtask", required=True)
    p.add_argument("--only", default="scan,scaling,macro,deps,runtime")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--keep", action="store_true", help="keep the generated workspaces")
    p.add_argument("--write-docs", metavar="FILE")
    args = p.parse_args()
    args.runs = int(os.environ.get("BENCH_RUNS", 5 if args.quick else 11))
    args.warmup = int(os.environ.get("BENCH_WARMUP", 1 if args.quick else 2))
    args.clean_runs = int(os.environ.get("BENCH_CLEAN_RUNS", 1))
    args.sizes = [int(s) for s in os.environ.get("BENCH_SIZES", "10,100,1000").split(",")]
    args.warm_up_time = float(os.environ.get("BENCH_WARM_UP_TIME", 1 if args.quick else 2))
    args.measurement_time = float(
        os.environ.get("BENCH_MEASUREMENT_TIME", 2 if args.quick else 5))
    os.makedirs(args.work, exist_ok=True)
    only = set(args.only.split(","))
    results = {"machine": machine(args)}
    steps = [("scan", bench_scan), ("scaling", bench_scaling), ("macro", bench_macro),
             ("deps", bench_deps), ("runtime", bench_runtime)]
    for name, step in steps:
        if name in only:
            log(f"--- {name}")
            started = time.perf_counter()
            step(args, results)
            log(f"--- {name} took {time.perf_counter() - started:.0f} s")
    with open(os.path.join(args.work, "results.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2)
    text = table(results)
    print(text)
    if args.write_docs:
        write_docs(args.write_docs, text)
        log(f"wrote the table to {args.write_docs}")


if __name__ == "__main__":
    main()
