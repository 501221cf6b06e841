#!/usr/bin/env python3
"""The dashboard's load and update times in headless Chromium; run by bench/dashboard.sh.

Generates a workspace of 300 declared secrets x 6 environments (4 types and 2 named
environments, most values set) and, as the baseline in the same run, one of 10 secrets with
the same environments. Starts `xtask secret ui --no-open` on each, drives Chromium through
chromedriver (WebDriver over HTTP, standard library only), and in interleaved rounds
measures, from the page's own performance marks:

- first load: a new one-time link opened in the tab, from the navigation's start until the
  grid is built and laid out (`render-done`);
- update: a value set with the CLI; from the moment the changed state reaches the page until
  its grid shows it (the `update` measure), against building the whole grid
  (`apply` of the first load);
- end to end: from the CLI's `set` returning until the page shows the change (includes the
  server noticing the file change, at most every 0.5 s, and running the check again).

The table is printed as Markdown, and written between the dashboard markers of
docs/BENCHMARKS.md with --write-docs.
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ENVIRONMENTS = ["production", "development", "preview", "local", "staging", "prod-eu"]


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the workspace ---------------------------------------------------------------------------

def generate(root, count, xtask, home):
    """A workspace with `count` declared secrets and values for most of them."""
    os.makedirs(os.path.join(root, "app", "src"))
    with open(os.path.join(root, "Cargo.toml"), "w") as f:
        f.write('[workspace]\nresolver = "3"\nmembers = ["app"]\n')
    with open(os.path.join(root, "app", "Cargo.toml"), "w") as f:
        f.write('[package]\nname = "app"\nversion = "0.1.0"\nedition = "2024"\n')
    names = [f"Service{i:03}ApiKey" for i in range(count)]
    with open(os.path.join(root, "app", "src", "main.rs"), "w") as f:
        f.write("use secret_runtime::{secret, Secret};\n\n")
        for i, name in enumerate(names):
            f.write(f"/// The API key of service {i}, used by the billing and reporting jobs\n")
            f.write(f'static S{i}: Secret = secret!("{name}");\n')
        f.write("fn main() {}\n")
    with open(os.path.join(root, "secrets.toml"), "w") as f:
        f.write('[environments]\nstaging = "development"\nprod-eu = "production"\n\n[recipients]\n')
    env = dict(os.environ, HOME=home)
    # cargo (for `cargo metadata`) is found through the real home's rustup.
    real_home = os.path.expanduser("~")
    env.setdefault("RUSTUP_HOME", os.path.join(real_home, ".rustup"))
    env.setdefault("CARGO_HOME", os.path.join(real_home, ".cargo"))
    env.pop("SECRETS_IDENTITY", None)
    env.pop("SECRETS_IDENTITY_KEY", None)
    cli(xtask, ["init"], root, env)
    # Every 7th is missing for production, every 11th for development, and so on.
    gaps = {"--type=prod": 7, "--type=dev": 11, "--type=preview": 5, "--type=local": 13,
            "--env=staging": 3, "--env=prod-eu": 4}
    for flag, gap in gaps.items():
        path = os.path.join(root, "values.env")
        with open(path, "w") as f:
            for i, name in enumerate(names):
                if i % gap:
                    f.write(f"{name}=value-{flag[-4:]}-{i}-0123456789abcdef\n")
        cli(xtask, ["import", flag, path], root, env)
        os.remove(path)
    return env, names


def cli(xtask, args, root, env, stdin=None):
    # From the workspace, as a user runs it.
    proc = subprocess.run([xtask, "secret", *args, "--workspace", root], env=env, input=stdin,
                          capture_output=True, text=True, cwd=root)
    if proc.returncode != 0:
        raise SystemExit(f"bench: secret {' '.join(args)}: {proc.stderr}")


class Dashboard:
    """`xtask secret ui --no-open`; each line written to its stdin prints a new link."""

    def __init__(self, xtask, root, env):
        self.proc = subprocess.Popen([xtask, "secret", "ui", "--no-open", "--workspace", root],
                                     env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, bufsize=1, cwd=root)
        self.first_link = None
        while self.first_link is None:
            line = self.proc.stdout.readline()
            if not line:
                raise SystemExit("bench: the dashboard did not start")
            self.first_link = link_in(line)

    def link(self):
        if self.first_link:
            link, self.first_link = self.first_link, None
            return link
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        while True:
            link = link_in(self.proc.stdout.readline())
            if link:
                return link

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def link_in(line):
    for word in line.split():
        if word.startswith("http://") and "#token=" in word:
            return word
    return None


# --- the browser -----------------------------------------------------------------------------

class Browser:
    def __init__(self, width=1280, height=800):
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        driver = shutil.which("chromedriver")
        if not chromium or not driver:
            raise SystemExit("bench: needs chromium and chromedriver (apt-get install chromium chromium-driver)")
        port = free_port()
        self.driver = subprocess.Popen([driver, f"--port={port}"], stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                self.call("GET", "/status")
                break
            except OSError:
                time.sleep(0.05)
        self.profile = tempfile.mkdtemp(prefix="bench-chromium-")
        args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", f"--window-size={width},{height}",
                f"--user-data-dir={self.profile}"]
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": chromium, "args": args}}}}
        self.session = self.call("POST", "/session", caps)["sessionId"]
        # The viewport itself is width x height (the window's size includes no browser
        # frame in headless mode, but this does not depend on it).
        self.command("POST", "/goog/cdp/execute", {
            "cmd": "Emulation.setDeviceMetricsOverride",
            "params": {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}})

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read())["value"]
        except urllib.error.HTTPError as error:
            raise SystemExit(f"bench: WebDriver {method} {path}: {error.read()[:2000]!r}")

    def command(self, method, path, body=None):
        return self.call(method, f"/session/{self.session}{path}", body)

    def goto(self, url):
        self.command("POST", "/url", {"url": url})

    def eval(self, script):
        return self.command("POST", "/execute/sync", {"script": script, "args": []})

    def wait(self, script, timeout=20):
        started = time.perf_counter()
        while True:
            value = self.eval(script)
            if value:
                return value
            if time.perf_counter() - started > timeout:
                raise SystemExit(f"bench: timed out waiting for {script}")
            time.sleep(0.01)

    def close(self):
        try:
            self.call("DELETE", f"/session/{self.session}")
        except OSError:
            pass
        self.driver.kill()
        self.driver.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


# --- measuring -------------------------------------------------------------------------------

def first_load(browser, dashboard):
    browser.goto("about:blank")
    browser.goto(dashboard.link())
    browser.wait("return document.body.dataset.ready === 'yes';")
    return browser.eval(
        "const m = performance.getEntriesByName('render-done')[0];"
        "const a = performance.getEntriesByName('apply-render')[0];"
        "return [m.startTime, a.duration];")


def update(browser, xtask, root, env, name, round_):
    before = browser.eval("return document.body.dataset.version;")
    cli(xtask, ["set", "--type", "prod", name], root, env, stdin=f"updated-{round_}-0123456789")
    cli_done = time.time() * 1000
    browser.wait(f"return document.body.dataset.version !== {json.dumps(before)} && "
                 "performance.getEntriesByName('update').length > 0 && "
                 "document.body.dataset.version;")
    # Let the frame that marks the update run.
    browser.wait(f"return performance.getEntriesByName('update-done').length >= {round_ + 1};")
    return browser.eval(
        "const u = performance.getEntriesByName('update');"
        "const d = performance.getEntriesByName('update-done');"
        f"return [u[u.length - 1].duration, performance.timeOrigin + d[d.length - 1].startTime - {cli_done}];")


def page_facts(browser):
    return browser.eval("""
        const rows = document.querySelectorAll('#grid-body .row');
        const state = performance.getEntriesByType('resource').filter(e => e.name.includes('/api/state'));
        return {
          elements: document.getElementsByTagName('*').length,
          rows: rows.length,
          row_height: rows[0].getBoundingClientRect().height,
          state_bytes: state.length ? state[0].encodedBodySize : 0,
        };""")


def median(values):
    return statistics.median(values)


def measure(args, workspaces):
    results = {name: {"load": [], "apply": [], "update": [], "e2e": []} for name in workspaces}
    browser = Browser()
    try:
        order = list(workspaces)
        for round_ in range(args.warmup + args.rounds):
            for name in order if round_ % 2 == 0 else reversed(order):
                ws = workspaces[name]
                load, apply = first_load(browser, ws["dashboard"])
                if round_ == args.warmup:
                    results[name]["facts"] = page_facts(browser)
                upd, e2e = update(browser, args.xtask, ws["root"], ws["env"], ws["names"][round_ % len(ws["names"])], 0)
                if round_ >= args.warmup:
                    for key, value in (("load", load), ("apply", apply), ("update", upd), ("e2e", e2e)):
                        results[name][key].append(value)
            log(f"round {round_ + 1} of {args.warmup + args.rounds}")
    finally:
        browser.close()
    return results


def table(args, results):
    big, small = results["300"], results["10"]
    f = big["facts"]
    load_b, load_s = median(big["load"]), median(small["load"])
    upd_b, apply_b = median(big["update"]), median(big["apply"])
    lines = [
        f"Machine: {os.cpu_count()} CPUs, load average {args.load:.2f} at the start; Chromium "
        f"{args.chromium}; {args.rounds} rounds (after {args.warmup} warm-up), medians; "
        "release build of `xtask`.",
        "",
        "| figure | measured | baseline (same run) | ratio | target | met |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| first load, 300 secrets x 6 environments: a new link opened until the grid is laid out | {load_b:.0f} ms "
        f"| 10 secrets x 6 environments {load_s:.0f} ms | {load_b / load_s:.2f}x | < 300 ms | "
        f"{'yes' if load_b < 300 else '**no**'} |",
        f"| update, 300 x 6: one value set with the CLI, from the new state reaching the page until the grid shows it | {upd_b:.1f} ms "
        f"| building the whole grid (first load) {apply_b:.1f} ms | {upd_b / apply_b:.2f}x | < 100 ms | "
        f"{'yes' if upd_b < 100 else '**no**'} |",
        f"| end to end, 300 x 6: the CLI's `set` returned until the grid shows it | {median(big['e2e']):.0f} ms "
        f"| 10 x 6 {median(small['e2e']):.0f} ms | {median(big['e2e']) / median(small['e2e']):.2f}x | report | yes |",
        "",
        f"The 300 x 6 page: {f['elements']} elements, {f['rows']} rows of {f['row_height']:.0f} px "
        f"({800 / f['row_height']:.0f} per 800 px), the state {f['state_bytes'] / 1024:.0f} KiB of JSON.",
    ]
    return "\n".join(lines) + "\n"


START = "<!-- bench:dashboard:start (written by bench/dashboard.sh) -->"
END = "<!-- bench:dashboard:end -->"


def write_docs(path, text):
    with open(path, encoding="utf-8") as f:
        doc = f.read()
    if START not in doc or END not in doc:
        raise SystemExit(f"bench: {path} has no dashboard markers")
    head, rest = doc.split(START, 1)
    _, tail = rest.split(END, 1)
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"{head}{START}\n{text}{END}{tail}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--xtask", required=True, help="an xtask built with the `ui` feature")
    p.add_argument("--work", required=True)
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--write-docs", metavar="FILE")
    args = p.parse_args()
    args.load = os.getloadavg()[0]
    args.chromium = subprocess.run(["chromium", "--version"], capture_output=True,
                                   text=True).stdout.split()[1:2] or ["?"]
    args.chromium = args.chromium[0]
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    workspaces = {}
    try:
        for count in (300, 10):
            root = os.path.join(args.work, f"ws{count}")
            home = os.path.join(args.work, f"home{count}")
            os.makedirs(home)
            log(f"generating {count} secrets x {len(ENVIRONMENTS)} environments")
            env, names = generate(root, count, args.xtask, home)
            workspaces[str(count)] = {"root": root, "env": env, "names": names,
                                      "dashboard": Dashboard(args.xtask, root, env)}
        results = measure(args, workspaces)
    finally:
        for ws in workspaces.values():
            ws["dashboard"].stop()
    with open(os.path.join(args.work, "results.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2)
    text = table(args, results)
    print(text)
    if args.write_docs:
        write_docs(args.write_docs, text)
        log(f"wrote the table to {args.write_docs}")


if __name__ == "__main__":
    main()
