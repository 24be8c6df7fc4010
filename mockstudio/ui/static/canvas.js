// A flow's canvas in SVG: widgets at their exported `properties.offset` (or a layered
// layout from the trigger when offsets are missing), transitions as arrows labelled with
// their event, pan (drag), zoom (wheel, buttons) and fit, and an execution's path.

import { el, svg } from "./dom.js";

export const NODE_WIDTH = 240;
export const NODE_HEIGHT = 64;
const GAP_X = 60;
const GAP_Y = 110;
const STACK_INDENT = 130; // a stacked list's widgets sit this far right of their parent
const STACK_GAP = 26;
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

/** Widget name -> {x, y, stackedUnder}: the exported offsets when every widget has one.
 * Otherwise a tree from the initial state (each widget under the first one, breadth
 * first, that leads to it; widgets nothing reaches are further roots): each subtree is
 * centred over its children, and a widget whose children all end their branch (a menu's
 * options) lists them in a column below it (`stackedUnder`), so a wide menu stays narrow. */
export function layout(definition) {
  const states = Array.isArray(definition.states) ? definition.states.filter((s) => s && typeof s.name === "string") : [];
  const positions = new Map();
  if (states.length && states.every((s) => offsetOf(s))) {
    for (const s of states) positions.set(s.name, { x: offsetOf(s).x, y: offsetOf(s).y, stackedUnder: null });
    return positions;
  }
  const byName = new Map(states.map((s) => [s.name, s]));
  const children = new Map(states.map((s) => [s.name, []]));
  const placed = new Set();
  const roots = [];
  const start = byName.has(definition.initial_state) ? definition.initial_state : null;
  for (const root of [start, ...states.map((s) => s.name)]) {
    if (root === null || placed.has(root)) continue;
    roots.push(root);
    placed.add(root);
    const queue = [root];
    while (queue.length) {
      const name = queue.shift();
      for (const t of transitionsOf(byName.get(name))) {
        if (byName.has(t.next) && !placed.has(t.next)) {
          placed.add(t.next);
          children.get(name).push(t.next);
          queue.push(t.next);
        }
      }
    }
  }
  const stacked = (name) => {
    const kids = children.get(name);
    return kids.length >= 3 && kids.every((k) => children.get(k).length === 0);
  };
  const widths = new Map();
  const measure = (name) => {
    const kids = children.get(name);
    let width = NODE_WIDTH;
    if (stacked(name)) width = STACK_INDENT + NODE_WIDTH;
    else if (kids.length) width = Math.max(NODE_WIDTH, kids.reduce((sum, k) => sum + measure(k), 0) + GAP_X * (kids.length - 1));
    widths.set(name, width);
    return width;
  };
  const place = (name, left, y) => {
    const kids = children.get(name);
    if (stacked(name)) {
      positions.set(name, { x: left, y, stackedUnder: null });
      kids.forEach((k, i) => {
        positions.set(k, { x: left + STACK_INDENT, y: y + (NODE_HEIGHT + STACK_GAP) * (i + 1), stackedUnder: name });
      });
      return;
    }
    positions.set(name, { x: left + (widths.get(name) - NODE_WIDTH) / 2, y, stackedUnder: null });
    const span = kids.reduce((sum, k) => sum + widths.get(k), 0) + GAP_X * Math.max(0, kids.length - 1);
    let x = left + (widths.get(name) - span) / 2;
    for (const k of kids) {
      place(k, x, y + NODE_HEIGHT + GAP_Y);
      x += widths.get(k) + GAP_X;
    }
  };
  let left = 0;
  for (const root of roots) {
    const width = measure(root);
    place(root, left, 0);
    left += width + GAP_X * 2;
  }
  return positions;
}

function labelWidth(caption) {
  return caption.length * 6.4 + 14; // about 6.4 px a character at 11 px: no layout pass to measure
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

const SPINE = 28; // where a stacked list's line leaves its parent, from the parent's left

/** Down a spine from the parent, then right into the side of a stacked child. */
function elbowGeometry(sx, sy, tx, ty) {
  const d = `M${sx},${sy} L${sx},${ty - 8} Q${sx},${ty} ${sx + 8},${ty} L${tx - 2},${ty}`;
  return { d, mx: (sx + tx) / 2 + 4, my: ty };
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

  const arrow = (name, color) =>
    svg(
      "marker",
      { id: `${id}-${name}`, viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "8", markerHeight: "8", orient: "auto-start-reverse" },
      svg("path", { d: "M0,0 L10,5 L0,10 z", fill: color }),
    );
  const edgeLayer = svg("g", { class: "edges" });
  const nodeLayer = svg("g", { class: "nodes" });
  const viewport = svg("g", { class: "viewport" }, edgeLayer, nodeLayer);
  // The drawing joins the page once its first transform is set (fit), so that Chromium lays
  // its text out once, not once to measure the canvas and again for the new transform.
  const root = svg(
    "svg",
    { role: "img", "aria-label": "Flow canvas" },
    svg("defs", {}, arrow("arrow", "#9aa1b3"), arrow("arrow-taken", "#0263e0")),
  );
  const attach = () => {
    if (viewport.parentNode !== root) root.appendChild(viewport);
  };
  requestAnimationFrame(attach); // shown without a fit: still drawn in its first frame

  // One arrow per (widget, next widget); several events leading there share it and its label.
  const edgeList = [];
  for (const state of states) {
    const at = positions.get(state.name);
    const targets = new Map();
    for (const t of transitionsOf(state)) {
      if (typeof t.next !== "string" || !positions.has(t.next)) continue;
      if (!targets.has(t.next)) targets.set(t.next, []);
      targets.get(t.next).push(String(t.event ?? ""));
    }
    const spread = [...targets.keys()].filter((next) => positions.get(next).stackedUnder !== state.name);
    for (const [next, events] of targets) {
      const to = positions.get(next);
      let geometry;
      if (to.stackedUnder === state.name) {
        geometry = elbowGeometry(at.x + SPINE, at.y + NODE_HEIGHT, to.x, to.y + NODE_HEIGHT / 2);
      } else {
        const i = spread.indexOf(next);
        const sx = at.x + (NODE_WIDTH * (i + 1)) / (spread.length + 1);
        geometry = edgeGeometry(sx, at.y + NODE_HEIGHT, to.x + NODE_WIDTH / 2, to.y);
      }
      const caption = events.join(", ");
      const text = svg("text", { x: geometry.mx, y: geometry.my + 4 }, caption);
      const rect = svg("rect", { x: geometry.mx - labelWidth(caption) / 2, y: geometry.my - 9, width: labelWidth(caption), height: 18, rx: 9 });
      const path = svg("path", { d: geometry.d, "marker-end": `url(#${id}-arrow)` });
      const group = svg(
        "g",
        { class: "edge", dataset: { from: state.name, to: next, event: caption } },
        path,
        svg("g", { class: "label" }, rect, text),
      );
      edgeLayer.appendChild(group);
      const edge = { group, path, text, rect, caption, events, from: state.name, to: next, mx: geometry.mx };
      edgeList.push(edge);
    }
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
    attach();
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
      const key = `${step.transitioned_from}\n${step.name}\n${step.transitioned_to}`;
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
    for (const edge of edgeList) {
      const count = edge.events.reduce((sum, event) => sum + (taken.get(`${edge.from}\n${event}\n${edge.to}`) || 0), 0);
      edge.group.classList.toggle("taken", count > 0);
      edge.group.dataset.count = String(count);
      edge.path.setAttribute("marker-end", `url(#${id}-${count ? "arrow-taken" : "arrow"})`);
      const caption = count > 1 ? `${edge.caption} ×${count}` : edge.caption;
      edge.text.textContent = caption;
      edge.rect.setAttribute("width", String(labelWidth(caption)));
      edge.rect.setAttribute("x", String(edge.mx - labelWidth(caption) / 2));
    }
  }

  /** Flow coverage (GET /_mockstudio/coverage's flow): each widget entered or never, each
   * arrow taken or never, with counts; `null` clears it. */
  function coverage(flow) {
    const entered = new Map((flow ? flow.widgets : []).map((w) => [w.name, w.entered]));
    const taken = new Map();
    for (const t of flow ? flow.transitions : []) {
      if (t.next) taken.set(`${t.widget}\n${t.event}\n${t.next}`, t.taken);
    }
    for (const [name, node] of nodes) {
      const count = entered.get(name) || 0;
      node.group.classList.toggle("covered", Boolean(flow) && count > 0);
      node.group.classList.toggle("uncovered", Boolean(flow) && count === 0);
      node.group.classList.remove("visited", "current");
      node.countText.textContent = flow && count ? String(count) : "";
      node.group.dataset.count = String(count);
    }
    for (const edge of edgeList) {
      const count = edge.events.reduce((sum, event) => sum + (taken.get(`${edge.from}\n${event}\n${edge.to}`) || 0), 0);
      edge.group.classList.toggle("covered", Boolean(flow) && count > 0);
      edge.group.classList.toggle("uncovered", Boolean(flow) && count === 0);
      edge.group.classList.remove("taken");
      edge.group.dataset.count = String(count);
      edge.path.setAttribute("marker-end", `url(#${id}-${flow && count ? "arrow-taken" : "arrow"})`);
      const caption = flow && count ? `${edge.caption} ×${count}` : edge.caption;
      edge.text.textContent = caption;
      edge.rect.setAttribute("width", String(labelWidth(caption)));
      edge.rect.setAttribute("x", String(edge.mx - labelWidth(caption) / 2));
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
  return { element, fit, centre, select, highlight, coverage, zoomBy: (f) => zoomAt(f, size().w / 2, size().h / 2) };
}
