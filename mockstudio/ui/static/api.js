// The dashboard's one way to the server. The admin token (when the server has one) is
// asked once, kept in sessionStorage for this tab and sent as a header, never in a URL.
// Every request carries X-Mockstudio-Client: a header a plain HTML form cannot send, so
// another site's page cannot make the server act (it would need a CORS preflight the
// server never grants).

const TOKEN_KEY = "mockstudio.adminToken";
const ACCOUNT_KEY = "mockstudio.account";

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `The server answered ${status}`);
    this.status = status;
    this.code = body && body.code;
    this.body = body;
  }
}

let askToken = async () => null;

/** How to ask the person for the token: an async function(refused) -> token or null. */
export function onTokenNeeded(ask) {
  askToken = ask;
}

export function currentAccount() {
  return sessionStorage.getItem(ACCOUNT_KEY);
}

export function setAccount(sid) {
  if (sid) sessionStorage.setItem(ACCOUNT_KEY, sid);
  else sessionStorage.removeItem(ACCOUNT_KEY);
}

/** The headers of every request: the client header, the admin token and the account. */
export function requestHeaders() {
  const headers = { Accept: "application/json", "X-Mockstudio-Client": "dashboard" };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers["X-Mockstudio-Admin-Token"] = token;
  const account = currentAccount();
  if (account) headers["X-Mockstudio-Account"] = account;
  return headers;
}

export async function request(method, path, body) {
  let refused = false;
  for (;;) {
    const headers = requestHeaders();
    const token = headers["X-Mockstudio-Admin-Token"];
    const init = { method, headers, cache: "no-store", credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    const challenge = response.headers.get("WWW-Authenticate") || "";
    if (response.status === 401 && challenge.startsWith("Bearer")) {
      const given = await askToken(refused || Boolean(token));
      if (!given) throw new ApiError(401, { message: "The admin token is needed" });
      sessionStorage.setItem(TOKEN_KEY, given);
      refused = true;
      continue;
    }
    const text = await response.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = { message: text.slice(0, 200) };
      }
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }
}

export const get = (path) => request("GET", path);
export const post = (path, body = {}) => request("POST", path, body);

/** `/a/b?x=1` with only the parameters that have a value. */
export function withQuery(path, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) query.set(key, value);
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}
