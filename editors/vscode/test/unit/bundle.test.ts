// Loads the bundled extension (dist/extension.js, as shipped in the .vsix) in
// plain Node with a stand-in `vscode` module, activates it, and checks that it
// starts `<flow.server.path> lsp <extraArgs>` and completes the LSP handshake
// with a fake server, and that a missing binary gives a clear error.

import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { changeSettings, createVscodeStub, StubState, withVscodeStub } from "./vscodeStub";
import { EXTENSION_ROOT } from "./tokenize";

const BUNDLE = path.join(EXTENSION_ROOT, "dist", "extension.js");

interface ExtensionModule {
  activate(ctx: { subscriptions: { dispose(): unknown }[] }): Promise<void>;
  deactivate(): Promise<void>;
}

function freshState(settings: Record<string, unknown>): StubState {
  return { settings, errors: [], infos: [], commands: new Map(), log: [] };
}

function loadExtension(state: StubState): { ext: ExtensionModule; restore: () => void } {
  const restore = withVscodeStub(createVscodeStub(state));
  delete require.cache[require.resolve(BUNDLE)];
  const ext = require(BUNDLE) as ExtensionModule;
  return { ext, restore };
}

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) {
      throw new Error("timed out");
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("bundled extension", () => {
  let tmp: string;
  before(() => {
    assert.ok(fs.existsSync(BUNDLE), `${BUNDLE} is missing: run "npm run bundle" first`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flow-vscode-test-"));
  });
  after(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("bundles vscode-languageclient instead of requiring it at run time", () => {
    const text = fs.readFileSync(BUNDLE, "utf8");
    assert.ok(!/require\(["']vscode-languageclient/.test(text), "the bundle must not require vscode-languageclient");
    assert.ok(text.includes("Content-Length"), "the bundle should contain the JSON-RPC transport");
  });

  it("reports a missing server binary with a clear error and still registers the restart command", async () => {
    const state = freshState({ "flow.server.path": path.join(tmp, "no-such-flow"), "flow.server.extraArgs": [] });
    const { ext, restore } = loadExtension(state);
    try {
      const ctx = { subscriptions: [] as { dispose(): unknown }[] };
      await ext.activate(ctx);
      assert.ok(state.commands.has("flow.restartServer"));
      await waitFor(() => state.errors.length > 0, 2000);
      assert.match(state.errors[0], /cannot find the language server binary/);
      assert.match(state.errors[0], /flow\.server\.path/);
      assert.match(state.errors[0], /cargo install --path \./);
      await ext.deactivate();
      ctx.subscriptions.forEach((d) => d.dispose());
    } finally {
      await ext.deactivate().catch(() => undefined);
      restore();
    }
  });

  it("reports a binary that exits at once (no `lsp` command) as a failed start", async () => {
    const server = path.join(tmp, "old-flow");
    fs.writeFileSync(server, "#!/bin/sh\necho \"error: unrecognized subcommand 'lsp'\" >&2\nexit 2\n");
    fs.chmodSync(server, 0o755);
    const state = freshState({ "flow.server.path": server });
    const { ext, restore } = loadExtension(state);
    try {
      const ctx = { subscriptions: [] as { dispose(): unknown }[] };
      await ext.activate(ctx);
      await waitFor(() => state.errors.length > 0, 5000);
      // One message from the extension, none from the client library.
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(state.errors.length, 1, state.errors.join("\n---\n"));
      assert.match(state.errors[0], /"[^"]*old-flow lsp" did not start/);
      assert.match(state.errors[0], /flow\.server\.path/);
      await waitFor(() => state.log.some((l) => l.includes("unrecognized subcommand")), 5000);
      await ext.deactivate();
      ctx.subscriptions.forEach((d) => d.dispose());
    } finally {
      await ext.deactivate().catch(() => undefined);
      restore();
    }
  });

  it("restarts a server that crashes after starting, then gives up with one message; the command starts it again", async () => {
    const server = path.join(tmp, "crashing-flow");
    fs.copyFileSync(path.join(EXTENSION_ROOT, "test", "unit", "fixtures", "fake-flow-server.js"), server);
    fs.chmodSync(server, 0o755);
    const logFile = path.join(tmp, "crash.log");
    process.env.FAKE_FLOW_CRASH = "1";
    process.env.FAKE_FLOW_LOG = logFile;
    const state = freshState({ "flow.server.path": server });
    const { ext, restore } = loadExtension(state);
    const starts = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8").split("\n").filter((m) => m === "initialize").length : 0);
    try {
      const ctx = { subscriptions: [] as { dispose(): unknown }[] };
      await ext.activate(ctx);
      await waitFor(() => state.errors.length > 0, 10000);
      assert.equal(starts(), 5, "the first start and four restarts");
      assert.equal(state.errors.length, 1);
      assert.match(state.errors[0], /crashed 5 times/);

      delete process.env.FAKE_FLOW_CRASH;
      await state.commands.get("flow.restartServer")!();
      assert.equal(starts(), 6);
      assert.equal(state.errors.length, 1);
      await ext.deactivate();
      ctx.subscriptions.forEach((d) => d.dispose());
    } finally {
      await ext.deactivate().catch(() => undefined);
      restore();
      delete process.env.FAKE_FLOW_CRASH;
      delete process.env.FAKE_FLOW_LOG;
    }
  });

  it("starts `<path> lsp <extraArgs>` over stdio, initializes, restarts and stops", async () => {
    const server = path.join(tmp, "flow");
    fs.copyFileSync(path.join(EXTENSION_ROOT, "test", "unit", "fixtures", "fake-flow-server.js"), server);
    fs.chmodSync(server, 0o755);
    const argvFile = path.join(tmp, "argv.json");
    const logFile = path.join(tmp, "methods.log");
    process.env.FAKE_FLOW_ARGV_FILE = argvFile;
    process.env.FAKE_FLOW_LOG = logFile;
    const state = freshState({
      "flow.server.path": server,
      "flow.server.extraArgs": ["--log", "debug"],
      "flow.trace.server": "messages",
    });
    const { ext, restore } = loadExtension(state);
    try {
      const ctx = { subscriptions: [] as { dispose(): unknown }[] };
      await ext.activate(ctx);
      assert.deepEqual(state.errors, []);
      assert.deepEqual(JSON.parse(fs.readFileSync(argvFile, "utf8")), ["lsp", "--log", "debug"]);
      await waitFor(() => fs.existsSync(logFile) && fs.readFileSync(logFile, "utf8").includes("initialized"), 5000);
      assert.match(fs.readFileSync(logFile, "utf8"), /^initialize\ninitialized\n/);
      // flow.trace.server = messages: the LSP traffic goes to the trace channel.
      const traced = (text: string) => state.log.some((l) => l.startsWith("Flow Language Server Trace: ") && l.includes(text));
      assert.ok(traced("Sending request 'initialize"), state.log.join("\n"));
      // Turning the setting off tells the running server at once.
      changeSettings(state, { "flow.trace.server": "off" });
      await waitFor(() => fs.readFileSync(logFile, "utf8").includes("$/setTrace"), 5000);
      const before = state.log.length;
      changeSettings(state, { "flow.trace.server": "off" });
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(!state.log.slice(before).some((l) => l.startsWith("Flow Language Server Trace: ")));

      // The restart command stops the server and starts a new one.
      fs.rmSync(argvFile);
      await state.commands.get("flow.restartServer")!();
      assert.deepEqual(JSON.parse(fs.readFileSync(argvFile, "utf8")), ["lsp", "--log", "debug"]);
      const methods = fs.readFileSync(logFile, "utf8").trim().split("\n").filter((m) => !m.startsWith("$/") && m !== "workspace/didChangeConfiguration");
      assert.deepEqual(methods.slice(0, 4), ["initialize", "initialized", "shutdown", "exit"]);

      await ext.deactivate();
      await waitFor(() => fs.readFileSync(logFile, "utf8").trim().split("\n").filter((m) => m === "exit").length === 2, 5000);
      assert.deepEqual(state.errors, []);
      ctx.subscriptions.forEach((d) => d.dispose());
    } finally {
      await ext.deactivate().catch(() => undefined);
      restore();
      delete process.env.FAKE_FLOW_ARGV_FILE;
      delete process.env.FAKE_FLOW_LOG;
    }
  });
});
