// The grid: its columns, one row per secret (built again only when its `rev` changed), the
// summary on top, the findings, and the search and filters.

import { $, h, plural, put, short } from "./dom.js";
import { details, editorChoices, names } from "./editor.js";
import { badgesOf, readers, scopeLabel, statusBadges, ui } from "./model.js";
import { disableAll } from "./session.js";

let envKey = ""; // the environments the columns were built for
let rowTemplate = null; // an empty row with those columns

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
  rowTemplate = emptyRow(environments.length);
  return true;
}

/** A row with its parts and no content, cloned for each secret (faster than building each
 * part again). */
function emptyRow(columns) {
  const row = part("div", "row");
  row.setAttribute("role", "row");
  const head = part("div", "c-name");
  head.setAttribute("role", "rowheader");
  const name = part("button", "name");
  name.type = "button";
  name.dataset.action = "details";
  head.append(name);
  row.append(head);
  for (let column = 0; column < columns; column += 1) {
    const cell = part("div");
    cell.setAttribute("role", "cell");
    const button = part("button", "cell");
    button.type = "button";
    button.dataset.action = "fill";
    cell.append(button);
    row.append(cell);
  }
  for (const className of ["c-readers", "c-status"]) {
    const cell = part("div", className);
    cell.setAttribute("role", "cell");
    row.append(cell);
  }
  return row;
}

/** The class of a cell's button: its state, and a dot for what the check found. */
function cellClass(row, cell) {
  const [kind, detail] = cell;
  let className = "cell " + kind + (kind === "missing" ? " " + detail : "");
  if (kind === "set" && detail !== undefined) {
    const badges = badgesOf(row.values[detail]);
    if (badges.some(([level]) => level === "error")) className += " flag-error";
    else if (badges.length) className += " flag-warning";
  }
  return className;
}

/** A cell's tooltip, made when the pointer first reaches it. */
export function cellTitle(button) {
  const tr = button.closest(".row");
  const meta = ui.rows.get(tr.dataset.name);
  const index = [...tr.children].indexOf(button.parentElement) - 1;
  const env = ui.state.environments[index];
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

/** An element with a class (the rows are many: built with the plainest calls). */
function part(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text) element.textContent = text;
  return element;
}

function rowElement(row, badges) {
  const who = readers(row);
  const others = who.keys.length - (who.you ? 1 : 0);
  const tr = rowTemplate.cloneNode(true);
  tr.id = "row-" + row.name;
  tr.dataset.name = row.name;
  const parts = tr.children;
  const name = parts[0].firstChild;
  name.textContent = row.name;
  name.title = "Details of " + row.name;
  if (row.description) {
    const description = part("span", "desc", row.description);
    description.title = row.description;
    parts[0].append(description);
  }
  row.cells.forEach((cell, index) => {
    const button = parts[index + 1].firstChild;
    button.className = cellClass(row, cell);
    button.textContent = CELL[cell[0]];
  });
  const readersCell = parts[row.cells.length + 1];
  readersCell.textContent = who.keys.length === 0 ? "—" : who.you ? (others ? "you + " + others : "you") : plural(who.keys.length, "key");
  readersCell.title = who.keys.join("\n") || "no stored value";
  const status = parts[row.cells.length + 2];
  for (const [level, text] of badges) status.append(part("span", "badge " + level, text));
  return tr;
}

function rowMeta(row, tr, badges) {
  const missing = new Set();
  row.cells.forEach((cell, index) => {
    if (cell[0] === "missing") missing.add(ui.state.environments[index].name);
  });
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
export function apply(next, started) {
  const applying = performance.now();
  const first = ui.state === null;
  const mark = first ? "render" : "update";
  ui.state = next;
  ui.version = next.version;
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
    for (const meta of ui.rows.values()) meta.tr.remove();
    ui.rows.clear();
  }
  const seen = new Set();
  let previous = null;
  const fragment = first ? document.createDocumentFragment() : null;
  for (const row of next.rows) {
    seen.add(row.name);
    let meta = ui.rows.get(row.name);
    if (!meta || meta.rev !== row.rev) {
      const badges = statusBadges(row);
      const tr = rowElement(row, badges);
      if (meta) meta.tr.replaceWith(tr);
      meta = rowMeta(row, tr, badges);
      ui.rows.set(row.name, meta);
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
  for (const [name, meta] of ui.rows) {
    if (!seen.has(name)) {
      meta.tr.remove();
      ui.rows.delete(name);
    }
  }
  summary();
  findings();
  editorChoices();
  // The name field's suggestions: built once it is used (300 options cost a first load).
  if ($("names").dataset.names !== undefined) names();
  filter();
  if (ui.selected && (!ui.rows.get(ui.selected) || ui.rows.get(ui.selected).rev !== ui.detailsRev)) details(ui.selected);
  if (ui.stopped) disableAll();
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
    document.body.dataset.version = ui.version;
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
  const environments = ui.state.environments;
  const chips = [h("span", { class: "chip total", text: plural(ui.state.rows.length, "secret") })];
  const missing = [];
  environments.forEach((env, index) => {
    let count = 0;
    for (const meta of ui.rows.values()) if (meta.missing.has(env.name)) count += 1;
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
  else if (ui.state.rows.some((row) => row.declared)) chips.push(h("span", { class: "chip ok", text: "✓ every declared secret has a value in every environment" }));
  let rotation = 0;
  let unused = 0;
  for (const meta of ui.rows.values()) {
    if (meta.rotation) rotation += 1;
    if (!meta.row.declared) unused += 1;
  }
  if (rotation || unused) chips.push(h("span", { class: "label" }));
  if (rotation) chips.push(h("button", { type: "button", class: "chip warning", "data-filter": "rotation", title: "Show the values due for rotation" }, h("b", { text: String(rotation) }), " due for rotation"));
  if (unused) chips.push(h("button", { type: "button", class: "chip muted", "data-filter": "unused", title: "Show the stored secrets no code declares" }, h("b", { text: String(unused) }), " unused"));
  put($("summary"), ...chips);
  const counts = $("counts");
  counts.textContent = plural(ui.state.errors, "error") + " · " + plural(ui.state.warnings, "warning");
  counts.className = ui.state.errors ? "counts error-text" : "counts muted";
}

function findings() {
  const list = ui.state.findings;
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

function filterOptions() {
  const options = [["all", "all secrets"], ["missing", "missing anywhere"]];
  for (const env of ui.state.environments) options.push(["missing:" + env.name, "missing for " + env.name]);
  options.push(["attention", "needing attention"], ["rotation", "due for rotation"], ["unused", "unused"]);
  return options;
}

export function filter() {
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
  for (const meta of ui.rows.values()) {
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
  $("shown").textContent = shown === ui.rows.size ? plural(ui.rows.size, "secret") : shown + " of " + ui.rows.size;
  $("empty").hidden = shown !== 0 || ui.rows.size === 0;
}
