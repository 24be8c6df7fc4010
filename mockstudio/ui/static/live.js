// Live updates. The view on screen registers how to read itself again and which events
// concern it; things outside the view (the clock in the top bar) do the same. The server's
// live stream (GET /_mockstudio/ui/api/live, Server-Sent Events read with fetch so the
// admin token goes in a header) names what changed; the views it concerns are read again,
// a burst of events making one read. The Refresh button and the page's own actions call
// refresh(). A stream that drops is opened again, with a growing pause.

import { requestHeaders } from "./api.js";

const LIVE_PATH = "/_mockstudio/ui/api/live";
const SETTLE_MS = 100; // events this close together make one read
const RETRY_MS = [500, 1000, 2000, 5000, 10000, 30000];

let current = null;
const watchers = new Map();
let running = null;
let again = null; // what to read once the read under way ends (null: nothing)

/** Make `reread` (an async function) the view's way to read itself again, when
 * `wants(event)` says an event concerns it (nothing is read live without it). */
export function showing(reread, wants = null) {
  current = reread ? { reread, wants } : null;
}

/** Things outside the view that follow the state too (the clock in the top bar). */
export function watch(reread, wants = null) {
  watchers.set(reread, wants);
}

/** Read the view and the watchers again; calls that arrive meanwhile coalesce into one more. */
export function refresh() {
  return read({ view: true, watchers: [...watchers.keys()] });
}

function read(what) {
  if (running) {
    again = merge(again, what);
    return running;
  }
  running = (async () => {
    let next = what;
    while (next) {
      again = null;
      const jobs = next.watchers.map((w) => w());
      if (next.view && current) jobs.push(current.reread());
      await Promise.allSettled(jobs);
      next = again;
    }
  })();
  return running.finally(() => {
    running = null;
  });
}

function merge(a, b) {
  if (!a) return b;
  return { view: a.view || b.view, watchers: [...new Set([...a.watchers, ...b.watchers])] };
}

// -- the stream --------------------------------------------------------------------------------

let pending = null;
let timer = null;

function heard(event) {
  if (event.kind === "ready") return; // (handled by the connection)
  const everything = event.kind === "reset" || event.kind === "reload";
  const what = {
    view: everything || Boolean(current && current.wants && current.wants(event)),
    watchers: [...watchers].filter(([, wants]) => everything || (wants && wants(event))).map(([w]) => w),
  };
  if (!what.view && !what.watchers.length) return;
  pending = merge(pending, what);
  if (!timer) {
    timer = setTimeout(() => {
      const due = pending;
      pending = timer = null;
      read(due);
    }, SETTLE_MS);
  }
}

const indicator = () => document.getElementById("live-status");

function show(state) {
  const chip = indicator();
  if (!chip) return;
  chip.dataset.state = state;
  chip.textContent = state === "connected" ? "Live" : state === "reconnecting" ? "Reconnecting…" : "Connecting…";
  chip.title =
    state === "connected" ? "Updates as the server's state changes" : "The live connection dropped; the Refresh button still works";
}

let connection = null;
let failures = 0;
let everConnected = false;

async function connect(abort) {
  const response = await fetch(LIVE_PATH, {
    headers: { ...requestHeaders(), Accept: "text/event-stream" },
    cache: "no-store",
    credentials: "same-origin",
    signal: abort.signal,
  });
  if (!response.ok || !response.body) throw new Error(`The live stream answered ${response.status}`);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const line of block.split("\n")) {
        if (!line.startsWith("data: ")) continue; // a heartbeat comment
        const event = JSON.parse(line.slice(6));
        if (event.kind === "ready") {
          show("connected");
          failures = 0;
          // Events may have been missed while away: read everything once.
          if (everConnected) refresh();
          everConnected = true;
        } else {
          heard(event);
        }
      }
    }
  }
}

/** Keep a live stream open for the tab's account (called once; again when the account changes). */
export function goLive() {
  if (connection) connection.abort();
  const abort = new AbortController();
  connection = abort;
  (async () => {
    while (!abort.signal.aborted) {
      try {
        await connect(abort);
      } catch {
        // dropped, refused or aborted: retried below unless aborted
      }
      if (abort.signal.aborted) return;
      show(everConnected ? "reconnecting" : "connecting");
      const pause = RETRY_MS[Math.min(failures, RETRY_MS.length - 1)];
      failures += 1;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  })();
}

// -- what concerns whom ----------------------------------------------------------------------

/** Events of the given kinds about flow `flowSid` (or about no flow in particular). */
export const aboutFlow = (flowSid, ...kinds) => (e) => kinds.includes(e.kind) && (e.flow_sid === flowSid || !e.flow_sid);

/** Events about execution `executionSid` of flow `flowSid` (its steps, messages, status;
 * `deleted` without an execution SID: some of the flow's executions were deleted). */
export const aboutExecution = (flowSid, executionSid) => (e) =>
  e.execution_sid === executionSid ||
  (e.kind === "deleted" && e.flow_sid === flowSid && !e.execution_sid) ||
  (e.kind === "message" && !e.execution_sid) ||
  (e.kind === "flow" && e.flow_sid === flowSid);

export const aboutClock = (e) => e.kind === "clock";
