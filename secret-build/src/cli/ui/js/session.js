// Talking to the server. The tab trades a one-time link token (from the launcher's form, or
// the link's fragment) for a session it keeps in sessionStorage and sends in a header; there
// is no cookie. Every answer must name the server start that gave the session: a network
// error, a 5xx or any other answer stops this tab for good (banner, every form disabled,
// nothing sent again), so a value never goes to a process that took the port.

import { $, h, put } from "./dom.js";
import { apply } from "./grid.js";
import { ui } from "./model.js";

const KEY = "secrets-dashboard";
const SESSION_HEADER = "X-Dashboard-Session";
const INSTANCE_HEADER = "X-Dashboard-Instance";

class Stopped extends Error {}

function stop(why) {
  if (ui.stopped) return;
  ui.stopped = true;
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
export function disableAll() {
  for (const output of document.querySelectorAll("output.revealed")) {
    output.textContent = "";
    output.hidden = true;
  }
  for (const control of document.querySelectorAll("#app button, #app input, #app select, #app textarea")) {
    if (control.id !== "search" && control.id !== "filter") control.disabled = true;
  }
}

/** One request to this tab's server; throws Stopped when anything else answers. */
export async function api(method, path, body) {
  if (ui.stopped) throw new Stopped();
  const headers = { [SESSION_HEADER]: ui.auth.session };
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
  if (response.headers.get(INSTANCE_HEADER) !== ui.auth.instance) {
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
  let text;
  try {
    text = await response.text();
  } catch (error) {
    stop("The server's answer broke off (" + error.message + ")");
    throw new Stopped();
  }
  try {
    return { status: response.status, data: JSON.parse(text), arrived };
  } catch (error) {
    // This server, refusing a request before its handler (a body too large, say).
    return { status: response.status, data: { ok: false, error: "HTTP " + response.status + ": " + text.slice(0, 300) }, arrived };
  }
}

/** Runs `work`, treating a stopped tab as done. */
export async function guarded(work) {
  try {
    await work();
  } catch (error) {
    if (!(error instanceof Stopped)) throw error;
  }
}

function gate(text) {
  $("gate").textContent = text;
  $("gate").hidden = false;
  $("live").textContent = "no session";
  $("live").className = "live off";
}

export async function start() {
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
    ui.auth = JSON.parse(sessionStorage.getItem(KEY));
  } catch (error) {
    ui.auth = null;
  }
  if (!ui.auth || !ui.auth.session || !ui.auth.instance) {
    gate("No session: open the link `cargo xtask secret ui` printed (each link opens one tab; press Enter in its terminal for a new one).");
    return;
  }
  $("gate").hidden = true;
  $("app").hidden = false;
  $("live").textContent = "live";
  $("live").className = "live on";
  await guarded(watch);
}

/** Keeps one request for changes open: the state when it changes, and an error at
 * once when the server goes away. */
async function watch() {
  for (;;) {
    const answer = await api("GET", "/api/state?since=" + encodeURIComponent(ui.version));
    if (answer.status !== 200) {
      stop("The server refused this tab (HTTP " + answer.status + ")");
      return;
    }
    if (answer.data.unchanged) continue;
    try {
      // The first load counts from the navigation; an update from its answer's arrival.
      apply(answer.data, ui.state === null ? 0 : answer.arrived);
    } catch (error) {
      console.error(error);
    }
  }
}
