// Flows: the list, and a flow's page with its canvas, its executions and a form that
// starts one as the REST API would.

import { ApiError, get, post, withQuery } from "./api.js";
import { createCanvas } from "./canvas.js";
import { badge, el, jsonBlock, replaceChildren, when } from "./dom.js";
import { aboutFlow, refresh } from "./live.js";

const API = "/_mockstudio/ui/api";

export function flowsPage() {
  const body = el("tbody");
  const element = el(
    "section",
    {},
    el("div", { class: "page-head" }, el("div", {}, el("h1", {}, "Flows"), el("div", { class: "muted" }, "Studio flows of this account"))),
    el(
      "div",
      { class: "card flush" },
      el(
        "table",
        { class: "flows" },
        el(
          "thead",
          {},
          el("tr", {}, ["Name", "SID", "Status", "Latest", "Published", "Valid", "Numbers", "Executions"].map((h) => el("th", {}, h))),
        ),
        body,
      ),
    ),
  );
  async function reread() {
    const { flows } = await get(`${API}/flows`);
    replaceChildren(
      body,
      flows.length
        ? flows.map((f) =>
            el(
              "tr",
              { dataset: { sid: f.sid } },
              el("td", {}, el("a", { href: `#/flows/${f.sid}`, class: "flow-name" }, f.friendly_name)),
              el("td", { class: "mono" }, f.sid),
              el("td", {}, badge(f.status)),
              el("td", {}, `v${f.revision}`),
              el("td", {}, f.published_revision ? `v${f.published_revision}` : "—"),
              el("td", {}, f.valid ? badge("valid", "ok") : badge("invalid", "bad")),
              el("td", { class: "mono" }, f.numbers.length ? f.numbers.join(", ") : "—"),
              el(
                "td",
                {},
                el("a", { href: `#/flows/${f.sid}/executions` }, `${f.executions}`),
                f.active_executions ? el("span", { class: "muted" }, ` (${f.active_executions} active)`) : null,
              ),
            ),
          )
        : el("tr", {}, el("td", { colspan: 8, class: "empty" }, "No flows. Add them with a fixture file or the REST API.")),
    );
  }
  return { element, reread, wants: (e) => ["flow", "execution", "deleted"].includes(e.kind) };
}

function flowHeader(flow, tab) {
  const tabs = [
    ["canvas", "Canvas", `#/flows/${flow.sid}`],
    ["executions", "Executions", `#/flows/${flow.sid}/executions`],
    ["start", "Start an execution", `#/flows/${flow.sid}/start`],
  ];
  return [
    el("div", { class: "crumbs" }, el("a", { href: "#/flows" }, "Flows"), " / ", flow.sid),
    el(
      "div",
      { class: "page-head" },
      el(
        "div",
        {},
        el("h1", { class: "flow-title" }, flow.friendly_name),
        el(
          "div",
          { class: "meta" },
          el("span", { class: "mono" }, flow.sid),
          badge(flow.status),
          el("span", {}, `Latest v${flow.revision}`),
          el("span", {}, flow.published_revision ? `Published v${flow.published_revision}` : "Not published"),
          flow.valid ? badge("valid", "ok") : badge("invalid", "bad"),
          flow.numbers.length ? el("span", {}, "Numbers: ", el("span", { class: "mono" }, flow.numbers.join(", "))) : null,
        ),
      ),
    ),
    el(
      "nav",
      { class: "tabs" },
      tabs.map(([key, label, href]) => el("a", { href, class: key === tab ? "active" : null }, label)),
    ),
  ];
}

/** The side panel listing a widget's type, transitions and properties. */
export function widgetPanel(state) {
  if (!state) {
    return [el("h3", {}, "Widgets"), el("p", { class: "muted" }, "Click a widget to see its properties. Drag to pan, scroll to zoom.")];
  }
  const transitions = (Array.isArray(state.transitions) ? state.transitions : []).filter((t) => t && typeof t === "object");
  const properties = { ...(state.properties || {}) };
  return [
    el("h3", { class: "widget-name" }, String(state.name)),
    el("div", { class: "muted" }, String(state.type ?? "")),
    el(
      "dl",
      {},
      transitions.map((t) => [el("dt", {}, String(t.event ?? "")), el("dd", {}, t.next ? `→ ${t.next}` : "(ends)")]),
    ),
    jsonBlock("Properties", properties, true),
  ];
}

function canvasTab(flow) {
  const side = el("aside", { class: "canvas-side" }, widgetPanel(null));
  performance.mark("mockstudio:canvas-start");
  const canvas = createCanvas(flow.definition, { onSelect: (state) => replaceChildren(side, widgetPanel(state)) });
  performance.mark("mockstudio:canvas-built");
  const problems = flow.errors && flow.errors.length ? jsonBlock("Validation errors", flow.errors, true) : null;
  const coverageNote = el("span", { class: "muted", "data-role": "coverage-note" }, "");
  let showing = false;
  const toggle = el("button", { type: "button", class: "secondary", "data-role": "coverage" }, "Show coverage");
  toggle.addEventListener("click", async () => {
    if (showing) {
      showing = false;
      canvas.coverage(null);
      toggle.textContent = "Show coverage";
      coverageNote.textContent = "";
      return;
    }
    try {
      const report = await get(withQuery("/_mockstudio/coverage", { flow_sid: flow.sid, account_sid: flow.account_sid }));
      const mine = report.flows.find((f) => f.flow_sid === flow.sid) || { widgets: [], transitions: [], never_taken: [], summary: null };
      canvas.coverage(mine);
      showing = true;
      toggle.textContent = "Hide coverage";
      const s = mine.summary;
      coverageNote.textContent = s
        ? `Since the last reset: ${s.widgets_entered}/${s.widgets_total} widgets entered, ` +
          `${s.transitions_taken}/${s.transitions_total} transitions taken` +
          (mine.never_taken.length ? `; never taken: ${mine.never_taken.join(", ")}` : "")
        : "No execution of this flow since the last reset";
    } catch (error) {
      coverageNote.textContent = error instanceof ApiError && error.status === 404 ? error.message : `Coverage: ${error.message}`;
    }
  });
  const bar = el("div", { class: "coverage-bar" }, toggle, coverageNote);
  return {
    element: el("div", {}, problems, el("div", { class: "card flush" }, bar, el("div", { class: "canvas-wrap" }, canvas.element, side))),
    shown: () => {
      canvas.fit();
      performance.mark("mockstudio:canvas-shown");
      // For benchmarks/dashboard.py: the task after the next frame runs once it is painted.
      requestAnimationFrame(() => setTimeout(() => performance.mark("mockstudio:canvas-painted")));
    },
  };
}

function executionsTab(flow) {
  const state = { status: "", contact: "", tokens: [null] };
  const body = el("tbody");
  const counts = el("span", { class: "muted" });
  const status = el(
    "select",
    { "aria-label": "Status", name: "status" },
    el("option", { value: "" }, "All"),
    el("option", { value: "active" }, "Active"),
    el("option", { value: "ended" }, "Ended"),
  );
  const contact = el("input", { type: "search", name: "contact", placeholder: "Contact address, e.g. +15551234567", "aria-label": "Contact" });
  const older = el("button", { type: "button", class: "btn btn-secondary btn-small", disabled: true }, "Older →");
  const newer = el("button", { type: "button", class: "btn btn-secondary btn-small", disabled: true }, "← Newer");
  const filter = () => {
    state.status = status.value;
    state.contact = contact.value.trim();
    state.tokens = [null];
    reread();
  };
  status.addEventListener("change", filter);
  contact.addEventListener("change", filter);
  older.addEventListener("click", () => {
    state.tokens.push(older.dataset.token);
    reread();
  });
  newer.addEventListener("click", () => {
    state.tokens.pop();
    reread();
  });
  const element = el(
    "div",
    { class: "card flush" },
    el("div", { class: "filters" }, el("label", {}, "Status "), status, contact, el("span", { class: "spacer" }), counts),
    el(
      "table",
      { class: "executions" },
      el("thead", {}, el("tr", {}, ["Execution", "Contact", "Status", "Revision", "Started", "Updated"].map((h) => el("th", {}, h)))),
      body,
    ),
    el("div", { class: "filters" }, newer, older),
  );
  async function reread() {
    const token = state.tokens[state.tokens.length - 1];
    const page = await get(
      withQuery(`${API}/flows/${flow.sid}/executions`, { status: state.status, contact: state.contact, page_token: token }),
    );
    counts.textContent = `${page.counts.all} executions · ${page.counts.active} active · ${page.counts.ended} ended`;
    replaceChildren(
      body,
      page.executions.length
        ? page.executions.map((e) =>
            el(
              "tr",
              { dataset: { sid: e.sid } },
              el("td", {}, el("a", { href: `#/flows/${flow.sid}/executions/${e.sid}`, class: "mono" }, e.sid)),
              el("td", { class: "mono" }, e.contact),
              el("td", {}, badge(e.status)),
              el("td", {}, e.flow_version ? `v${e.flow_version}` : "—"),
              el("td", { class: "nowrap" }, when(e.date_created)),
              el("td", { class: "nowrap" }, when(e.date_updated)),
            ),
          )
        : el("tr", {}, el("td", { colspan: 6, class: "empty" }, "No executions match.")),
    );
    older.disabled = !page.next_page_token;
    older.dataset.token = page.next_page_token || "";
    newer.disabled = state.tokens.length < 2;
  }
  return { element, reread };
}

function startTab(flow) {
  const to = el("input", { name: "To", value: "+15555550100", required: true, "aria-label": "To" });
  const from = el("input", { name: "From", value: flow.numbers[0] || "+15017122661", required: true, "aria-label": "From" });
  const parameters = el("textarea", { name: "Parameters", "aria-label": "Parameters", spellcheck: "false" }, '{"name": "Ada"}');
  const problem = el("div", { class: "error", role: "alert", hidden: true });
  const button = el("button", { type: "submit", class: "btn btn-primary" }, "Start execution");
  const form = el(
    "form",
    { class: "card start-form" },
    el("h2", {}, "Start an execution"),
    el(
      "p",
      { class: "muted" },
      "As ",
      el("code", {}, `POST /v2/Flows/${flow.sid}/Executions`),
      " would: To is the contact's address, From the flow's, Parameters a JSON object (flow.data).",
    ),
    el(
      "div",
      { class: "form-grid" },
      el("label", {}, "To"),
      el("div", {}, to),
      el("label", {}, "From"),
      el("div", {}, from),
      el("label", {}, "Parameters"),
      el("div", {}, parameters, el("div", { class: "hint" }, "Optional. A JSON object, e.g. {\"name\": \"Ada\"}.")),
      el("span"),
      el("div", {}, problem, button),
    ),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem.hidden = true;
    const text = parameters.value.trim();
    if (text) {
      let parsed;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        problem.textContent = `Parameters is not valid JSON: ${error.message}`;
        problem.hidden = false;
        return;
      }
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        problem.textContent = "Parameters must be a JSON object, e.g. {\"name\": \"Ada\"}.";
        problem.hidden = false;
        return;
      }
    }
    button.disabled = true;
    try {
      const execution = await post(`${API}/flows/${flow.sid}/executions`, { To: to.value, From: from.value, Parameters: text || undefined });
      location.hash = `#/flows/${flow.sid}/executions/${execution.sid}`;
      refresh();
    } catch (error) {
      problem.textContent = error instanceof ApiError && error.code ? `${error.message} (${error.code})` : error.message;
      problem.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
  return { element: form };
}

export function flowPage(flowSid, tab) {
  const head = el("div");
  const body = el("div");
  let content = null;
  async function reread() {
    const flow = await get(`${API}/flows/${flowSid}`);
    replaceChildren(head, flowHeader(flow, tab));
    if (!content) {
      content = tab === "canvas" ? canvasTab(flow) : tab === "executions" ? executionsTab(flow) : startTab(flow);
      replaceChildren(body, content.element);
    }
    if (content.reread) await content.reread();
  }
  // Live: the executions tab follows the flow's executions; every tab its header (the flow).
  const wants = tab === "executions" ? aboutFlow(flowSid, "flow", "execution", "deleted") : aboutFlow(flowSid, "flow");
  return { element: el("section", { class: "flow-page" }, head, body), reread, wants, shown: () => content.shown && content.shown() };
}
