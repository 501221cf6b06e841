#!/usr/bin/env python3
"""The benchmarks of docs/BENCHMARKS.md, driven by bench/run.sh; standard library only.

Every figure is compared with a baseline measured in the same run. Commands that are
compared are timed in interleaved rounds (A, B, C, then B, C, A, ...) so that load from
other processes falls on all of them alike; the figure is the median over the rounds.
Results go to WORK/results.json and the table is printed as Markdown (and written between
the markers of docs/BENCHMARKS.md with --write-docs).
"""

import argparse
import glob
import json
import os
import platform
import re
import resource
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


def timed_cpu(cmd, env=None, cwd=None, before=None):
    """Wall time and CPU time (user + system, of the command and every process it waited
    for, such as the rustc under cargo) of one run of `cmd`, in seconds. The CPU time
    is what load from other processes changes least: it is not time spent waiting for a
    core."""
    if before:
        before()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, stdout=DEVNULL, stderr=DEVNULL)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in ok_codes(cmd):
        raise SystemExit(f"bench: `{' '.join(cmd)}` exited with {proc.returncode}")
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    return elapsed, cpu


def interleaved_cpu(commands, runs, warmup):
    """As `interleaved`, with wall and CPU time: returns two lists of per-round dicts."""
    names = list(commands)
    wall_rounds, cpu_rounds = [], []
    for r in range(warmup + runs):
        order = names[r % len(names):] + names[: r % len(names)]
        wall, cpu = {}, {}
        for name in order:
            c = commands[name]
            wall[name], cpu[name] = timed_cpu(c["cmd"], c.get("env"), c.get("cwd"),
                                              c.get("before"))
        if r >= warmup:
            wall_rounds.append(wall)
            cpu_rounds.append(cpu)
    return wall_rounds, cpu_rounds


def med(values):
    return statistics.median(values)


def spread(values):
    """Minimum, first quartile, median, third quartile and maximum of `values`."""
    q1, q2, q3 = statistics.quantiles(values, n=4) if len(values) > 1 else values * 3
    return {"min": min(values), "q1": q1, "median": q2, "q3": q3, "max": max(values)}


def peak_rss_kib(cmd, env=None):
    """Maximum resident set size of `cmd` in KiB, from GNU time -v."""
    proc = subprocess.run(["/usr/bin/time", "-v"] + cmd, env=env, stdout=DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    return int(found.group(1)) if found else None


def gen(*args):
    out = subprocess.run([sys.executable, os.path.join(HERE, "gen.py"), *args],
                         check=True, capture_output=True, text=True).stdout
    # The generated files (and the registry workspace's git objects) go to disk now, not
    # while the rounds run.
    os.sync()
    return json.loads(out.strip().splitlines()[-1])


# --- 1. scan against rg + cargo metadata -------------------------------------------------

# The check asks cargo for the workspace's target directory and skips what is under it: a
# CARGO_TARGET_DIR from the caller (the generated workspaces sit under the target directory
# by default) would make it skip every file, and so would this repository's
# `.cargo/config.toml` (`target-dir`), which cargo finds above a workspace generated under
# the repository. The check runs with the workspace's own target directory.
CHECK_ENV = {k: v for k, v in os.environ.items() if k != "CARGO_TARGET_DIR"}


def check_env(workspace):
    return {**CHECK_ENV, "CARGO_TARGET_DIR": os.path.join(workspace, "target")}


def check_cmd(args, workspace):
    return [args.xtask, "check-secrets", "--workspace", workspace, "--env", "local",
            "--format", "json"]


def rg_cmd(workspace):
    # --no-ignore: the workspace is generated under target/, which the repository's
    # .gitignore lists; -t rust: the same files the scanner reads (*.rs); -c: a count per
    # file, as a text search for declarations would report them.
    return ["rg", "--no-ignore", "-t", "rust", "-c", "secret!", workspace]


def meta_cmd(workspace):
    return ["cargo", "metadata", "--no-deps", "--format-version", "1", "--offline",
            "--manifest-path", os.path.join(workspace, "Cargo.toml")]


def found_declarations(args, workspace):
    proc = run(check_cmd(args, workspace), env=check_env(workspace), capture=True)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return None
    return report


def compiled_sources(target_dir):
    """The registry sources rustc read for the crates compiled in `target_dir` (its dep-info
    files, `*.d`), as `member/src/...` paths of the registry workspace: files that are
    certainly in a module tree (for this machine's target and the features built)."""
    registry = os.path.join(os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo")),
                            "registry", "src")
    files = set()
    deps = glob.glob(os.path.join(target_dir, "*", "deps")) + \
        glob.glob(os.path.join(target_dir, "*", "*", "deps"))
    for dirpath in deps:
        for name in os.listdir(dirpath):
            if not name.endswith(".d"):
                continue
            with open(os.path.join(dirpath, name), encoding="utf-8", errors="replace") as f:
                for line in f:
                    # Each source on a line of its own: `path:`.
                    path = line.strip()[:-1] if line.strip().endswith(":") else ""
                    if not (path.startswith(registry) and path.endswith(".rs")):
                        continue
                    # .../registry/src/<index>/<name>-<version>/src/...
                    parts = os.path.relpath(path, registry).split(os.sep)
                    if len(parts) < 4 or parts[2] != "src":
                        continue
                    found = re.match(r"(.*)-(\d+\.\d+\.\d+.*)$", parts[1])
                    if found:
                        member = re.sub(r"[^A-Za-z0-9_]", "_",
                                        f"{found.group(1)}_{found.group(2)}")
                        files.add("/".join([member] + parts[2:]))
    return files


def declarations_found(args, workspace):
    """How many of the declarations gen.py appended the check finds, which it misses, and
    how many of them sit in files rustc compiled here (all of those must be found)."""
    report = found_declarations(args, workspace) or {}
    with open(os.path.join(workspace, "appended.json"), encoding="utf-8") as f:
        appended = json.load(f)
    found = {d.get("name") for d in report.get("declarations", [])}
    missed = sorted(path for name, path in appended.items() if name not in found)
    compiled = compiled_sources(args.target_dir) & set(appended.values())
    compiled_names = [name for name, path in appended.items() if path in compiled]
    return {
        "appended": len(appended),
        "found": len(found & set(appended)),
        "missed_files": missed,
        "in_compiled_files": len(compiled_names),
        "in_compiled_files_found": sum(1 for name in compiled_names if name in found),
    }


def bench_scan(args, results):
    workspace = os.path.join(args.work, "registry")
    info = gen("registry", "--repo", args.repo, "--out", workspace, "--every", "10")
    log(f"registry workspace: {info['members']} crates, {info['files']} files, "
        f"{info['bytes'] / 1e6:.1f} MB")
    share = declarations_found(args, workspace)
    log(f"declarations found: {share['found']} of {share['appended']}; in files rustc "
        f"compiled: {share['in_compiled_files_found']} of {share['in_compiled_files']}")
    load_start = os.getloadavg()[0]
    wall, cpu = interleaved_cpu({
        "check": {"cmd": check_cmd(args, workspace), "env": check_env(workspace)},
        "rg": {"cmd": rg_cmd(workspace)},
        "metadata": {"cmd": meta_cmd(workspace)},
    }, args.runs, args.warmup)

    def figures(rounds):
        samples = {name: [r[name] for r in rounds] for name in ("check", "rg", "metadata")}
        return {
            "check_s": med(samples["check"]),
            "rg_s": med(samples["rg"]),
            "metadata_s": med(samples["metadata"]),
            "ratio": med(samples["check"]) / (med(samples["rg"]) + med(samples["metadata"])),
            "per_round": spread([r["check"] / (r["rg"] + r["metadata"]) for r in rounds]),
        }

    results["scan"] = {
        **info,
        **share,
        "wall": figures(wall),
        "cpu": figures(cpu),
        "check_rss_kib": peak_rss_kib(check_cmd(args, workspace), check_env(workspace)),
        "rg_rss_kib": peak_rss_kib(rg_cmd(workspace)),
        "runs": args.runs,
        "load": [load_start, os.getloadavg()[0]],
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
            "check": {"cmd": check_cmd(args, workspace), "env": check_env(workspace)},
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
            "check_rss_kib": peak_rss_kib(check_cmd(args, workspace), check_env(workspace)),
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
    # One round is three incremental checks of well under a second, so this step takes
    # more rounds than the others: under load, 11 rounds gave 0.97x one run and 1.47x the
    # next. Each round gives a ratio of its own; the figure is their median, next to their
    # spread, in wall time and in CPU time (which other processes' load changes least).
    runs = args.macro_runs
    load = [os.getloadavg()[0]]
    wall, cpu = interleaved_cpu(commands, runs, max(2, args.warmup))
    load.append(os.getloadavg()[0])

    def figures(rounds):
        return {
            **{f"{crate}_s": med([r[crate] for r in rounds]) for crate in commands},
            "plain_ratio": spread([r["decl"] / r["plain"] for r in rounds]),
            "noop_ratio": spread([r["decl"] / r["noop"] for r in rounds]),
        }

    results["macro"] = {
        **info,
        "wall": figures(wall),
        "cpu": figures(cpu),
        "load": load,
        "warnings": touch_check_warnings(workspace, env),
        "runs": runs,
    }
    if os.path.isdir(os.path.join(workspace, "listing")):
        results["macro"]["listing"] = run_listing(workspace, env, home, max(3, args.runs // 2))


# --- 3b. the registry: inventory against linkme -----------------------------------------

def bench_registry(args, results):
    """The same 1,000 declarations registered with inventory (as `secret!` does), with
    linkme, and not at all: build cost (incremental `cargo build`, compile and link),
    start-up, and the listing's run time."""
    workspace = os.path.join(args.work, "registries")
    info = gen("registries", "--repo", args.repo, "--out", workspace, "--count", "1000")
    env = {k: v for k, v in os.environ.items() if k != "CARGO_TARGET_DIR"}
    env["CARGO_TARGET_DIR"] = os.path.join(args.work, "registries-target")
    crates = info["crates"]
    log("registries: first build")
    run(["cargo", "build"] + [a for c in crates for a in ("-p", c)], env=env, cwd=workspace)

    def toucher(crate):
        path = os.path.join(workspace, crate, "src", "main.rs")
        return lambda: os.utime(path)

    builds = {crate: {"cmd": ["cargo", "build", "-p", crate], "env": env, "cwd": workspace,
                      "before": toucher(crate)} for crate in crates}
    wall, cpu = interleaved_cpu(builds, args.runs, max(1, args.warmup))
    binaries = {crate: os.path.join(env["CARGO_TARGET_DIR"], "debug", crate)
                for crate in crates}
    # Start-up: 20 processes per round, so that one round is well above the timer's noise.
    starts = {crate: {"cmd": ["sh", "-c", f'for i in $(seq 20); do "{binary}"; done']}
              for crate, binary in binaries.items()}
    start_wall, _ = interleaved_cpu(starts, args.runs, max(1, args.warmup))
    listing = {}
    for crate, binary in binaries.items():
        samples = [json.loads(run([binary, "200"], capture=True).stdout) for _ in range(5)]
        listing[crate] = {key: med([s[key] for s in samples]) for key in samples[0]}
    results["registry"] = {
        **info,
        "build_wall_s": {c: med([r[c] for r in wall]) for c in crates},
        "build_cpu_s": {c: med([r[c] for r in cpu]) for c in crates},
        "build_cpu_ratio": {c: spread([r[c] / r["reg_none"] for r in cpu]) for c in crates},
        "start_ms": {c: med([r[c] for r in start_wall]) / 20 * 1e3 for c in crates},
        "listing": listing,
        "runs": args.runs,
    }
    if not args.keep:
        shutil.rmtree(workspace, ignore_errors=True)


def run_listing(workspace, env, home, runs):
    """`declarations()` and the first `check_all()` over the 1,000 declarations, in a
    program built in debug (medians over `runs` processes)."""
    log("macro: the listing program (cargo build -p listing)")
    run(["cargo", "build", "-p", "listing"], env=env, cwd=workspace)
    program = os.path.join(env["CARGO_TARGET_DIR"], "debug", "listing")
    samples = []
    for _ in range(runs):
        proc = run([program], env=dict(env, HOME=home), cwd=workspace, capture=True)
        samples.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return {key: med([sample[key] for sample in samples]) for key in samples[0]}


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
            # Its own empty target folder, stated: under the repository's `target/`, cargo
            # would otherwise follow the root `.cargo/config.toml` (`target-dir = "target"`)
            # into the repository's cache, and the build would not be clean.
            env["CARGO_TARGET_DIR"] = os.path.join(cwd, "target")
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
    cmd = ["cargo", "bench", "-p", "secret-runtime-benches", "--bench", "expose", "--",
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
    team = criterion_estimate(target_dir, "store", "first_resolution_of_100_team_of_5")
    results["runtime"] = {
        "first_resolution_100_team_of_5_ms": team / 1e6,
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
        row(f"scan: declarations found in the registry workspace ({s['members']} crates, "
            f"{s['files']} files, {s['bytes'] / 1e6:.1f} MB, one appended to every 10th "
            "`.rs` file)",
            f"{s['found']} of {s['appended']}",
            f"in files rustc compiled here: {s['in_compiled_files_found']} of "
            f"{s['in_compiled_files']}", "",
            "every declaration in a file the module tree reaches",
            s["in_compiled_files_found"] == s["in_compiled_files"])
        for label, key, target in (("wall time", "wall", 1.3), ("CPU time", "cpu", 1.6)):
            f = s[key]
            sp = f["per_round"]
            row(f"scan: `check-secrets` over the same workspace, {label} (medians of "
                f"{s['runs']} interleaved rounds, load {s['load'][0]:.1f} to "
                f"{s['load'][1]:.1f})",
                f"{f['check_s'] * 1e3:.0f} ms",
                f"rg {f['rg_s'] * 1e3:.0f} ms + cargo metadata {f['metadata_s'] * 1e3:.0f} ms",
                f"{f['ratio']:.2f}x (per round: median {sp['median']:.2f}x, quartiles "
                f"{sp['q1']:.2f}x to {sp['q3']:.2f}x)",
                f"{'<=' if key == 'wall' else '<'} {target}x",
                f["ratio"] <= target if key == "wall" else f["ratio"] < target)
        lines_mem = (f"{s['check_rss_kib'] / 1024:.0f} MiB"
                     if s.get("check_rss_kib") else "?")
        rg_mem = f"{s['rg_rss_kib'] / 1024:.0f} MiB" if s.get("rg_rss_kib") else "?"
        row("scan: peak memory of `check-secrets`", lines_mem, f"rg {rg_mem}", "", "report",
            True)
    if "macro" in results:
        mc = results["macro"]
        w, c = mc["wall"], mc["cpu"]

        def per_round(sp):
            return (f"(per round: quartiles {sp['q1']:.2f}x to {sp['q3']:.2f}x, extremes "
                    f"{sp['min']:.2f}x to {sp['max']:.2f}x)")

        row("macro: incremental `cargo check` of 1,000 `secret!` statics "
            f"({mc['with_value']} with a local value, {mc['warnings']} warnings), wall time",
            f"{w['decl_s'] * 1e3:.0f} ms",
            f"1,000 `&str` statics {w['plain_s'] * 1e3:.0f} ms",
            f"{w['plain_ratio']['median']:.2f}x", "report", True)
        for label, f in (("wall time", w), ("CPU time", c)):
            row(f"macro: the same against a no-op proc macro emitting the same 1,000 statics, "
                f"{label}; median of {mc['runs']} rounds, load {mc['load'][0]:.1f} to "
                f"{mc['load'][1]:.1f}",
                f"{f['decl_s'] * 1e3:.0f} ms",
                f"no-op proc macro {f['noop_s'] * 1e3:.0f} ms",
                f"{f['noop_ratio']['median']:.2f}x {per_round(f['noop_ratio'])}", "<= 1.25x",
                f["noop_ratio"]["median"] <= 1.25)
    if "macro" in results and "listing" in results["macro"]:
        li = results["macro"]["listing"]
        row(f"run time: `declarations()` of {li['count']:.0f} declarations (debug build, "
            "median of 201 calls)",
            f"{li['listing_ns'] / 1e3:.0f} µs",
            f"the first `check_all()` {li['check_all_ns'] / 1e6:.1f} ms "
            f"({li['missing']:.0f} missing)",
            f"{li['listing_ns'] / li['check_all_ns'] * 100:.2f}%", "report", True)
    if "registry" in results:
        rg = results["registry"]
        inv, lm, none = (rg["listing"][c] for c in ("reg_inventory", "reg_linkme", "reg_none"))
        cr = rg["build_cpu_ratio"]
        row("registry: incremental `cargo build` (compile and link) of 1,000 declarations "
            "registered with inventory, CPU time",
            f"{rg['build_cpu_s']['reg_inventory']:.2f} s",
            f"none {rg['build_cpu_s']['reg_none']:.2f} s; linkme "
            f"{rg['build_cpu_s']['reg_linkme']:.2f} s ({cr['reg_linkme']['median']:.2f}x)",
            f"{cr['reg_inventory']['median']:.2f}x", "report", True)
        row("registry: start-up of the program (1,000 constructors with inventory)",
            f"{rg['start_ms']['reg_inventory']:.2f} ms",
            f"none {rg['start_ms']['reg_none']:.2f} ms; linkme "
            f"{rg['start_ms']['reg_linkme']:.2f} ms",
            f"{rg['start_ms']['reg_inventory'] / rg['start_ms']['reg_none']:.2f}x", "report",
            True)
        row("registry: listing and sorting the 1,000 declarations, inventory (debug build)",
            f"{inv['listing_ns'] / 1e3:.0f} µs", f"linkme {lm['listing_ns'] / 1e3:.0f} µs",
            f"{inv['listing_ns'] / lm['listing_ns']:.2f}x", "report", True)
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
        if "first_resolution_100_team_of_5_ms" in rt:
            row("run time: one `resolve` each, values encrypted to a team of 5 readers",
                f"{rt['first_resolution_100_team_of_5_ms']:.2f} ms", floor,
                f"{rt['first_resolution_100_team_of_5_ms'] / rt['age_decrypt_100_ms']:.2f}x",
                "report", True)
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
    p.add_argument("--target-dir", help="the target directory whose dep-info files tell "
                   "which registry sources rustc compiled (default: the xtask's)")
    p.add_argument("--only", default="scan,scaling,macro,registry,deps,runtime")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--keep", action="store_true", help="keep the generated workspaces")
    p.add_argument("--write-docs", metavar="FILE")
    args = p.parse_args()
    args.target_dir = args.target_dir or os.path.dirname(os.path.dirname(
        os.path.abspath(args.xtask)))
    args.runs = int(os.environ.get("BENCH_RUNS", 5 if args.quick else 11))
    args.warmup = int(os.environ.get("BENCH_WARMUP", 1 if args.quick else 2))
    args.macro_runs = int(os.environ.get("BENCH_MACRO_RUNS", 11 if args.quick else 31))
    args.clean_runs = int(os.environ.get("BENCH_CLEAN_RUNS", 1))
    args.sizes = [int(s) for s in os.environ.get("BENCH_SIZES", "10,100,1000").split(",")]
    args.warm_up_time = float(os.environ.get("BENCH_WARM_UP_TIME", 1 if args.quick else 2))
    args.measurement_time = float(
        os.environ.get("BENCH_MEASUREMENT_TIME", 2 if args.quick else 5))
    os.makedirs(args.work, exist_ok=True)
    only = set(args.only.split(","))
    results = {"machine": machine(args)}
    steps = [("scan", bench_scan), ("scaling", bench_scaling), ("macro", bench_macro),
             ("registry", bench_registry), ("deps", bench_deps), ("runtime", bench_runtime)]
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
