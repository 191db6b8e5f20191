// A stock automerge-repo client: a Repo with the websocket client adapter
// and nothing else. It reads a Baton conversation and makes one change:
//   node stock-client.mjs <sync url with ?token=> <document id> <agent id> honest|forged
// and prints one JSON line with what it saw.
import { Repo } from "@automerge/automerge-repo";
import { BrowserWebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { ImmutableString } from "@automerge/automerge";

const [url, documentId, agentId, mode] = process.argv.slice(2);
const repo = new Repo({ network: [new BrowserWebSocketClientAdapter(url)] });
const done = (result) => {
  console.log(JSON.stringify(result));
  process.exit(0);
};
setTimeout(() => done({ error: "timed out" }), 15000);

const handle = await repo.find(`automerge:${documentId}`);
const doc = handle.doc();
const seen = { subject: String(doc.subject), messages: doc.messages.length };

handle.change((d) => {
  if (mode === "forged") {
    d.channel = new ImmutableString("chn_elsewhere");
    return;
  }
  const at = Math.max(Date.now(), ...d.messages.map((m) => Number(m.at)), Number(d.created_at)) + 1;
  d.messages.push({
    id: new ImmutableString(`msg_stock${Date.now()}`),
    kind: new ImmutableString("note"),
    author: { kind: new ImmutableString("agent"), id: new ImmutableString(agentId) },
    body: new ImmutableString("Written by a stock automerge-repo client"),
    at,
    leave_unassigned: false,
  });
});
// Give the change time to reach the server, then report.
setTimeout(() => done({ ...seen, changed: mode }), 1500);
