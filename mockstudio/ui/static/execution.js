// An execution: its path on the canvas, its steps in order (each step's context on
// demand), its messages with a reply box, its context, and End / Delete.

import { get, post, withQuery } from "./api.js";
import { createCanvas } from "./canvas.js";
import { badge, el, jsonBlock, replaceChildren, toast, when } from "./dom.js";
import { widgetPanel } from "./flows.js";
import { aboutExecution, refresh } from "./live.js";

const API = "/_mockstudio/ui/api";

function stepRows(flowSid, executionSid, steps) {
  return steps.map((step, index) => {
    const detail = el("tr", { class: "detail", hidden: true }, el("td", { colspan: 6 }, el("div", { class: "muted" }, "Loading…")));
    const toggle = el("button", { type: "button", class: "btn btn-secondary btn-small", "aria-expanded": "false" }, "Context");
    const row = el(
      "tr",
      { class: "clickable step", dataset: { sid: step.sid } },
      el("td", { class: "muted" }, String(index + 1)),
      el("td", {}, when(step.date_created).replace(" UTC", "")),
      el("td", { class: "step-event" }, step.name),
      el(
        "td",
        { class: "step-path" },
        el("span", {}, step.transitioned_from),
        el("span", { class: "arrow" }, "→"),
        el("span", {}, step.transitioned_to),
      ),
      el("td", { class: "muted" }, step.type || ""),
      el("td", {}, toggle),
    );
    let loaded = false;
    row.addEventListener("click", async () => {
      detail.hidden = !detail.hidden;
      toggle.setAttribute("aria-expanded", String(!detail.hidden));
      if (loaded || detail.hidden) return;
      loaded = true;
      try {
        const found = await get(`${API}/flows/${flowSid}/executions/${executionSid}/steps/${step.sid}/context`);
        replaceChildren(detail.firstChild, jsonBlock("Step context (the execution context after this step)", found.context, true));
      } catch (error) {
        loaded = false;
        replaceChildren(detail.firstChild, el("div", { class: "error" }, error.message));
      }
    });
    return [row, detail];
  });
}

/** Messages as chat bubbles: the contact's on the right, the flow's on the left. */
export function bubbles(messages) {
  if (!messages.length) return el("div", { class: "muted" }, "No messages yet.");
  return messages.map((m) =>
    el(
      "div",
      { class: `bubble ${m.direction === "inbound" ? "inbound" : "outbound"}`, dataset: { sid: m.sid } },
      m.body,
      el("span", { class: "when" }, `${m.direction === "inbound" ? m.from : "Flow"} · ${when(m.date_created)}`),
    ),
  );
}

export function executionPage(flowSid, executionSid) {
  const head = el("div");
  const side = el("aside", { class: "canvas-side" }, widgetPanel(null));
  const canvasSlot = el("div", { class: "canvas-wrap compact" });
  const stepsBody = el("tbody");
  const messageList = el("div", { class: "bubbles", "aria-live": "polite" });
  const replyInput = el("input", { name: "reply", placeholder: "Reply as the contact…", "aria-label": "Reply", autocomplete: "off" });
  const replyButton = el("button", { type: "submit", class: "btn btn-primary" }, "Send");
  const reply = el("form", { class: "reply" }, replyInput, replyButton);
  const contextSlot = el("div");
  let canvas = null;
  let shown = false;
  let gone = false; // deleted: nothing left to read
  let execution = null;
  let drawn = null; // the execution as the header shows it (JSON)
  let armed = false;
  let drawnParts = {};

  reply.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = replyInput.value;
    if (!body || !execution) return;
    replyButton.disabled = true;
    try {
      // As the contact: from their address to the flow's (Twilio's inbound-message webhook).
      await post("/_mockstudio/messages", { From: execution.contact_channel_address, To: execution.flow_channel_address, Body: body });
      replyInput.value = "";
      await get(withQuery(`/_mockstudio/executions/${executionSid}/settled`, { timeout: "5" }));
    } catch (error) {
      toast(error.message, true);
    } finally {
      replyButton.disabled = false;
      await refresh();
    }
  });

  async function end() {
    try {
      await post(`${API}/flows/${flowSid}/executions/${executionSid}/end`);
      toast("Execution ended");
    } catch (error) {
      toast(error.message, true);
    }
    await refresh();
  }

  async function remove() {
    // From now on nothing reads it again: a live update still due (from End, say) would ask
    // for an execution that is gone.
    gone = true;
    try {
      await post(`${API}/flows/${flowSid}/executions/${executionSid}/delete`);
    } catch (error) {
      gone = false;
      toast(error.message, true);
      await refresh();
      return;
    }
    toast("Execution deleted");
    location.hash = `#/flows/${flowSid}/executions`; // the list is read as it opens
  }

  function header(e) {
    const active = e.status === "active";
    const endButton = el("button", { type: "button", class: "btn btn-secondary", hidden: !active, onclick: end }, "End execution");
    // A second click confirms (armed survives the header being drawn again by a live update).
    const deleteButton = el("button", { type: "button", class: "btn btn-danger" }, armed ? "Confirm delete" : "Delete");
    if (armed) deleteButton.dataset.armed = "yes";
    deleteButton.addEventListener("click", () => {
      if (!armed) {
        armed = true;
        deleteButton.dataset.armed = "yes";
        deleteButton.textContent = "Confirm delete";
        return;
      }
      remove();
    });
    return [
      el(
        "div",
        { class: "crumbs" },
        el("a", { href: "#/flows" }, "Flows"),
        " / ",
        el("a", { href: `#/flows/${flowSid}` }, e.flow_friendly_name),
        " / ",
        el("a", { href: `#/flows/${flowSid}/executions` }, "Executions"),
      ),
      el(
        "div",
        { class: "page-head" },
        el(
          "div",
          {},
          el("h1", {}, "Execution ", el("span", { class: "mono" }, e.sid)),
          el(
            "div",
            { class: "meta" },
            el("span", { class: "execution-status" }, badge(e.status)),
            el("span", {}, "Contact ", el("span", { class: "mono" }, e.contact_channel_address)),
            el("span", {}, "Flow address ", el("span", { class: "mono" }, e.flow_channel_address)),
            el("span", {}, e.flow_version ? `Revision v${e.flow_version}` : ""),
            el("span", {}, `Started ${when(e.date_created)}`),
            el("span", {}, `Updated ${when(e.date_updated)}`),
          ),
        ),
        el("div", { class: "actions" }, endButton, deleteButton),
      ),
    ];
  }

  async function reread() {
    const [data, log] = await Promise.all([
      get(`${API}/flows/${flowSid}/executions/${executionSid}`),
      get(withQuery("/_mockstudio/messages", { execution_sid: executionSid })),
    ]);
    execution = data.execution;
    const now = JSON.stringify(execution);
    if (now !== drawn) {
      drawn = now;
      replaceChildren(head, header(execution));
    }
    if (!canvas && data.definition) {
      canvas = createCanvas(data.definition, { onSelect: (state) => replaceChildren(side, widgetPanel(state)) });
      replaceChildren(canvasSlot, canvas.element, side);
      if (shown) canvas.fit();
    }
    if (canvas) canvas.highlight(data.steps, execution.status === "active");
    // Read again live: what did not change is left as it is (an open step context, the
    // scroll position of the messages, the context's details opened or not).
    const parts = { steps: JSON.stringify(data.steps), messages: JSON.stringify(log.messages), context: JSON.stringify(data.context) };
    if (parts.steps !== drawnParts.steps) {
      replaceChildren(
        stepsBody,
        data.steps.length
          ? stepRows(flowSid, executionSid, data.steps)
          : el("tr", {}, el("td", { colspan: 6, class: "empty" }, "No steps yet.")),
      );
    }
    if (parts.messages !== drawnParts.messages) {
      replaceChildren(messageList, bubbles(log.messages));
      messageList.scrollTop = messageList.scrollHeight;
    }
    const ended = execution.status !== "active";
    replyInput.disabled = replyButton.disabled = ended;
    replyInput.placeholder = ended ? "The execution has ended" : "Reply as the contact…";
    if (parts.context !== drawnParts.context) {
      const open = contextSlot.querySelector("details")?.open ?? false;
      replaceChildren(contextSlot, jsonBlock("Execution context", data.context, open));
    }
    drawnParts = parts;
  }

  const element = el(
    "section",
    { class: "execution-page" },
    head,
    el("div", { class: "card flush" }, canvasSlot, el("div", { class: "legend" }, "Blue: the path taken, with how many times each widget was entered and each transition taken. Red: where it waits now.")),
    el(
      "div",
      { class: "exec-grid" },
      el(
        "div",
        { class: "card flush" },
        el("div", { class: "card-head" }, el("h2", {}, "Steps")),
        el(
          "table",
          { class: "steps" },
          el("thead", {}, el("tr", {}, ["#", "Time", "Event", "From → To", "Widget type", ""].map((h) => el("th", {}, h)))),
          stepsBody,
        ),
      ),
      el(
        "div",
        { class: "card flush phone" },
        el("div", { class: "card-head" }, el("h2", {}, "Messages")),
        messageList,
        reply,
      ),
    ),
    el("div", { class: "card" }, contextSlot),
  );
  const about = aboutExecution(flowSid, executionSid);
  return {
    element,
    reread: () => (gone ? Promise.resolve() : reread()),
    wants: (event) => {
      if (event.kind === "deleted" && event.execution_sid === executionSid) {
        // Deleted (here or elsewhere): nothing left to read.
        gone = true;
        replaceChildren(head, el("div", { class: "error", role: "alert" }, "This execution was deleted. ", el("a", { href: `#/flows/${flowSid}/executions` }, "Back to the executions")));
        replyInput.disabled = replyButton.disabled = true;
        return false;
      }
      return about(event);
    },
    shown: () => {
      shown = true;
      if (canvas) canvas.fit();
    },
  };
}
