// The phone: play the contact. Pick the contact's address and a flow's number; text the
// flow (SMS or Conversations) and see the thread as bubbles; call it and see what the
// caller hears as a transcript, with a keypad, a speech box and Hang up. Everything goes
// through the control plane, as a test would; every action ends with refresh().

import { get, post, withQuery } from "./api.js";
import { badge, el, replaceChildren, toast, when } from "./dom.js";
import { bubbles } from "./execution.js";
import { refresh } from "./live.js";

const CONTACT_KEY = "mockstudio.phone.contact";
const NUMBER_KEY = "mockstudio.phone.number";
const DEFAULT_CONTACT = "+15551234567";
const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];

/** One transcript line as the caller experienced it: [who, text]. */
function describe(line) {
  switch (line.kind) {
    case "say":
      return ["Flow says", line.text + (line.loop && line.loop !== 1 ? ` (×${line.loop === 0 ? "∞" : line.loop})` : "")];
    case "play":
      return ["Flow plays", line.url];
    case "digits":
      return ["Flow plays tones", line.digits];
    case "gather":
      return ["Flow asks", line.prompt || line.url || "(listens)"];
    case "press":
      return ["You press", line.digits];
    case "speech":
      return ["You say", line.text];
    case "connect":
      return ["Flow connects you to", `${line.to || "?"} (${line.noun})`];
    case "enqueue":
      return ["Flow puts you in queue", line.queue || "?"];
    case "flex":
      return ["Flow hands you to Flex", line.workflow || "?"];
    case "record":
      return ["Flow records", "a voicemail"];
    case "redirect":
      return ["Flow redirects the call to", line.url];
    case "hangup":
      return [line.by === "caller" ? "You hang up" : "Flow hangs up", ""];
    default:
      return [line.kind, ""];
  }
}

function transcriptItems(call) {
  if (!call) return [el("li", { class: "muted" }, "No call yet: press Call.")];
  if (!call.transcript.length) return [el("li", { class: "muted" }, "Nothing heard yet.")];
  return call.transcript.map((line) => {
    const [who, text] = describe(line);
    const mine = line.kind === "press" || line.kind === "speech" || (line.kind === "hangup" && line.by === "caller");
    return el(
      "li",
      { class: `line ${line.kind}${mine ? " mine" : ""}`, dataset: { kind: line.kind } },
      el("span", { class: "who" }, who),
      text ? el("span", { class: "what" }, text) : null,
      el("span", { class: "when" }, `${line.widget ? `${line.widget} · ` : ""}${when(line.date).replace(" UTC", "")}`),
    );
  });
}

export function phonePage() {
  const contactInput = el("input", {
    type: "text", name: "contact", "aria-label": "Contact address", autocomplete: "off",
    value: sessionStorage.getItem(CONTACT_KEY) || DEFAULT_CONTACT,
  });
  const numberSelect = el("select", { name: "number", "aria-label": "Flow number" });
  const thread = el("div", { class: "bubbles", id: "phone-thread", "aria-live": "polite" });
  const channel = el(
    "select",
    { name: "channel", "aria-label": "Channel" },
    el("option", { value: "messages" }, "SMS"),
    el("option", { value: "conversations" }, "Conversations"),
  );
  const textInput = el("input", { name: "text", placeholder: "Text the flow as the contact…", "aria-label": "Message", autocomplete: "off" });
  const sendButton = el("button", { type: "submit", class: "btn btn-primary" }, "Send");
  const textForm = el("form", { class: "reply" }, channel, textInput, sendButton);

  const callButton = el("button", { type: "button", class: "btn btn-primary", id: "phone-call" }, "Call");
  const hangButton = el("button", { type: "button", class: "btn btn-danger", id: "phone-hangup", disabled: true }, "Hang up");
  const callStatus = el("div", { class: "muted call-status", id: "call-status", role: "status" });
  const transcript = el("ol", { class: "transcript", id: "phone-transcript", "aria-live": "polite" });
  const keypad = el(
    "div",
    { class: "keypad", role: "group", "aria-label": "Keypad" },
    KEYS.map((key) => el("button", { type: "button", class: "key", dataset: { key }, "aria-label": `Key ${key}`, onclick: () => press(key) }, key)),
  );
  const speechInput = el("input", { name: "speech", placeholder: "Say something…", "aria-label": "Speech", autocomplete: "off" });
  const speechButton = el("button", { type: "submit", class: "btn btn-secondary" }, "Say");
  const speechForm = el("form", { class: "reply" }, speechInput, speechButton);

  let call = null; // the latest call between the contact and the number, as the server has it

  const contact = () => contactInput.value.trim();
  const number = () => numberSelect.value;

  contactInput.addEventListener("change", () => {
    sessionStorage.setItem(CONTACT_KEY, contact());
    refresh();
  });
  numberSelect.addEventListener("change", () => {
    sessionStorage.setItem(NUMBER_KEY, number());
    refresh();
  });

  /** Run an action, tell what went wrong, and read the page again. */
  async function act(action) {
    try {
      await action();
    } catch (error) {
      toast(error.message, true);
    }
    await refresh();
  }

  async function settle(executionSid) {
    await get(withQuery(`/_mockstudio/executions/${executionSid}/settled`, { timeout: "5" }));
  }

  textForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = textInput.value;
    if (!body || !contact() || !number()) return;
    sendButton.disabled = true;
    act(async () => {
      const sent = await post(`/_mockstudio/${channel.value}`, { From: contact(), To: number(), Body: body });
      textInput.value = "";
      await settle(sent.execution_sid);
    }).finally(() => {
      sendButton.disabled = false;
    });
  });

  callButton.addEventListener("click", () => {
    if (!contact() || !number()) return;
    act(async () => {
      const placed = await post("/_mockstudio/calls", { From: contact(), To: number() });
      await settle(placed.execution_sid);
    });
  });
  hangButton.addEventListener("click", () => {
    if (call) act(() => post(`/_mockstudio/calls/${call.call_sid}/hangup`));
  });
  function press(key) {
    if (call) act(() => post(`/_mockstudio/calls/${call.call_sid}/digits`, { Digits: key }));
  }
  speechForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const speech = speechInput.value;
    if (!call || !speech.trim()) return;
    act(async () => {
      await post(`/_mockstudio/calls/${call.call_sid}/speech`, { SpeechResult: speech });
      speechInput.value = "";
    });
  });

  const element = el(
    "section",
    { class: "phone-page" },
    el(
      "div",
      { class: "page-head" },
      el("div", {}, el("h1", {}, "Phone"), el("div", { class: "muted" }, "Play the contact: text or call a flow's number and answer it as they would.")),
    ),
    el(
      "div",
      { class: "card phone-pick" },
      el("label", {}, "Contact ", contactInput),
      el("label", {}, "Flow number ", numberSelect),
    ),
    el(
      "div",
      { class: "phone-grid" },
      el(
        "div",
        { class: "card flush phone", id: "phone-messages" },
        el("div", { class: "card-head" }, el("h2", {}, "Messages")),
        thread,
        textForm,
      ),
      el(
        "div",
        { class: "card flush voice", id: "phone-voice" },
        el("div", { class: "card-head" }, el("h2", {}, "Voice"), el("div", { class: "btn-group" }, callButton, hangButton)),
        callStatus,
        transcript,
        el("div", { class: "voice-input" }, keypad, speechForm),
      ),
    ),
  );

  let flowOf = new Map(); // number -> the flow bound to it

  function showNumbers(flows) {
    const options = [];
    flowOf = new Map();
    for (const flow of flows) {
      for (const bound of flow.numbers) {
        flowOf.set(bound, flow.sid);
        options.push(el("option", { value: bound }, `${bound} · ${flow.friendly_name}`));
      }
    }
    const chosen = number() || sessionStorage.getItem(NUMBER_KEY);
    replaceChildren(numberSelect, options.length ? options : el("option", { value: "" }, "No number is bound to a flow"));
    if (chosen && options.some((o) => o.value === chosen)) numberSelect.value = chosen;
  }

  function showCall() {
    const live = Boolean(call) && call.status === "in-progress";
    hangButton.disabled = !live;
    const listening = live ? call.waiting_for : [];
    for (const key of keypad.querySelectorAll("button")) key.disabled = !listening.includes("keypress");
    speechInput.disabled = speechButton.disabled = !listening.includes("speech");
    if (!call) {
      replaceChildren(callStatus, "No call between this contact and number yet.");
    } else {
      const waits = listening.length ? `listening for ${listening.join(" or ")} on ${call.waiting_on}` : live ? "the flow is busy" : "";
      replaceChildren(
        callStatus,
        badge(call.status, live ? "active" : "ended"),
        " ",
        el("span", { class: "mono" }, call.call_sid),
        waits ? ` · ${waits}` : "",
      );
    }
    replaceChildren(transcript, transcriptItems(call));
    transcript.scrollTop = transcript.scrollHeight;
  }

  async function reread() {
    showNumbers((await get("/_mockstudio/ui/api/flows")).flows);
    const who = contact();
    const to = number();
    if (!who || !to) {
      call = null;
      replaceChildren(thread, bubbles([]));
      showCall();
      return;
    }
    const [messages, calls] = await Promise.all([
      get(withQuery("/_mockstudio/messages", { contact: who })),
      get(withQuery("/_mockstudio/calls", { contact: who })),
    ]);
    // The contact's messages with the number, and those its flow sent them from elsewhere
    // (a Messaging Service, another number).
    const between = (m) =>
      (m.from === who && m.to === to) || (m.from === to && m.to === who) || (m.to === who && m.flow_sid === flowOf.get(to));
    replaceChildren(thread, bubbles(messages.messages.filter(between)));
    thread.scrollTop = thread.scrollHeight;
    const mine = calls.calls.filter((c) => c.from === who && c.to === to);
    call = mine.length ? mine[mine.length - 1] : null;
    showCall();
  }

  // Live: what the contact sees changes with any message, step or execution of the account.
  return { element, reread, wants: (e) => ["message", "step", "execution", "deleted"].includes(e.kind) };
}
