// Drives npm `convex`'s ConvexClient (WebSocket sync protocol) from JSON-line commands on stdin;
// prints JSON lines: {"sub", "value"|"error"} per update, {"seq", "value"|"error", "data"} per call.
const readline = require("readline");
const { ConvexClient } = require("convex/browser");
const { anyApi } = require("convex/server");

const client = new ConvexClient(process.argv[2], { logger: false });
const subscriptions = new Map();
const out = (message) =>
  process.stdout.write(JSON.stringify(message, (k, v) => (typeof v === "bigint" ? `${v}n` : v)) + "\n");
const ref = (path) => {
  const [module, name] = path.split(":");
  return module.split("/").reduce((r, part) => r[part], anyApi)[name];
};

readline.createInterface({ input: process.stdin }).on("line", async (line) => {
  const command = JSON.parse(line);
  if (command.op === "subscribe") {
    const unsubscribe = client.onUpdate(
      ref(command.path),
      command.args ?? {},
      (value) => out({ sub: command.id, value: value === undefined ? null : value }),
      (error) => out({ sub: command.id, error: error.message, data: error.data ?? null }),
    );
    subscriptions.set(command.id, unsubscribe);
  } else if (command.op === "unsubscribe") {
    subscriptions.get(command.id)();
  } else if (command.op === "auth") {
    if (command.token === null) client.client.clearAuth();
    else client.setAuth(async () => command.token);
  } else if (command.op === "exit") {
    await client.close();
    process.exit(0);
  } else {
    try {
      const value = await client[command.op](ref(command.path), command.args ?? {});
      out({ seq: command.seq, value: value === undefined ? null : value });
    } catch (error) {
      out({ seq: command.seq, error: error.message, data: error.data ?? null });
    }
  }
});
