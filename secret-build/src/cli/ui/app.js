// The dashboard's script, served from the binary. Values travel only in POST bodies
// (set) and in the answer to an explicit reveal; server text is inserted as text, and the
// grid only as the HTML the server escaped.
"use strict";

const csrf = document.querySelector('meta[name="csrf-token"]').content;
let version = document.querySelector('meta[name="version"]').content;
const $ = (id) => document.getElementById(id);

async function post(path, body) {
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch (error) {
    return { ok: false, error: "the dashboard is not running: " + error };
  }
  try {
    return await response.json();
  } catch (error) {
    return { ok: false, error: "the dashboard answered " + response.status };
  }
}

function say(text, failed) {
  const message = $("message");
  message.textContent = text;
  message.className = failed ? "failed" : "done";
}

function sayFailure(answer) {
  const help = (answer.help || []).map((line) => "\nhelp: " + line).join("");
  say("error: " + answer.error + help, true);
}

function target() {
  const checked = (name) =>
    Array.from(document.querySelectorAll('#set-form input[name="' + name + '"]:checked')).map(
      (input) => input.value,
    );
  return { name: $("name").value.trim(), types: checked("type"), envs: checked("env") };
}

async function refresh() {
  try {
    const response = await fetch("/grid", { cache: "no-store", credentials: "same-origin" });
    if (response.ok) {
      $("grid").innerHTML = await response.text();
    }
  } catch (error) {
    say("the dashboard is not running: " + error, true);
  }
}

async function poll() {
  try {
    const response = await fetch("/version", { cache: "no-store", credentials: "same-origin" });
    if (response.status === 401) {
      say("this dashboard was restarted: open the URL `cargo xtask secret ui` printed", true);
    } else if (response.ok) {
      const now = await response.text();
      if (now !== version) {
        version = now;
        await refresh();
      }
    }
  } catch (error) {
    // The server stopped; keep the page as it is.
  }
}

async function setValue(move) {
  const body = target();
  $("conflict").hidden = true;
  if (!move) {
    // The same checks as `set` before it asks for the value: a conflict is shown before
    // the value leaves the page.
    const checked = await post("/api/preflight", body);
    if (!checked.ok) {
      sayFailure(checked);
      if (checked.conflict) {
        $("conflict-text").textContent =
          body.name + " already has a value for " + checked.conflict.join("; ") +
          ", which covers part of what you chose.";
        $("conflict").hidden = false;
      }
      return;
    }
  }
  body.value = $("value").value;
  body.move = move;
  const answer = await post("/api/set", body);
  delete body.value;
  if (answer.ok) {
    $("value").value = "";
    say(answer.message, false);
    await refresh();
  } else {
    sayFailure(answer);
  }
}

function fill(button) {
  $("name").value = button.dataset.name;
  for (const input of document.querySelectorAll("#set-form input[type=checkbox]")) {
    input.checked = false;
  }
  const box = $((button.dataset.kind === "type" ? "type-" : "env-") + button.dataset.env);
  if (box) box.checked = true;
  $("conflict").hidden = true;
  $("value").focus();
}

async function reveal(button) {
  const output = button.nextElementSibling;
  if (!output.hidden) {
    output.textContent = "";
    output.hidden = true;
    button.textContent = "Reveal";
    return;
  }
  const answer = await post("/api/reveal", { name: button.dataset.name, scope: button.dataset.scope });
  if (answer.ok) {
    output.textContent = answer.value;
    output.hidden = false;
    button.textContent = "Hide";
  } else {
    sayFailure(answer);
  }
}

async function unset(button) {
  if (button.dataset.armed !== "yes") {
    button.dataset.armed = "yes";
    button.textContent = "Click again to unset";
    return;
  }
  const answer = await post("/api/unset", { name: button.dataset.name, scope: button.dataset.scope });
  if (answer.ok) {
    say(answer.message, false);
    await refresh();
  } else {
    sayFailure(answer);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("set-form").addEventListener("submit", (event) => {
    event.preventDefault();
    setValue(false);
  });
  $("move-button").addEventListener("click", () => setValue(true));
  $("cancel-move").addEventListener("click", () => {
    $("conflict").hidden = true;
  });
  $("grid").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const action = button.dataset.action;
    if (action === "fill") fill(button);
    if (action === "reveal") reveal(button);
    if (action === "unset") unset(button);
  });
  setInterval(poll, 1000);
});
