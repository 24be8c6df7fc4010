// The seam for live updates. The view on screen registers how to read itself again;
// whatever learns that the state changed (the Refresh button, the page's own actions, and
// later a subscriber to the server's change feed) calls refresh(). No polling here.

let current = null;
const watchers = new Set();
let running = null;
let again = false;

/** Make `reread` (an async function) the view's way to read itself again. */
export function showing(reread) {
  current = reread;
}

/** Things outside the view that follow the state too (the clock in the top bar). */
export function watch(reread) {
  watchers.add(reread);
}

/** Read the view (and watchers) again; calls that arrive meanwhile coalesce into one more. */
export async function refresh() {
  if (running) {
    again = true;
    return running;
  }
  running = (async () => {
    do {
      again = false;
      const jobs = [...watchers].map((w) => w());
      if (current) jobs.push(current());
      await Promise.allSettled(jobs);
    } while (again);
  })();
  try {
    await running;
  } finally {
    running = null;
  }
}
