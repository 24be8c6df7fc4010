// The dashboard's shell: the router (hash paths, so the server serves one page), the
// top bar (account picker, clock, refresh), the admin-token dialog and error display.

import { ApiError, currentAccount, get, onTokenNeeded, setAccount } from "./api.js";
import { el, replaceChildren, toast } from "./dom.js";
import { executionPage } from "./execution.js";
import { flowPage, flowsPage } from "./flows.js";
import { aboutClock, goLive, refresh, showing, watch } from "./live.js";
import { phonePage } from "./phone.js";
import { clockPage, requestsPage, resetPage } from "./tools.js";

const main = document.getElementById("view");

const routes = [
  [/^#\/flows\/(FW\w+)\/executions\/(FN\w+)$/, "flows", (m) => executionPage(m[1], m[2])],
  [/^#\/flows\/(FW\w+)\/(executions|start)$/, "flows", (m) => flowPage(m[1], m[2])],
  [/^#\/flows\/(FW\w+)$/, "flows", (m) => flowPage(m[1], "canvas")],
  [/^#\/phone$/, "phone", () => phonePage()],
  [/^#\/clock$/, "clock", () => clockPage()],
  [/^#\/requests$/, "requests", () => requestsPage()],
  [/^#\/reset$/, "reset", () => resetPage()],
  [/^#\/flows$/, "flows", () => flowsPage()],
];

let generation = 0;

/** Errors a view could not handle: shown in place of the view. */
export function showError(error) {
  const message = error instanceof ApiError ? `${error.message}${error.code ? ` (${error.code})` : ""}` : String(error);
  replaceChildren(main, el("div", { class: "error", role: "alert" }, message));
}

async function route() {
  const hash = location.hash || "#/flows";
  const found = routes.find(([pattern]) => pattern.test(hash));
  if (!found) {
    location.replace("#/flows");
    return;
  }
  const [pattern, section, make] = found;
  for (const link of document.querySelectorAll(".sidenav a")) {
    link.classList.toggle("active", link.dataset.section === section);
  }
  const mine = ++generation;
  showing(null);
  replaceChildren(main, el("div", { class: "muted" }, "Loading…"));
  try {
    const view = make(hash.match(pattern));
    // A view: {element, reread}. The first read happens before it is shown.
    await view.reread();
    if (mine !== generation) return;
    replaceChildren(main, view.element);
    if (view.shown) view.shown();
    showing(async () => {
      try {
        await view.reread();
      } catch (error) {
        if (mine === generation) toast(error.message || String(error), true);
      }
    }, view.wants);
  } catch (error) {
    if (mine === generation) showError(error);
  }
}

// -- top bar ---------------------------------------------------------------------------------

const select = document.getElementById("account-select");
const clock = document.getElementById("clock-now");

/** Read the accounts and the clock; true if the account kept for the tab was gone (and
 * the default one is shown instead). */
async function readOverview() {
  let overview;
  let forgotten = false;
  try {
    overview = await get("/_mockstudio/ui/api/overview");
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404 && currentAccount())) throw error;
    setAccount(null); // that account no longer exists (the server has other fixtures now)
    forgotten = true;
    overview = await get("/_mockstudio/ui/api/overview");
  }
  clock.textContent = overview.clock.now.replace("T", " ").replace("Z", " UTC");
  clock.dateTime = overview.clock.now;
  const picker = select.closest(".account-picker");
  picker.hidden = overview.accounts.length < 2;
  const options = overview.accounts.map((a) =>
    el("option", { value: a.sid }, a.friendly_name ? `${a.friendly_name} (${a.sid})` : a.sid),
  );
  replaceChildren(select, options);
  select.value = overview.account_sid;
  return forgotten;
}

select.addEventListener("change", () => {
  setAccount(select.value);
  goLive(); // the stream is the account's
  if (location.hash === "#/flows") {
    refresh();
  } else {
    showing(null); // the view on screen belongs to the other account: it is not read again
    location.hash = "#/flows";
  }
});
document.getElementById("refresh").addEventListener("click", () => refresh());

// -- the admin token -----------------------------------------------------------------------------

const dialog = document.getElementById("token-dialog");
const tokenInput = document.getElementById("token-input");
let pending = null;
onTokenNeeded((refused) => {
  if (!pending) {
    pending = new Promise((resolve) => {
      document.getElementById("token-error").hidden = !refused;
      tokenInput.value = "";
      dialog.addEventListener("close", () => {
        pending = null;
        resolve(dialog.returnValue === "ok" ? tokenInput.value : null);
      }, { once: true });
      dialog.showModal();
    });
  }
  return pending;
});

watch(() => readOverview().catch(() => {}), aboutClock);
window.addEventListener("hashchange", route);
// The view and the top bar load side by side; if the tab's account was gone, the view
// (read for it) is read again for the default account.
const first = route();
goLive();
readOverview().then(
  async (forgotten) => {
    await first;
    if (forgotten) route();
  },
  () => {},
);
