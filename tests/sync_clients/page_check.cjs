// Runs the chat fixture's page script headless: Convex's browser bundle on `ws`, a stub DOM.
// Usage: node page_check.cjs PAGE.html BUNDLE.js URL. Prints the message list (JSON) after each
// update; reads commands on stdin: {"send": body} submits the form, {"later": body} clicks "Send later".
const fs = require("fs");
const readline = require("readline");
const vm = require("vm");

const [page, bundle, url] = process.argv.slice(2);
globalThis.WebSocket = require("ws");
vm.runInThisContext(fs.readFileSync(bundle, "utf8"));  // defines the global `convex`, as in a browser

const elements = new Map();
function element(id) {
  const node = {
    id, value: "", textContent: "", className: "", children: [], handlers: {},
    append(...nodes) { this.children.push(...nodes); },
    replaceChildren(...nodes) {
      this.children = nodes;
      if (id === "messages") {
        const text = (n) => (typeof n === "string" ? n : n.textContent + n.children.map(text).join(""));
        console.log(JSON.stringify({ list: nodes.map(text) }));
      }
    },
    addEventListener(type, handler) { this.handlers[type] = handler; },
  };
  if (id) elements.set(id, node);
  return node;
}
for (const id of ["channel-name", "messages", "status", "send", "author", "body", "later"]) element(id);
elements.get("author").value = "ada";
Object.defineProperty(elements.get("status"), "textContent", {
  set(text) { if (text) console.log(JSON.stringify({ status: text })); }, get() { return ""; },
});
globalThis.window = globalThis;
globalThis.location = { origin: url, search: "?delay=300" };
globalThis.document = { getElementById: (id) => elements.get(id), createElement: () => element(null) };

const html = fs.readFileSync(page, "utf8");
const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
vm.runInThisContext(scripts[scripts.length - 1]);

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const command = JSON.parse(line);
  if (command.exit) process.exit(0);
  elements.get("body").value = command.send ?? command.later;
  if ("send" in command) elements.get("send").handlers.submit({ preventDefault() {} });
  else elements.get("later").handlers.click({});
});
