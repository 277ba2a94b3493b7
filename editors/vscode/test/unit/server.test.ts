// Finding the `flow` binary and building its command line (src/server.ts).

import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import {
  normalizeSettings,
  notFoundMessage,
  resolveServerExecutable,
  serverCommand,
} from "../../src/server";

describe("server command", () => {
  it("runs `<binary> lsp` followed by the extra arguments, without --stdio", () => {
    const cmd = serverCommand("/usr/bin/flow", { path: "flow", extraArgs: ["--log", "debug"] });
    assert.deepEqual(cmd, { command: "/usr/bin/flow", args: ["lsp", "--log", "debug"] });
    assert.deepEqual(serverCommand("flow", { path: "flow", extraArgs: [] }).args, ["lsp"]);
  });

  it("normalizes settings of the wrong type to the defaults", () => {
    assert.deepEqual(normalizeSettings(undefined, undefined), { path: "flow", extraArgs: [] });
    assert.deepEqual(normalizeSettings("  ", "x"), { path: "flow", extraArgs: [] });
    assert.deepEqual(normalizeSettings(" /opt/flow ", ["a", 3, "b"]), { path: "/opt/flow", extraArgs: ["a", "b"] });
  });

  it("explains how to fix a missing binary", () => {
    const msg = notFoundMessage("flow");
    assert.match(msg, /"flow"/);
    assert.match(msg, /flow\.server\.path/);
    assert.match(msg, /cargo install --path \./);
  });
});

describe("resolveServerExecutable", () => {
  let tmp: string;
  let bin: string;
  let exe: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flow-resolve-"));
    bin = path.join(tmp, "bin");
    fs.mkdirSync(bin);
    exe = path.join(bin, "flow");
    fs.writeFileSync(exe, "#!/bin/sh\n");
    fs.chmodSync(exe, 0o755);
    fs.writeFileSync(path.join(bin, "not-executable"), "");
    fs.chmodSync(path.join(bin, "not-executable"), 0o644);
    fs.mkdirSync(path.join(bin, "a-directory"));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const posix = (extra: Record<string, unknown> = {}) => ({
    env: { PATH: `/nonexistent:${path.join(tmp, "bin")}` },
    platform: "linux" as NodeJS.Platform,
    home: tmp,
    ...extra,
  });

  it("finds a bare name on PATH", () => {
    assert.equal(resolveServerExecutable("flow", posix()), exe);
  });
  it("returns undefined for a bare name that is not on PATH", () => {
    assert.equal(resolveServerExecutable("flow", posix({ env: { PATH: "/nonexistent" } })), undefined);
    assert.equal(resolveServerExecutable("flow", posix({ env: {} })), undefined);
  });
  it("skips files that are not executable and directories", () => {
    assert.equal(resolveServerExecutable("not-executable", posix()), undefined);
    assert.equal(resolveServerExecutable("a-directory", posix()), undefined);
  });
  it("takes an absolute path as it is", () => {
    assert.equal(resolveServerExecutable(exe, posix({ env: {} })), exe);
    assert.equal(resolveServerExecutable(path.join(tmp, "missing"), posix()), undefined);
  });
  it("expands ~ to the home folder", () => {
    assert.equal(resolveServerExecutable("~/bin/flow", posix({ env: {} })), exe);
  });
  it("resolves a relative path against the workspace folders", () => {
    assert.equal(resolveServerExecutable("bin/flow", posix({ env: {}, baseDirs: ["/nonexistent", tmp] })), exe);
    assert.equal(resolveServerExecutable("./bin/flow", posix({ env: {}, baseDirs: [tmp] })), exe);
  });
  it("finds a name with a PATHEXT extension on Windows", () => {
    const files = new Set(["C:\\tools\\flow.EXE", "D:\\work\\bin\\flow.cmd"]);
    const win = (extra: Record<string, unknown> = {}) => ({
      env: { Path: "C:\\nothing;C:\\tools", PATHEXT: ".COM;.EXE" },
      platform: "win32" as NodeJS.Platform,
      home: "C:\\Users\\me",
      isExecutable: (f: string) => files.has(f),
      ...extra,
    });
    assert.equal(resolveServerExecutable("flow", win()), "C:\\tools\\flow.EXE");
    assert.equal(resolveServerExecutable("flow", win({ env: { Path: "C:\\nothing" } })), undefined);
    assert.equal(resolveServerExecutable("D:\\work\\bin\\flow", win({ env: { PATHEXT: ".CMD;.cmd" } })), "D:\\work\\bin\\flow.cmd");
    assert.equal(resolveServerExecutable("bin\\flow", win({ env: { PATHEXT: ".cmd" }, baseDirs: ["D:\\work"] })), "D:\\work\\bin\\flow.cmd");
  });
  it("treats an empty setting as not found", () => {
    assert.equal(resolveServerExecutable("   ", posix()), undefined);
  });
});
