// The dashboard's script, served from the binary.
//
// Session: the tab trades a one-time link token (from the launcher's form, or the link's
// fragment) for a session it keeps in sessionStorage and sends in a header; there is no
// cookie. Every answer must name the server start that gave the session: a network
// error, a 5xx or any other answer stops this tab for good (banner, every form disabled,
// nothing sent again), so a value never goes to a process that took the port.
//
// Values travel only in POST bodies (set) and in the answer to an explicit reveal. Text
// from the server is always inserted as text: the page is built with DOM calls, never
// from HTML strings.
"use strict";

(() => {
  const KEY = "secrets-dashboard";
  const SESSION_HEADER = "X-Dashboard-Session";
  const INSTANCE_HEADER = "X-Dashboard-Instance";
  const $ = (id) => document.getElementById(id);

  let auth = null; // { session, instance }
  let stopped = false;
  let state = null; // the last state the server sent
  let version = "";
  const rows = new Map(); // name -> { tr, rev, row, text, missing: Set, attention, rotation }
  let envKey = ""; // the environments the table was built for
  let selected = null; // the secret whose details are shown
  let detailsRev = null; // the row's `rev` they were drawn from
  let conflict = null; // { key, others } of the form a conflict was shown for
  let confirmed = null; // a new name the user chose to set anyway
  let busy = false;

  class Stopped extends Error {}

  /** An element with properties and children (strings become text nodes). */
  function h(tag, props, ...children) {
    const element = document.createElement(tag);
    if (props) {
      for (const [name, value] of Object.entries(props)) {
        if (value === undefined || value === null || value === false) continue;
        if (name === "class") element.className = value;
        else if (name === "text") element.textContent = value;
        else if (name.startsWith("data-")) element.setAttribute(name, value);
        else if (name in element) element[name] = value;
        else element.setAttribute(name, value);
      }
    }
    for (const child of children) {
      if (child !== null && child !== undefined && child !== false) element.append(child);
    }
    return element;
  }

  /** Replaces the children of `element` (null and false children are left out). */
  function put(element, ...children) {
    element.replaceChildren(...children.filter((child) => child !== null && child !== undefined && child !== false));
  }

  function short(key) {
    return key.length > 16 ? key.slice(0, 10) + "…" + key.slice(-4) : key;
  }

  function plural(count, word) {
    return count + " " + word + (count === 1 ? "" : "s");
  }

  // ---- talking to the server --------------------------------------------------------------

  function stop(why) {
    if (stopped) return;
    stopped = true;
    const port = location.port;
    const banner = $("stopped");
    put(
      banner,
      h("strong", { text: "This dashboard has stopped. " }),
      why + ". Nothing more is sent from this tab. Start `cargo xtask secret ui` again and open the link it prints" +
        (port ? " (another program may now answer on port " + port + ")." : "."),
    );
    banner.hidden = false;
    document.body.classList.add("is-stopped");
    $("live").textContent = "stopped";
    $("live").className = "live off";
    $("value").value = "";
    disableAll();
  }

  /** A stopped tab: every control that could send is disabled, revealed values go. */
  function disableAll() {
    for (const output of document.querySelectorAll("output.revealed")) {
      output.textContent = "";
      output.hidden = true;
    }
    for (const control of document.querySelectorAll("#app button, #app input, #app select, #app textarea")) {
      if (control.id !== "search" && control.id !== "filter") control.disabled = true;
    }
  }

  /** One request to this tab's server; throws Stopped when anything else answers. */
  async function api(method, path, body) {
    if (stopped) throw new Stopped();
    const headers = { [SESSION_HEADER]: auth.session };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
        credentials: "omit",
        redirect: "error",
      });
    } catch (error) {
      stop("The server does not answer (" + error.message + ")");
      throw new Stopped();
    }
    if (response.headers.get(INSTANCE_HEADER) !== auth.instance) {
      stop(
        response.status === 401
          ? "The program on this port does not know this tab (the dashboard was restarted)"
          : "Another program answered (HTTP " + response.status + ")",
      );
      throw new Stopped();
    }
    if (response.status >= 500) {
      stop("The server failed (HTTP " + response.status + ")");
      throw new Stopped();
    }
    const arrived = performance.now();
    try {
      return { status: response.status, data: await response.json(), arrived };
    } catch (error) {
      stop("The server's answer could not be read");
      throw new Stopped();
    }
  }

  /** Runs `work`, treating a stopped tab as done. */
  async function guarded(work) {
    try {
      await work();
    } catch (error) {
      if (!(error instanceof Stopped)) throw error;
    }
  }

  // ---- the session ------------------------------------------------------------------------

  function gate(text) {
    $("gate").textContent = text;
    $("gate").hidden = false;
    $("live").textContent = "no session";
    $("live").className = "live off";
  }

  async function start() {
    const handoff = document.querySelector('meta[name="handoff"]').content;
    if (handoff) {
      // The launcher's form: keep the session, then load the page at "/" (a reload must
      // not post the spent token again).
      const [session, instance] = handoff.split(" ");
      sessionStorage.setItem(KEY, JSON.stringify({ session, instance }));
      location.replace("/");
      return;
    }
    if (location.hash.startsWith("#token=")) {
      const token = location.hash.slice("#token=".length);
      // Out of the address bar and this tab's history before anything else.
      history.replaceState(null, "", location.pathname);
      let answer;
      try {
        const response = await fetch("/api/session", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ token }),
          cache: "no-store",
          credentials: "omit",
          redirect: "error",
        });
        answer = await response.json();
      } catch (error) {
        gate("The dashboard does not answer: " + error.message);
        return;
      }
      if (!answer.ok) {
        gate(answer.error);
        return;
      }
      sessionStorage.setItem(KEY, JSON.stringify({ session: answer.session, instance: answer.instance }));
    }
    try {
      auth = JSON.parse(sessionStorage.getItem(KEY));
    } catch (error) {
      auth = null;
    }
    if (!auth || !auth.session || !auth.instance) {
      gate("No session: open the link `cargo xtask secret ui` printed (each link opens one tab; press Enter in its terminal for a new one).");
      return;
    }
    $("app").hidden = false;
    $("live").textContent = "live";
    $("live").className = "live on";
    await guarded(watch);
  }

  /** Keeps one request for changes open: the state when it changes, and an error at
   * once when the server goes away. */
  async function watch() {
    for (;;) {
      const answer = await api("GET", "/api/state?since=" + encodeURIComponent(version));
      if (answer.status !== 200) {
        stop("The server refused this tab (HTTP " + answer.status + ")");
        return;
      }
      if (answer.data.unchanged) continue;
      try {
        // The first load counts from the navigation; an update from its answer's arrival.
        apply(answer.data, state === null ? 0 : answer.arrived);
      } catch (error) {
        console.error(error);
      }
    }
  }

  // ---- the grid ---------------------------------------------------------------------------

  // A cell's glyph is drawn by the style sheet; its text is the word.
  const CELL = {
    set: "set",
    override: "override",
    optional: "optional",
    none: "none",
    missing: "missing",
  };

  function applyEnvironments(environments) {
    const key = JSON.stringify(environments);
    if (key === envKey) return false;
    envKey = key;
    const head = h(
      "div",
      { class: "row head", role: "row" },
      h("div", { role: "columnheader", class: "c-name", text: "Secret" }),
      ...environments.map((env, index) =>
        h(
          "div",
          { role: "columnheader", class: "c-env", "data-env": env.name, title: env.name + (env.kind === "type" ? " (type)" : " (" + env.type + " environment)") },
          h("span", { class: "env-name", text: env.name }),
          h("span", { class: "env-short", text: env.short }),
          h("span", { class: "env-kind", text: env.kind === "type" ? "type" : env.type + " env" }),
          h("span", { class: "env-missing", id: "missing-" + index }),
        ),
      ),
      h("div", { role: "columnheader", class: "c-readers", text: "Readers" }),
      h("div", { role: "columnheader", class: "c-status", text: "Status" }),
    );
    put($("grid-head"), head);
    $("grid").style.setProperty("--envs", String(environments.length));
    return true;
  }

  /** A scope key in words: `type:development,local` is "development, local",
   * `env:staging` is "env staging". */
  function scopeLabel(key) {
    const [kind, list] = [key.slice(0, key.indexOf(":")), key.slice(key.indexOf(":") + 1)];
    return (kind === "env" ? "env " : "") + list.split(",").join(", ");
  }

  const badgesOf = (value) => value.badges || [];

  /** The keys of the state, and which are the user's. */
  const keyOf = (index) => state.keys[index];
  const isMine = (index) => state.identity.keys.includes(state.keys[index]);
  const readable = (value) => value.readers.some(isMine);

  function cellElement(row, cell) {
    const [kind, detail] = cell;
    let className = "cell " + kind + (kind === "missing" ? " " + detail : "");
    if (kind === "set" && detail !== undefined) {
      const value = row.values[detail];
      const badges = badgesOf(value);
      if (badges.some(([level]) => level === "error")) className += " flag-error";
      else if (badges.length) className += " flag-warning";
    }
    const td = document.createElement("div");
    td.setAttribute("role", "cell");
    const button = document.createElement("button");
    button.type = "button";
    button.className = className;
    button.dataset.action = "fill";
    button.textContent = CELL[kind];
    td.append(button);
    return td;
  }

  /** A cell's tooltip, made when the pointer first reaches it. */
  function cellTitle(button) {
    const tr = button.closest(".row");
    const meta = rows.get(tr.dataset.name);
    const index = [...tr.children].indexOf(button.parentElement) - 1;
    const env = state.environments[index];
    if (!meta || !env) return;
    const [kind, detail] = meta.row.cells[index];
    let words = { set: "set", override: "set by a local override file", optional: "optional, not set", none: "no value (no code declares it)", missing: "missing" }[kind];
    if (kind === "set" && detail !== undefined) {
      const value = meta.row.values[detail];
      const badges = badgesOf(value);
      words = "set (the value for " + scopeLabel(value.scope) + ")" + (badges.length ? ": " + badges.map(([, text]) => text).join(", ") : "");
    }
    button.title = meta.row.name + " for " + env.name + ": " + words + ". Click to set it.";
  }

  function readers(row) {
    const keys = new Set();
    let you = false;
    for (const value of row.values) {
      for (const index of value.readers) keys.add(keyOf(index));
      you = you || readable(value);
    }
    return { keys: [...keys], you };
  }

  function statusBadges(row) {
    const badges = new Map();
    for (const value of row.values) {
      for (const [level, text] of badgesOf(value)) badges.set(text, level);
    }
    const list = [...badges].map(([text, level]) => [level, text]);
    if (!row.declared) list.push(["muted", "unused"]);
    if (row.optional) list.push(["muted", "optional"]);
    return list;
  }

  function rowElement(row) {
    const who = readers(row);
    const badges = statusBadges(row);
    const others = who.keys.length - (who.you ? 1 : 0);
    const readersText = who.keys.length === 0 ? "—" : who.you ? (others ? "you + " + others : "you") : plural(who.keys.length, "key");
    const tr = h(
      "div",
      { class: "row", role: "row", id: "row-" + row.name, "data-name": row.name },
      h(
        "div",
        { role: "rowheader", class: "c-name" },
        h("button", { type: "button", class: "name", "data-action": "details", title: "Details of " + row.name, text: row.name }),
        row.description ? h("span", { class: "desc", text: row.description, title: row.description }) : null,
      ),
      ...row.cells.map((cell) => cellElement(row, cell)),
      h("div", { role: "cell", class: "c-readers", title: who.keys.join("\n") || "no stored value", text: readersText }),
      h("div", { role: "cell", class: "c-status" }, ...badges.map(([level, text]) => h("span", { class: "badge " + level, text }))),
    );
    return tr;
  }

  function rowMeta(row, tr) {
    const missing = new Set();
    row.cells.forEach((cell, index) => {
      if (cell[0] === "missing") missing.add(state.environments[index].name);
    });
    const badges = statusBadges(row);
    return {
      tr,
      rev: row.rev,
      row,
      name: row.name.toLowerCase(),
      // Words of the description, each after a space: a search word matches a word's start.
      words: " " + (row.description || "").toLowerCase().replace(/\s+/g, " "),
      missing,
      attention: badges.some(([level]) => level === "error" || level === "warning") || !row.declared,
      rotation: badges.some(([, text]) => text === "rotation due"),
    };
  }

  /** Applies a new state: only the rows whose `rev` changed are built again. */
  function apply(next, started) {
    const applying = performance.now();
    const first = state === null;
    const mark = first ? "render" : "update";
    state = next;
    version = next.version;
    $("title").textContent = next.title ? "· " + next.title : "";
    document.title = "Secrets · " + (next.title || "");
    $("workspace").textContent = next.workspace || "";
    $("workspace").title = next.workspace || "";
    if (next.error) {
      const failure = $("load-error");
      put(
        failure,
        "error: " + next.error.message,
        ...(next.error.help || []).map((line) => h("span", { class: "help", text: "help: " + line })),
      );
      failure.hidden = false;
      ready(mark, started, applying);
      return;
    }
    $("load-error").hidden = true;
    identity(next.identity);
    const body = $("grid-body");
    if (applyEnvironments(next.environments)) {
      // Other columns: every row is built again.
      for (const meta of rows.values()) meta.tr.remove();
      rows.clear();
    }
    const seen = new Set();
    let previous = null;
    const fragment = first ? document.createDocumentFragment() : null;
    for (const row of next.rows) {
      seen.add(row.name);
      let meta = rows.get(row.name);
      if (!meta || meta.rev !== row.rev) {
        const tr = rowElement(row);
        if (meta) meta.tr.replaceWith(tr);
        meta = rowMeta(row, tr);
        rows.set(row.name, meta);
      }
      if (fragment) {
        fragment.append(meta.tr);
      } else {
        const want = previous ? previous.nextSibling : body.firstChild;
        if (want !== meta.tr) body.insertBefore(meta.tr, want);
      }
      previous = meta.tr;
    }
    if (fragment) body.append(fragment);
    for (const [name, meta] of rows) {
      if (!seen.has(name)) {
        meta.tr.remove();
        rows.delete(name);
      }
    }
    summary();
    findings();
    editorChoices();
    names();
    filter();
    if (selected && (!rows.get(selected) || rows.get(selected).rev !== detailsRev)) details(selected);
    if (stopped) disableAll();
    ready(mark, started, applying);
  }

  /** Marks the state shown once the browser has laid the page out, before it paints. */
  function ready(mark, started, applying) {
    requestAnimationFrame(() => {
      void document.body.offsetHeight; // the layout, done now rather than after the mark
      const done = performance.now();
      performance.mark(mark + "-done");
      performance.measure(mark, { start: started, end: done });
      performance.measure("apply-" + mark, { start: applying, end: done });
      document.body.dataset.version = version;
      document.body.dataset.ready = "yes";
    });
  }

  function identity(id) {
    const you = $("you");
    if (id.note) {
      you.textContent = id.note;
      you.className = "warning-text";
    } else {
      put(you, "you: ", ...id.keys.map((key) => h("code", { title: key, text: short(key) })));
      you.className = "muted";
    }
  }

  function summary() {
    const environments = state.environments;
    const chips = [h("span", { class: "chip total", text: plural(state.rows.length, "secret") })];
    const missing = [];
    environments.forEach((env, index) => {
      let count = 0;
      for (const meta of rows.values()) if (meta.missing.has(env.name)) count += 1;
      const head = $("missing-" + index);
      if (head) put(head, ...(count ? [String(count), h("span", { class: "word", text: " missing" })] : []));
      if (count) {
        missing.push(
          h(
            "button",
            { type: "button", class: "chip " + (env.cloud ? "error" : "warning"), "data-filter": "missing:" + env.name, title: "Show the secrets missing for " + env.name },
            env.name + " ",
            h("b", { text: String(count) }),
          ),
        );
      }
    });
    if (missing.length) chips.push(h("span", { class: "label", text: "Missing for" }), ...missing);
    else if (state.rows.some((row) => row.declared)) chips.push(h("span", { class: "chip ok", text: "✓ every declared secret has a value in every environment" }));
    let rotation = 0;
    let unused = 0;
    for (const meta of rows.values()) {
      if (meta.rotation) rotation += 1;
      if (!meta.row.declared) unused += 1;
    }
    if (rotation || unused) chips.push(h("span", { class: "label" }));
    if (rotation) chips.push(h("button", { type: "button", class: "chip warning", "data-filter": "rotation", title: "Show the values due for rotation" }, h("b", { text: String(rotation) }), " due for rotation"));
    if (unused) chips.push(h("button", { type: "button", class: "chip muted", "data-filter": "unused", title: "Show the stored secrets no code declares" }, h("b", { text: String(unused) }), " unused"));
    put($("summary"), ...chips);
    const counts = $("counts");
    counts.textContent = plural(state.errors, "error") + " · " + plural(state.warnings, "warning");
    counts.className = state.errors ? "counts error-text" : "counts muted";
  }

  function findings() {
    const list = state.findings;
    const box = $("findings");
    box.hidden = list.length === 0;
    box.querySelector("summary").textContent = "Findings of the check (" + list.length + ")";
    put(
      box.querySelector("ul"),
      ...list.map((finding) =>
        h(
          "li",
          { class: finding.severity },
          h("code", { text: finding.code }),
          " " + finding.message,
          finding.help ? h("span", { class: "help", text: "help: " + finding.help }) : null,
        ),
      ),
    );
  }

  // ---- search and filters -----------------------------------------------------------------

  function filterOptions() {
    const options = [["all", "all secrets"], ["missing", "missing anywhere"]];
    for (const env of state.environments) options.push(["missing:" + env.name, "missing for " + env.name]);
    options.push(["attention", "needing attention"], ["rotation", "due for rotation"], ["unused", "unused"]);
    return options;
  }

  function filter() {
    const select = $("filter");
    const options = filterOptions();
    const wanted = options.map(([value]) => value).join("\n");
    if (select.dataset.options !== wanted) {
      const current = select.value || "all";
      put(select, ...options.map(([value, text]) => h("option", { value, text })));
      select.value = options.some(([value]) => value === current) ? current : "all";
      select.dataset.options = wanted;
    }
    const words = $("search").value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const show = select.value;
    let shown = 0;
    for (const meta of rows.values()) {
      // Each word: anywhere in the name (`apikey` finds `StripeApiKey`), or at the start
      // of a word of the description.
      let visible = words.every((word) => meta.name.includes(word) || meta.words.includes(" " + word));
      if (visible && show !== "all") {
        if (show === "missing") visible = meta.missing.size > 0;
        else if (show.startsWith("missing:")) visible = meta.missing.has(show.slice("missing:".length));
        else if (show === "attention") visible = meta.attention;
        else if (show === "rotation") visible = meta.rotation;
        else if (show === "unused") visible = !meta.row.declared;
      }
      if (meta.tr.hidden === visible) meta.tr.hidden = !visible;
      if (visible) shown += 1;
    }
    $("shown").textContent = shown === rows.size ? plural(rows.size, "secret") : shown + " of " + rows.size;
    $("empty").hidden = shown !== 0 || rows.size === 0;
  }

  // ---- the editor -------------------------------------------------------------------------

  function editorChoices() {
    const types = $("types");
    if (!types.childElementCount) {
      types.append(...state.types.map((type) => choice("type", type, type)));
    }
    const envs = $("envs");
    const have = [...envs.querySelectorAll("input")].map((input) => input.value).join("\n");
    if (have !== state.named.join("\n")) {
      const checked = new Set([...envs.querySelectorAll("input:checked")].map((input) => input.value));
      put(
        envs,
        ...(state.named.length ? [h("span", { class: "or", text: "or" })] : []),
        ...state.named.map((name) => {
          const label = choice("env", name, name);
          label.querySelector("input").checked = checked.has(name);
          return label;
        }),
      );
      if (stopped) disableAll();
    }
  }

  function choice(group, value, text) {
    return h("label", { class: "choice" }, h("input", { type: "checkbox", name: group, value, id: group + "-" + value }), " " + text);
  }

  function names() {
    const list = $("names");
    const wanted = state.rows.map((row) => row.name).join("\n");
    if (list.dataset.names === wanted) return;
    list.dataset.names = wanted;
    put(list, ...state.rows.map((row) => h("option", { value: row.name })));
  }

  function formTarget() {
    const checked = (group) =>
      [...document.querySelectorAll('#set-form input[name="' + group + '"]:checked')].map((input) => input.value);
    return { name: $("name").value.trim(), types: checked("type"), envs: checked("env") };
  }

  const formKey = (target) => JSON.stringify([target.name, target.types, target.envs]);

  function clearConflict() {
    conflict = null;
    $("conflict").hidden = true;
  }

  function clearErrors(which) {
    for (const id of which) $(id).textContent = "";
    $("name-error").classList.remove("warning-text");
  }

  /** The name rule of secret-syntax, checked as the user types. */
  function nameProblem(name) {
    if (!name) return "Type the secret's name";
    const rule = state ? state.name_rule : "";
    if (!/^[A-Za-z]/.test(name)) return "The name starts with “" + name[0] + "”; " + rule;
    const bad = name.search(/[^A-Za-z0-9_]/);
    if (bad >= 0) return "The name has “" + name[bad] + "” at position " + (bad + 1) + "; " + rule;
    if (name.length > 128) return "The name is " + name.length + " characters long; " + rule;
    return "";
  }

  function validate(target, needValue) {
    clearErrors(["name-error", "scope-error", "value-error", "form-error"]);
    let ok = true;
    const problem = nameProblem(target.name);
    if (problem) {
      $("name-error").textContent = problem;
      ok = false;
    }
    if (!target.types.length && !target.envs.length) {
      $("scope-error").textContent = "Choose at least one environment type or named environment";
      ok = false;
    } else if (target.types.length && target.envs.length) {
      $("scope-error").textContent = "A value covers either types or named environments, not both: set them one after the other";
      ok = false;
    }
    if (needValue && !$("value").value) {
      $("value-error").textContent = "Type the value";
      ok = false;
    }
    return ok;
  }

  function say(text) {
    $("message").textContent = text;
  }

  /** A refusal, next to the field it concerns. */
  function showRefusal(data, target) {
    say("");
    if (data.conflict) {
      const moves = data.conflict.moves
        .map((move) => (move.to ? "its value for " + move.from + " will cover " + move.to : "its value for " + move.from + " will be removed"))
        .join("; ");
      $("conflict-text").textContent =
        target.name + " already has a value for " + data.conflict.labels.join("; ") +
        ", which overlaps what you chose. Move: " + moves + ", and this value is set for " +
        (target.types.length ? target.types.join(", ") : "env " + target.envs.join(", ")) + ".";
      $("move-button").textContent = "Move and set";
      $("conflict").hidden = false;
      conflict = { key: formKey(target), others: data.conflict.others };
      return;
    }
    const field = { name: "name-error", scope: "scope-error", value: "value-error" }[data.field] || "form-error";
    const help = (data.help || []).map((line) => "\nhelp: " + line).join("");
    $(field).textContent = data.error + help;
  }

  function setBusy(on) {
    busy = on;
    if (stopped) return;
    $("set-button").disabled = on;
    $("move-button").disabled = on;
  }

  /** Set: the same checks as `set` on the form as it is now, then the value. */
  async function submit() {
    if (stopped || busy) return;
    const target = formTarget();
    clearConflict();
    if (!validate(target, true)) return;
    setBusy(true);
    say("checking…");
    await guarded(async () => {
      try {
        const checked = await api("POST", "/api/preflight", target);
        if (!checked.data.ok) return showRefusal(checked.data, target);
        if (checked.data.undeclared && confirmed !== target.name) {
          const hint = checked.data.suggestion ? " Did you mean " + checked.data.suggestion + "?" : "";
          $("name-error").textContent = "No code declares " + target.name + "." + hint + " Press Set again to create it anyway.";
          $("name-error").classList.add("warning-text");
          confirmed = target.name;
          say("");
          return;
        }
        await send(target, false, null);
      } finally {
        setBusy(false);
      }
    });
  }

  /** Move: only for the form the conflict was shown for, checked again first. */
  async function move() {
    if (stopped || busy) return;
    const target = formTarget();
    if (!conflict || formKey(target) !== conflict.key) {
      // The form changed since the conflict: check it as a new set.
      clearConflict();
      return submit();
    }
    if (!validate(target, true)) return;
    const expected = conflict.others;
    setBusy(true);
    say("checking…");
    await guarded(async () => {
      try {
        const checked = await api("POST", "/api/preflight", target);
        if (checked.data.ok) return send(target, false, null);
        const same = checked.data.conflict && JSON.stringify(checked.data.conflict.others) === JSON.stringify(expected);
        if (!same) return showRefusal(checked.data, target);
        await send(target, true, expected);
      } finally {
        setBusy(false);
      }
    });
  }

  async function send(target, moving, expect) {
    say("setting…");
    const body = { name: target.name, types: target.types, envs: target.envs, move: moving, expect, value: $("value").value };
    const answer = await api("POST", "/api/set", body);
    body.value = "";
    if (answer.data.ok) {
      $("value").value = "";
      clearConflict();
      confirmed = null;
      say(answer.data.message);
    } else {
      showRefusal(answer.data, target);
    }
  }

  /** A click on a cell: the form for that secret and environment. */
  function fill(name, envName) {
    if (stopped) return;
    const env = state.environments.find((candidate) => candidate.name === envName);
    $("name").value = name;
    for (const input of document.querySelectorAll("#set-form input[type=checkbox]")) input.checked = false;
    if (env) {
      const box = $((env.kind === "type" ? "type-" : "env-") + env.name);
      if (box) box.checked = true;
    }
    clearConflict();
    confirmed = null;
    clearErrors(["name-error", "scope-error", "value-error", "form-error"]);
    say("");
    openSide();
    details(name);
    $("value").focus();
  }

  function openSide() {
    document.body.classList.add("side-open");
  }

  // ---- details of one secret --------------------------------------------------------------

  function details(name) {
    selected = name;
    const meta = rows.get(name);
    const box = $("details");
    for (const tr of document.querySelectorAll(".row.selected")) tr.classList.remove("selected");
    if (!meta) {
      box.hidden = true;
      return;
    }
    meta.tr.classList.add("selected");
    detailsRev = meta.rev;
    const row = meta.row;
    const values = row.values.map((value) => {
      const readersList = value.readers.map((index) =>
        h("code", { title: keyOf(index), text: short(keyOf(index)) + (isMine(index) ? " (you)" : "") }),
      );
      return h(
        "li",
        { "data-scope": value.scope },
        h("span", { class: "scope", text: scopeLabel(value.scope) }),
        ...badgesOf(value).map(([level, text]) => h("span", { class: "badge " + level, text })),
        h("div", { class: "readers" }, "readable by ", ...join(readersList)),
        value.writer !== null
          ? h("div", { class: "writer" }, "written by ", isMine(value.writer) ? "you" : h("code", { title: keyOf(value.writer), text: short(keyOf(value.writer)) }))
          : null,
        h(
          "div",
          { class: "value-actions" },
          readable(value) ? h("button", { type: "button", "data-action": "reveal", "data-name": name, "data-scope": value.scope, text: "Reveal" }) : null,
          readable(value) ? h("output", { class: "revealed", hidden: true }) : null,
          h("button", { type: "button", "data-action": "unset", "data-name": name, "data-scope": value.scope, text: "Unset" }),
        ),
      );
    });
    const own = state.findings.filter((finding) => finding.secret === name);
    put(
      box,
      h("div", { class: "side-head" }, h("h2", { text: name }), h("button", { type: "button", class: "link", "data-action": "close-details", text: "Close" })),
      row.description ? h("p", { class: "description", text: row.description }) : null,
      h(
        "p",
        { class: "declared" },
        row.places.length ? "declared at " : "no code declares it",
        ...join(row.places.map((place) => h("code", { text: place }))),
      ),
      values.length ? h("ul", { class: "values" }, ...values) : h("p", { class: "muted", text: "no stored value" }),
      own.length
        ? h("ul", { class: "own-findings" }, ...own.map((finding) => h("li", { class: finding.severity }, h("code", { text: finding.code }), " " + finding.message)))
        : null,
    );
    box.hidden = false;
    if (stopped) disableAll();
  }

  function closeDetails() {
    selected = null;
    $("details").hidden = true;
    for (const tr of document.querySelectorAll(".row.selected")) tr.classList.remove("selected");
  }

  function join(items) {
    const out = [];
    items.forEach((item, index) => {
      if (index) out.push(", ");
      out.push(item);
    });
    return out;
  }

  async function reveal(button) {
    const output = button.nextElementSibling;
    if (!output.hidden) {
      output.textContent = "";
      output.hidden = true;
      button.textContent = "Reveal";
      return;
    }
    button.textContent = "Revealing…";
    await guarded(async () => {
      const answer = await api("POST", "/api/reveal", { name: button.dataset.name, scope: button.dataset.scope });
      if (answer.data.ok) {
        output.textContent = answer.data.value;
        output.hidden = false;
        button.textContent = "Hide";
      } else {
        button.textContent = "Reveal";
        output.textContent = "error: " + answer.data.error;
        output.hidden = false;
      }
    });
  }

  async function unset(button) {
    if (button.dataset.armed !== "yes") {
      button.dataset.armed = "yes";
      button.textContent = "Click again to unset";
      return;
    }
    button.disabled = true;
    await guarded(async () => {
      const answer = await api("POST", "/api/unset", { name: button.dataset.name, scope: button.dataset.scope });
      say(answer.data.ok ? answer.data.message : "error: " + answer.data.error);
      if (!answer.data.ok) {
        button.disabled = false;
        button.dataset.armed = "";
        button.textContent = "Unset";
      }
    });
  }

  // ---- wiring -----------------------------------------------------------------------------

  document.addEventListener("DOMContentLoaded", () => {
    const form = $("set-form");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submit();
    });
    // Any edit makes an earlier answer stale: the conflict and the errors go.
    form.addEventListener("input", (event) => {
      clearConflict();
      const id = event.target.id;
      if (id === "name") {
        confirmed = null;
        clearErrors(["name-error", "form-error"]);
        const problem = event.target.value.trim() && nameProblem(event.target.value.trim());
        if (problem) $("name-error").textContent = problem;
      } else if (id === "value") {
        clearErrors(["value-error", "form-error"]);
      } else {
        clearErrors(["scope-error", "form-error"]);
      }
    });
    $("move-button").addEventListener("click", () => move());
    $("cancel-move").addEventListener("click", clearConflict);
    $("search").addEventListener("input", filter);
    $("filter").addEventListener("change", filter);
    $("summary").addEventListener("click", (event) => {
      const chip = event.target.closest("[data-filter]");
      if (!chip) return;
      $("filter").value = chip.dataset.filter;
      filter();
    });
    $("open-editor").addEventListener("click", openSide);
    $("close-side").addEventListener("click", () => {
      document.body.classList.remove("side-open");
      closeDetails();
    });
    $("grid").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      if (!button || stopped) return;
      const tr = button.closest(".row");
      const name = tr.dataset.name;
      const env = state.environments[[...tr.children].indexOf(button.parentElement) - 1];
      if (button.dataset.action === "fill" && env) fill(name, env.name);
      if (button.dataset.action === "details") {
        details(name);
        openSide();
      }
    });
    $("grid").addEventListener("mouseover", (event) => {
      const button = event.target.closest("button.cell");
      if (button && !button.title) cellTitle(button);
    });
    $("grid").addEventListener("focusin", (event) => {
      const button = event.target.closest("button.cell");
      if (button && !button.title) cellTitle(button);
    });
    $("details").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      if (!button || stopped) return;
      const action = button.dataset.action;
      if (action === "reveal") reveal(button);
      if (action === "unset") unset(button);
      if (action === "close-details") closeDetails();
    });
    // A link pasted into a tab that shows this page already changes only its fragment.
    window.addEventListener("hashchange", () => {
      if (location.hash.startsWith("#token=") && !auth) start();
    });
    start();
  });
})();
