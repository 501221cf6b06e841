// Building the page: elements made with DOM calls, every text inserted as text (the page
// is never built from HTML strings), and small wording helpers.

export const $ = (id) => document.getElementById(id);

/** An element with properties and children (strings become text nodes). */
export function h(tag, props, ...children) {
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
export function put(element, ...children) {
  element.replaceChildren(...children.filter((child) => child !== null && child !== undefined && child !== false));
}

export function short(key) {
  return key.length > 16 ? key.slice(0, 10) + "…" + key.slice(-4) : key;
}

export function plural(count, word) {
  return count + " " + word + (count === 1 ? "" : "s");
}

export function join(items) {
  const out = [];
  items.forEach((item, index) => {
    if (index) out.push(", ");
    out.push(item);
  });
  return out;
}
