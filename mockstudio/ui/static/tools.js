// The clock, the request journal and reset: pages over the control plane's own routes.

import { currentAccount, get, post, withQuery } from "./api.js";
import { badge, el, jsonBlock, replaceChildren, toast, when } from "./dom.js";
import { aboutClock, refresh } from "./live.js";

export function clockPage() {
  const now = el("div", { class: "clock-big", id: "clock-big" });
  const outcome = el("div", { class: "muted clock-outcome", role: "status" });
  const setInput = el("input", { type: "text", name: "set", placeholder: "2024-01-31T09:00:00Z", "aria-label": "Set the clock to" });

  async function move(body) {
    let state = null;
    try {
      state = await post("/_mockstudio/clock", body);
    } catch (error) {
      toast(error.message, true);
    }
    await refresh();
    // Told once the page shows the new time everywhere.
    if (state) outcome.textContent = `Now ${when(state.now)} · ${state.fired} timeout${state.fired === 1 ? "" : "s"} fired`;
  }
  const step = (label, seconds) =>
    el("button", { type: "button", class: "btn btn-secondary", onclick: () => move({ advance: seconds }) }, label);
  const setForm = el(
    "form",
    { class: "btn-group" },
    setInput,
    el("button", { type: "submit", class: "btn btn-primary" }, "Set"),
  );
  setForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if (setInput.value.trim()) move({ set: setInput.value.trim() });
  });
  const element = el(
    "section",
    {},
    el("div", { class: "page-head" }, el("div", {}, el("h1", {}, "Clock"), el("div", { class: "muted" }, "The virtual time every date and widget timeout follows. Moving it fires the timeouts that fall due."))),
    el(
      "div",
      { class: "card narrow" },
      el("div", { class: "muted" }, "Virtual time"),
      now,
      el("div", { class: "btn-group" }, step("+1 minute", 60), step("+1 hour", 3600), step("+1 day", 86400)),
      el("h2", { class: "spaced" }, "Set"),
      setForm,
      el("div", { class: "muted hint" }, "An ISO 8601 date and time; UTC unless it gives an offset."),
      el("p", {}, outcome),
    ),
  );
  async function reread() {
    const state = await get("/_mockstudio/clock");
    now.textContent = when(state.now);
  }
  return { element, reread, wants: aboutClock };
}

export function requestsPage() {
  const filters = { method: "", path_contains: "", status: "" };
  const method = el(
    "select",
    { "aria-label": "Method", name: "method" },
    ["", "GET", "POST", "DELETE"].map((m) => el("option", { value: m }, m || "Any method")),
  );
  const path = el("input", { type: "search", name: "path_contains", placeholder: "Path contains…", "aria-label": "Path contains" });
  const status = el("input", { type: "search", name: "status", placeholder: "Status", size: 6, "aria-label": "Status" });
  const summary = el("span", { class: "muted" });
  const body = el("tbody");
  for (const input of [method, path, status]) {
    input.addEventListener("change", () => {
      filters.method = method.value;
      filters.path_contains = path.value.trim();
      filters.status = status.value.trim();
      reread().catch((error) => toast(error.message, true));
    });
  }
  const element = el(
    "section",
    {},
    el("div", { class: "page-head" }, el("div", {}, el("h1", {}, "Requests"), el("div", { class: "muted" }, "Every Twilio API request this server answered, newest first"))),
    el(
      "div",
      { class: "card flush" },
      el("div", { class: "filters" }, method, path, status, summary),
      el(
        "table",
        { class: "requests" },
        el("thead", {}, el("tr", {}, ["#", "Time", "Method", "Path", "Status", "Duration"].map((h) => el("th", {}, h)))),
        body,
      ),
    ),
  );
  const SHOWN = 200;
  async function reread() {
    const page = await get(withQuery("/_mockstudio/requests", filters));
    const newest = page.requests.slice(-SHOWN).reverse();
    summary.textContent = `${page.requests.length} request${page.requests.length === 1 ? "" : "s"}${page.requests.length > SHOWN ? ` (newest ${SHOWN} shown)` : ""}${page.dropped ? ` · ${page.dropped} older dropped` : ""}`;
    replaceChildren(
      body,
      newest.length
        ? newest.map((r) => {
            const detail = el(
              "tr",
              { class: "detail", hidden: true },
              el(
                "td",
                { colspan: 6 },
                el("div", {}, "Account ", el("span", { class: "mono" }, r.account_sid || "none (the credentials reached no account)")),
                r.matched_route ? el("div", {}, "Route ", el("span", { class: "mono" }, r.matched_route)) : el("div", { class: "muted" }, "No Twilio route has this path"),
                jsonBlock("Query", r.query, true),
                r.form ? jsonBlock("Form", r.form, true) : el("div", { class: "muted" }, "No form body"),
              ),
            );
            const row = el(
              "tr",
              { class: "clickable", dataset: { id: String(r.id) } },
              el("td", { class: "muted" }, String(r.id)),
              el("td", { class: "nowrap" }, when(r.time)),
              el("td", {}, badge(r.method, "method")),
              el("td", { class: "mono" }, r.path),
              el("td", {}, badge(String(r.status), r.status < 400 ? "ok" : "bad")),
              el("td", { class: "nowrap" }, `${r.duration_ms} ms`),
            );
            row.addEventListener("click", () => {
              detail.hidden = !detail.hidden;
            });
            return [row, detail];
          })
        : el("tr", {}, el("td", { colspan: 6, class: "empty" }, "No requests match.")),
    );
  }
  return { element, reread };
}

export function resetPage() {
  const outcome = el("p", { class: "muted", role: "status" });
  async function reset(accountSid) {
    try {
      await post(withQuery("/_mockstudio/reset", { account_sid: accountSid }));
      outcome.textContent = accountSid ? `Account ${accountSid} was reset.` : "All state was reset.";
      toast(outcome.textContent);
    } catch (error) {
      toast(error.message, true);
    }
    await refresh();
  }
  const account = el("button", { type: "button", class: "btn btn-secondary" }, "Reset this account only");
  account.addEventListener("click", async () => {
    const overview = await get("/_mockstudio/ui/api/overview");
    reset(currentAccount() || overview.account_sid);
  });
  const element = el(
    "section",
    {},
    el("div", { class: "page-head" }, el("div", {}, el("h1", {}, "Reset"))),
    el(
      "div",
      { class: "card narrow" },
      el("p", {}, "Forget every execution, message, request and script, and load the fixtures again, as ", el("code", {}, "POST /_mockstudio/reset"), " does."),
      el("div", { class: "btn-group" }, el("button", { type: "button", class: "btn btn-danger", onclick: () => reset(null) }, "Reset all state"), account),
      outcome,
    ),
  );
  return { element, reread: async () => {} };
}
