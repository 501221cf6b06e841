// What the tab knows: the shared state (its session, whether it stopped, the server's last
// state and the rows drawn from it), and how the page reads a stored value.

export const ui = {
  auth: null, // { session, instance }
  stopped: false,
  state: null, // the last state the server sent
  version: "",
  rows: new Map(), // name -> { tr, rev, row, name, words, missing: Set, attention, rotation }
  selected: null, // the secret whose details are shown
  detailsRev: null, // the row's `rev` they were drawn from
};

/** A scope key in words: `type:development,local` is "development, local",
 * `env:staging` is "env staging". */
export function scopeLabel(key) {
  const [kind, list] = [key.slice(0, key.indexOf(":")), key.slice(key.indexOf(":") + 1)];
  return (kind === "env" ? "env " : "") + list.split(",").join(", ");
}

export const badgesOf = (value) => value.badges || [];

/** The keys of the state, and which are the user's. */
export const keyOf = (index) => ui.state.keys[index];
export const isMine = (index) => ui.state.identity.keys.includes(ui.state.keys[index]);
export const readable = (value) => value.readers.some(isMine);

export function readers(row) {
  const keys = new Set();
  let you = false;
  for (const value of row.values) {
    for (const index of value.readers) keys.add(keyOf(index));
    you = you || readable(value);
  }
  return { keys: [...keys], you };
}

export function statusBadges(row) {
  const badges = new Map();
  for (const value of row.values) {
    for (const [level, text] of badgesOf(value)) badges.set(text, level);
  }
  const list = [...badges].map(([text, level]) => [level, text]);
  if (!row.declared) list.push(["muted", "unused"]);
  if (row.optional) list.push(["muted", "optional"]);
  return list;
}
