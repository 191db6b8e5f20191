// A stock automerge-repo sync server: a Repo with the websocket server
// adapter and NodeFS storage, nothing else. Usage: node server.mjs <dir>.
// Prints {"url": "ws://127.0.0.1:<port>"} once listening.
import { Repo } from "@automerge/automerge-repo";
import { WebSocketServerAdapter } from "@automerge/automerge-repo-network-websocket";
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs";
import { WebSocketServer } from "ws";

const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
new Repo({
  network: [new WebSocketServerAdapter(wss)],
  storage: new NodeFSStorageAdapter(process.argv[2]),
});
wss.on("listening", () => {
  console.log(JSON.stringify({ url: `ws://127.0.0.1:${wss.address().port}` }));
});
