// A flow's canvas in SVG: widgets at their exported `properties.offset` (or a layered
// layout from the trigger when offsets are missing), transitions as arrows labelled with
// their event, pan (drag), zoom (wheel, buttons) and fit, and an execution's path.

import { el, svg } from "./dom.js";

export const NODE_WIDTH = 240;
export const NODE_HEIGHT = 64;
const GAP_X = 60;
const GAP_Y = 110;
const ROW_LIMIT = 8; // a wider layer wraps onto more rows: a 100-widget IVR stays legible
const MIN_FIT = 0.6; // fitting never shrinks text below legibility; pan for the rest
const MAX_ZOOM = 2.5;
const MIN_ZOOM = 0.15;

const CATEGORY = {
  trigger: "trigger",
  "send-message": "messaging",
  "send-and-wait-for-reply": "messaging",
  "send-to-flex": "messaging",
  "split-based-on": "logic",
  "set-variables": "logic",
  "make-http-request": "tools",
  "run-function": "tools",
  "run-subflow": "tools",
};
const STRIPE = { trigger: "#f22f46", messaging: "#0263e0", voice: "#8c5bd8", logic: "#e8a400", tools: "#14b053" };

function category(type) {
  return CATEGORY[type] || (/call|say|gather|record|enqueue|stream|twiml|payment|voicemail/.test(type) ? "voice" : "tools");
}

function offsetOf(state) {
  const offset = state && state.properties && state.properties.offset;
  if (!offset || typeof offset.x !== "number" || typeof offset.y !== "number") return null;
  return offset;
}

function transitionsOf(state) {
  return Array.isArray(state.transitions) ? state.transitions.filter((t) => t && typeof t === "object") : [];
}

/** Widget name -> {x, y}: the exported offsets when every widget has one, else layers
 * by distance from the initial state (breadth first), wrapped at ROW_LIMIT per row. */
export function layout(definition) {
  const states = Array.isArray(definition.states) ? definition.states.filter((s) => s && typeof s.name === "string") : [];
  const positions = new Map();
  if (states.length && states.every((s) => offsetOf(s))) {
    for (const s of states) positions.set(s.name, { x: offsetOf(s).x, y: offsetOf(s).y });
    return positions;
  }
  const byName = new Map(states.map((s) => [s.name, s]));
  const depth = new Map();
  const order = [];
  const start = byName.has(definition.initial_state) ? definition.initial_state : states[0] && states[0].name;
  const queue = start ? [start] : [];
  if (start) depth.set(start, 0);
  while (queue.length) {
    const name = queue.shift();
    order.push(name);
    for (const t of transitionsOf(byName.get(name))) {
      if (byName.has(t.next) && !depth.has(t.next)) {
        depth.set(t.next, depth.get(name) + 1);
        queue.push(t.next);
      }
    }
  }
  const deepest = Math.max(0, ...depth.values());
  for (const s of states) {
    if (!depth.has(s.name)) {
      depth.set(s.name, deepest + 1); // unreachable widgets: a last layer
      order.push(s.name);
    }
  }
  const layers = [];
  for (const name of order) (layers[depth.get(name)] ||= []).push(name);
  const widest = Math.min(ROW_LIMIT, Math.max(1, ...layers.filter(Boolean).map((l) => l.length)));
  const span = widest * (NODE_WIDTH + GAP_X) - GAP_X;
  let row = 0;
  for (const layer of layers) {
    if (!layer) continue;
    for (let i = 0; i < layer.length; i += ROW_LIMIT) {
      const chunk = layer.slice(i, i + ROW_LIMIT);
      const width = chunk.length * (NODE_WIDTH + GAP_X) - GAP_X;
      chunk.forEach((name, j) => {
        positions.set(name, { x: (span - width) / 2 + j * (NODE_WIDTH + GAP_X), y: row * (NODE_HEIGHT + GAP_Y) });
      });
      row += 1;
    }
  }
  return positions;
}

function shorten(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function edgeGeometry(sx, sy, tx, ty) {
  const down = ty > sy + 10;
  const bend = down ? Math.max(40, (ty - sy) / 2) : 90;
  const c1 = [sx, sy + bend];
  const c2 = [tx, ty - bend];
  const d = `M${sx},${sy} C${c1[0]},${c1[1]} ${c2[0]},${c2[1]} ${tx},${ty - 2}`;
  // The curve's midpoint, where the label goes.
  const mx = (sx + 3 * c1[0] + 3 * c2[0] + tx) / 8;
  const my = (sy + 3 * c1[1] + 3 * c2[1] + ty) / 8;
  return { d, mx, my };
}

let instances = 0;

/**
 * Draw `definition`. Returns {element, fit, zoomBy, select, highlight}.
 * onSelect(state) is called with the clicked widget's definition.
 */
export function createCanvas(definition, { onSelect } = {}) {
  const id = `c${++instances}`;
  const states = Array.isArray(definition.states) ? definition.states.filter((s) => s && typeof s.name === "string") : [];
  const positions = layout(definition);
  const nodes = new Map();
  const edges = new Map(); // `${from}\n${event}` -> {group, text, event}

  const arrow = (name, color) =>
    svg(
      "marker",
      { id: `${id}-${name}`, viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "8", markerHeight: "8", orient: "auto-start-reverse" },
      svg("path", { d: "M0,0 L10,5 L0,10 z", fill: color }),
    );
  const edgeLayer = svg("g", { class: "edges" });
  const nodeLayer = svg("g", { class: "nodes" });
  const viewport = svg("g", { class: "viewport" }, edgeLayer, nodeLayer);
  const root = svg(
    "svg",
    { role: "img", "aria-label": "Flow canvas" },
    svg("defs", {}, arrow("arrow", "#9aa1b3"), arrow("arrow-taken", "#0263e0")),
    viewport,
  );

  for (const state of states) {
    const at = positions.get(state.name);
    const transitions = transitionsOf(state).filter((t) => typeof t.next === "string" && positions.has(t.next));
    transitions.forEach((t, i) => {
      const to = positions.get(t.next);
      const sx = at.x + (NODE_WIDTH * (i + 1)) / (transitions.length + 1);
      const sy = at.y + NODE_HEIGHT;
      const geometry = edgeGeometry(sx, sy, to.x + NODE_WIDTH / 2, to.y);
      const event = String(t.event ?? "");
      const text = svg("text", { x: geometry.mx, y: geometry.my + 4 }, event);
      const width = event.length * 6.4 + 14;
      const label = svg(
        "g",
        { class: "label" },
        svg("rect", { x: geometry.mx - width / 2, y: geometry.my - 9, width, height: 18, rx: 9 }),
        text,
      );
      const path = svg("path", { d: geometry.d, "marker-end": `url(#${id}-arrow)` });
      const group = svg("g", { class: "edge", dataset: { from: state.name, to: t.next, event } }, path, label);
      edgeLayer.appendChild(group);
      edges.set(`${state.name}\n${event}`, { group, path, text, label: label.firstChild, event, to: t.next, mx: geometry.mx });
    });
  }

  for (const state of states) {
    const at = positions.get(state.name);
    const type = String(state.type ?? "");
    const countText = svg("text", { x: NODE_WIDTH - 2, y: 4 }, "");
    const group = svg(
      "g",
      { class: `node ${category(type)}`, transform: `translate(${at.x},${at.y})`, dataset: { name: state.name, type }, tabindex: "0" },
      svg("title", {}, `${state.name} (${type})`),
      svg("rect", { class: "box", width: NODE_WIDTH, height: NODE_HEIGHT, rx: 6 }),
      svg("rect", { width: 6, height: NODE_HEIGHT, rx: 3, fill: STRIPE[category(type)] }),
      svg("text", { class: "type", x: 18, y: 22 }, shorten(type, 32)),
      svg("text", { class: "name", x: 18, y: 46 }, shorten(state.name, 24)),
      svg("g", { class: "count" }, svg("circle", { cx: NODE_WIDTH - 2, cy: 0, r: 12 }), countText),
    );
    group.addEventListener("click", () => choose(state.name));
    group.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") choose(state.name);
    });
    nodeLayer.appendChild(group);
    nodes.set(state.name, { group, state, countText });
  }

  // -- pan and zoom ------------------------------------------------------------------------
  const view = { x: 20, y: 20, k: 1 };
  const apply = () => viewport.setAttribute("transform", `translate(${view.x} ${view.y}) scale(${view.k})`);
  const zoomAt = (factor, cx, cy) => {
    const k = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, view.k * factor));
    view.x = cx - ((cx - view.x) * k) / view.k;
    view.y = cy - ((cy - view.y) * k) / view.k;
    view.k = k;
    apply();
  };
  const size = () => ({ w: root.clientWidth || 800, h: root.clientHeight || 500 });
  let drag = null;
  let moved = false;
  root.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    drag = { x: event.clientX, y: event.clientY, vx: view.x, vy: view.y, id: event.pointerId };
    moved = false;
  });
  root.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const dx = event.clientX - drag.x;
    const dy = event.clientY - drag.y;
    if (!moved && Math.abs(dx) + Math.abs(dy) < 4) return;
    if (!moved) {
      moved = true;
      root.setPointerCapture(drag.id);
      root.classList.add("dragging");
    }
    view.x = drag.vx + dx;
    view.y = drag.vy + dy;
    apply();
  });
  const stop = () => {
    drag = null;
    root.classList.remove("dragging");
  };
  root.addEventListener("pointerup", stop);
  root.addEventListener("pointercancel", stop);
  // A drag that ends over a widget is not a click on it.
  root.addEventListener("click", (event) => {
    if (moved) {
      event.stopPropagation();
      moved = false;
    }
  }, true);
  root.addEventListener("wheel", (event) => {
    event.preventDefault();
    const box = root.getBoundingClientRect();
    zoomAt(Math.exp(-event.deltaY * 0.0015), event.clientX - box.left, event.clientY - box.top);
  }, { passive: false });

  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (const at of positions.values()) {
    minX = Math.min(minX, at.x);
    minY = Math.min(minY, at.y);
    maxX = Math.max(maxX, at.x + NODE_WIDTH);
    maxY = Math.max(maxY, at.y + NODE_HEIGHT);
  }
  if (!positions.size) minX = minY = maxX = maxY = 0;

  /** Show the whole flow, or as much as fits at a legible size, from its start. */
  function fit() {
    const { w, h } = size();
    const pad = 40;
    const bw = maxX - minX + 2 * pad;
    const bh = maxY - minY + 2 * pad;
    view.k = Math.min(1.2, Math.max(MIN_FIT, Math.min(w / bw, h / bh)));
    view.x = bw * view.k <= w ? (w - (maxX - minX) * view.k) / 2 - minX * view.k : pad - minX * view.k;
    view.y = bh * view.k <= h ? (h - (maxY - minY) * view.k) / 2 - minY * view.k : pad - minY * view.k;
    const start = positions.get(definition.initial_state);
    if (start && bw * view.k > w) view.x = w / 2 - (start.x + NODE_WIDTH / 2) * view.k;
    apply();
  }

  function centre(name) {
    const at = positions.get(name);
    if (!at) return;
    const { w, h } = size();
    view.x = w / 2 - (at.x + NODE_WIDTH / 2) * view.k;
    view.y = h / 2 - (at.y + NODE_HEIGHT / 2) * view.k;
    apply();
  }

  let selected = null;
  function select(name) {
    if (selected) selected.group.classList.remove("selected");
    selected = nodes.get(name) || null;
    if (selected) selected.group.classList.add("selected");
  }
  function choose(name) {
    select(name);
    if (onSelect) onSelect(nodes.get(name).state);
  }

  /** Mark an execution's path: steps are {name (event), transitioned_from, transitioned_to},
   * oldest first; `active` marks where it stands now. */
  function highlight(steps, active) {
    const entered = new Map();
    const taken = new Map();
    if (steps.length) entered.set(steps[0].transitioned_from, 1);
    for (const step of steps) {
      const key = `${step.transitioned_from}\n${step.name}`;
      taken.set(key, (taken.get(key) || 0) + 1);
      if (nodes.has(step.transitioned_to)) entered.set(step.transitioned_to, (entered.get(step.transitioned_to) || 0) + 1);
    }
    const last = steps[steps.length - 1];
    const here = active && last && nodes.has(last.transitioned_to) ? last.transitioned_to : null;
    for (const [name, node] of nodes) {
      const count = entered.get(name) || 0;
      node.group.classList.toggle("visited", count > 0);
      node.group.classList.toggle("current", name === here);
      node.countText.textContent = count ? String(count) : "";
      node.group.dataset.count = String(count);
    }
    for (const [key, edge] of edges) {
      const count = taken.get(key) || 0;
      edge.group.classList.toggle("taken", count > 0);
      edge.group.dataset.count = String(count);
      edge.path.setAttribute("marker-end", `url(#${id}-${count ? "arrow-taken" : "arrow"})`);
      const text = count > 1 ? `${edge.event} ×${count}` : edge.event;
      edge.text.textContent = text;
      const width = text.length * 6.4 + 14;
      edge.label.setAttribute("width", String(width));
      edge.label.setAttribute("x", String(edge.mx - width / 2));
    }
  }

  const tools = el(
    "div",
    { class: "canvas-tools" },
    el("button", { type: "button", title: "Zoom in", "aria-label": "Zoom in", onclick: () => zoomAt(1.25, size().w / 2, size().h / 2) }, "+"),
    el("button", { type: "button", title: "Zoom out", "aria-label": "Zoom out", onclick: () => zoomAt(0.8, size().w / 2, size().h / 2) }, "−"),
    el("button", { type: "button", class: "wide", title: "Fit the flow", "aria-label": "Fit", onclick: fit }, "Fit"),
  );
  const element = el("div", { class: "canvas" }, tools, root);
  apply();
  return { element, fit, centre, select, highlight, zoomBy: (f) => zoomAt(f, size().w / 2, size().h / 2) };
}
