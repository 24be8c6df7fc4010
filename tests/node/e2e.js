// twilio-node against a live mockstudio; run by tests/test_node_sdk.py, which asserts on
// the JSON this prints. Inputs (environment): TWILIO_MODULE (path `require` loads twilio
// from), MOCKSTUDIO_URL, ACCOUNT_SID, AUTH_TOKEN, FLOW_SID.
"use strict";

const twilio = require(process.env.TWILIO_MODULE || "twilio");

const FROM = "+15005550006";
const to = (n) => "+1666" + String(n).padStart(7, "0");

async function main() {
  // The SDK's own RequestClient, noting every URL it is asked to fetch, so the Python side
  // can check the SDK followed the mock's next_page_url.
  const requestClient = new twilio.RequestClient();
  const requested = [];
  const send = requestClient.request.bind(requestClient);
  requestClient.request = (opts) => {
    requested.push({ method: opts.method, uri: opts.uri, params: opts.params || {} });
    return send(opts);
  };
  const client = twilio(process.env.ACCOUNT_SID, process.env.AUTH_TOKEN, {
    httpClient: requestClient,
  });
  client.studio.baseUrl = process.env.MOCKSTUDIO_URL;
  const executions = client.studio.v2.flows(process.env.FLOW_SID).executions;
  const out = {};

  const created = await executions.create({ to: to(0), from: FROM, parameters: { name: "Zeke" } });
  out.created = {
    sid: created.sid,
    status: created.status,
    flowSid: created.flowSid,
    contactChannelAddress: created.contactChannelAddress,
    dateCreatedIsDate: created.dateCreated instanceof Date && !isNaN(created.dateCreated),
    url: created.url,
  };

  const fetched = await executions(created.sid).fetch();
  out.fetched = { sid: fetched.sid, status: fetched.status, contactSid: fetched.contactSid };

  const context = await executions(created.sid).executionContext().fetch();
  out.context = context.context;

  out.createdSids = [created.sid];
  for (let n = 1; n < 6; n++) {
    out.createdSids.push((await executions.create({ to: to(n), from: FROM })).sid);
  }
  requested.length = 0;
  const listed = await executions.list({ pageSize: 2, limit: 6 });
  out.listed = listed.map((e) => e.sid);
  out.listRequests = requested.filter((r) => r.method === "get");

  try {
    await executions.create({ to: to(0), from: FROM });
    out.conflict = null;
  } catch (err) {
    out.conflict = {
      status: err.status,
      code: err.code,
      message: err.message,
      moreInfo: err.moreInfo,
      details: err.details,
      isRestException: err instanceof twilio.RestException,
    };
  }

  const ended = await executions(created.sid).update({ status: "ended" });
  out.ended = { sid: ended.sid, status: ended.status };
  out.removed = await executions(created.sid).remove();

  try {
    await executions(created.sid).fetch();
    out.afterRemove = null;
  } catch (err) {
    out.afterRemove = { status: err.status, code: err.code };
  }

  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  process.stderr.write(String((err && err.stack) || err) + "\n");
  process.exit(1);
});
