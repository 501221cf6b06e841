// The side panel: the form that sets a value (the same checks as `set` before the value
// leaves the page, each problem next to its field, a move only for the form it was checked
// for) and one secret's details, with reveal and unset.

import { $, h, join, put, short } from "./dom.js";
import { badgesOf, isMine, keyOf, readable, scopeLabel, ui } from "./model.js";
import { api, disableAll, guarded } from "./session.js";

let conflict = null; // { key, others } of the form a conflict was shown for
let confirmed = null; // a new name the user chose to set anyway
let busy = false;

export function editorChoices() {
  const types = $("types");
  if (!types.childElementCount) {
    types.append(...ui.state.types.map((type) => choice("type", type, type)));
  }
  const envs = $("envs");
  const have = [...envs.querySelectorAll("input")].map((input) => input.value).join("\n");
  if (have !== ui.state.named.join("\n")) {
    const checked = new Set([...envs.querySelectorAll("input:checked")].map((input) => input.value));
    put(
      envs,
      ...(ui.state.named.length ? [h("span", { class: "or", text: "or" })] : []),
      ...ui.state.named.map((name) => {
        const label = choice("env", name, name);
        label.querySelector("input").checked = checked.has(name);
        return label;
      }),
    );
    if (ui.stopped) disableAll();
  }
}

function choice(group, value, text) {
  return h("label", { class: "choice" }, h("input", { type: "checkbox", name: group, value, id: group + "-" + value }), " " + text);
}

export function names() {
  const list = $("names");
  if (!ui.state || ui.state.error) return;
  const wanted = ui.state.rows.map((row) => row.name).join("\n");
  if (list.dataset.names === wanted) return;
  list.dataset.names = wanted;
  put(list, ...ui.state.rows.map((row) => h("option", { value: row.name })));
}

function formTarget() {
  const checked = (group) =>
    [...document.querySelectorAll('#set-form input[name="' + group + '"]:checked')].map((input) => input.value);
  return { name: $("name").value.trim(), types: checked("type"), envs: checked("env") };
}

const formKey = (target) => JSON.stringify([target.name, target.types, target.envs]);

export function clearConflict() {
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
  const rule = ui.state ? ui.state.name_rule : "";
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
  if (ui.stopped) return;
  $("set-button").disabled = on;
  $("move-button").disabled = on;
}

/** Set: the same checks as `set` on the form as it is now, then the value. */
export async function submit() {
  if (ui.stopped || busy) return;
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
export async function move() {
  if (ui.stopped || busy) return;
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
export function fill(name, envName) {
  if (ui.stopped) return;
  const env = ui.state.environments.find((candidate) => candidate.name === envName);
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

export function openSide() {
  document.body.classList.add("side-open");
}

export function details(name) {
  ui.selected = name;
  const meta = ui.rows.get(name);
  const box = $("details");
  for (const tr of document.querySelectorAll(".row.selected")) tr.classList.remove("selected");
  if (!meta) {
    box.hidden = true;
    return;
  }
  meta.tr.classList.add("selected");
  ui.detailsRev = meta.rev;
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
  const own = ui.state.findings.filter((finding) => finding.secret === name);
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
  if (ui.stopped) disableAll();
}

export function closeDetails() {
  ui.selected = null;
  $("details").hidden = true;
  for (const tr of document.querySelectorAll(".row.selected")) tr.classList.remove("selected");
}

export async function reveal(button) {
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

export async function unset(button) {
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

/** Any edit makes an earlier answer stale: the conflict and the errors go. */
export function edited(event) {
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
}
