// Building the page's elements. Every string becomes a text node (never markup), so what
// users control (flow, widget and account names, message bodies, JSON values) shows as
// text: nothing here parses HTML.

const SVG_NS = "http://www.w3.org/2000/svg";

function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
}

function apply(node, props) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "class") node.setAttribute("class", value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "value" || key === "checked" || key === "disabled" || key === "open") node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  return node;
}

/** An HTML element: el("a", {href: "#/x"}, "text", child, ...). */
export function el(tag, props, ...children) {
  const node = apply(document.createElement(tag), props);
  append(node, children);
  return node;
}

/** An SVG element, likewise. */
export function svg(tag, props, ...children) {
  const node = apply(document.createElementNS(SVG_NS, tag), props);
  append(node, children);
  return node;
}

export function replaceChildren(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/** A collapsible block of JSON (as text). */
export function jsonBlock(label, value, open = false) {
  return el("details", { class: "json", open }, el("summary", {}, label), el("pre", {}, JSON.stringify(value, null, 2)));
}

export function badge(text, kind = text) {
  return el("span", { class: `badge ${kind}` }, text);
}

/** `2023-11-14T22:13:20Z` -> `2023-11-14 22:13:20 UTC`. */
export function when(iso) {
  if (!iso) return "—";
  return iso.replace("T", " ").replace(/(\.\d+)?Z$/, " UTC");
}

export function toast(message, bad = false) {
  const box = document.getElementById("toast");
  const item = el("div", { class: bad ? "msg bad" : "msg" }, message);
  box.appendChild(item);
  setTimeout(() => item.remove(), bad ? 7000 : 3500);
}
