// The dashboard's script, served from the binary: wires the page's controls to the modules
// and starts. Values travel only in POST bodies (set) and in the answer to an explicit
// reveal.

import { $ } from "./dom.js";
import { clearConflict, closeDetails, details, edited, fill, move, names, openSide, reveal, submit, unset } from "./editor.js";
import { cellTitle, filter } from "./grid.js";
import { ui } from "./model.js";
import { start } from "./session.js";

document.addEventListener("DOMContentLoaded", () => {
  const form = $("set-form");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  form.addEventListener("input", edited);
  $("name").addEventListener("focus", names);
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
    if (!button || ui.stopped) return;
    const tr = button.closest(".row");
    const name = tr.dataset.name;
    const env = ui.state.environments[[...tr.children].indexOf(button.parentElement) - 1];
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
    if (!button || ui.stopped) return;
    const action = button.dataset.action;
    if (action === "reveal") reveal(button);
    if (action === "unset") unset(button);
    if (action === "close-details") closeDetails();
  });
  // A link pasted into a tab that shows this page already changes only its fragment.
  window.addEventListener("hashchange", () => {
    if (location.hash.startsWith("#token=") && !ui.auth) start();
  });
  start();
});
