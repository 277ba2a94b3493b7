// The extension manifest, grammar and language configuration agree with each
// other and with what the code registers.

import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { EXTENSION_ROOT } from "./tokenize";

const read = (p: string) => fs.readFileSync(path.join(EXTENSION_ROOT, p), "utf8");
const pkg = JSON.parse(read("package.json"));

function minVersion(range: string): [number, number] {
  const m = /(\d+)\.(\d+)/.exec(range);
  assert.ok(m, `no version in ${range}`);
  return [Number(m[1]), Number(m[2])];
}

describe("package.json", () => {
  it("names the extension", () => {
    assert.equal(pkg.name, "flow-vscode");
    assert.equal(pkg.displayName, "Flow");
    assert.equal(pkg.publisher, "flow-dev");
    assert.equal(pkg.main, "./dist/extension.js");
    assert.deepEqual(pkg.activationEvents, ["onLanguage:flow"]);
  });

  it("asks for a VS Code at least as new as vscode-languageclient and @types/vscode need", () => {
    const engine = minVersion(pkg.engines.vscode);
    const client = JSON.parse(read("node_modules/vscode-languageclient/package.json"));
    const types = JSON.parse(read("node_modules/@types/vscode/package.json"));
    const need = minVersion(client.engines.vscode);
    assert.ok(engine[0] > need[0] || (engine[0] === need[0] && engine[1] >= need[1]), `engine ${engine} < client ${need}`);
    assert.deepEqual(minVersion(types.version), engine, "@types/vscode must match engines.vscode");
  });

  it("contributes the flow language, its grammar and configuration", () => {
    const [lang] = pkg.contributes.languages;
    assert.equal(lang.id, "flow");
    assert.deepEqual(lang.extensions, [".flow"]);
    assert.ok(lang.aliases.includes("Flow"));
    const [grammar] = pkg.contributes.grammars;
    assert.equal(grammar.language, "flow");
    assert.equal(grammar.scopeName, "source.flow");
    const tm = JSON.parse(read(grammar.path));
    assert.equal(tm.scopeName, "source.flow");
    JSON.parse(read(lang.configuration));
  });

  it("declares the settings", () => {
    const props = pkg.contributes.configuration.properties;
    assert.equal(props["flow.server.path"].type, "string");
    assert.equal(props["flow.server.path"].default, "flow");
    assert.equal(props["flow.server.extraArgs"].type, "array");
    assert.deepEqual(props["flow.server.extraArgs"].default, []);
    assert.deepEqual(props["flow.trace.server"].enum, ["off", "messages", "verbose"]);
    assert.equal(props["flow.trace.server"].default, "off");
  });

  it("declares the restart command that the extension registers", () => {
    const [cmd] = pkg.contributes.commands;
    assert.equal(cmd.command, "flow.restartServer");
    assert.equal(`${cmd.category}: ${cmd.title}`, "Flow: Restart language server");
    assert.ok(read("src/extension.ts").includes(`"${cmd.command}"`));
  });
});

describe("grammar", () => {
  it("every include points at a repository entry", () => {
    const tm = JSON.parse(read("syntaxes/flow.tmLanguage.json"));
    const missing: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) {
        node.forEach(walk);
      } else if (node !== null && typeof node === "object") {
        for (const [k, v] of Object.entries(node)) {
          if (k === "include" && typeof v === "string" && v.startsWith("#") && !(v.slice(1) in tm.repository)) {
            missing.push(v);
          }
          walk(v);
        }
      }
    };
    walk(tm);
    assert.deepEqual(missing, []);
  });
});

describe("language-configuration.json", () => {
  const conf = JSON.parse(read("language-configuration.json"));
  it("uses # comments and the three bracket pairs", () => {
    assert.equal(conf.comments.lineComment, "#");
    assert.deepEqual(conf.brackets, [
      ["{", "}"],
      ["[", "]"],
      ["(", ")"],
    ]);
  });
  it("auto-closes quotes and prose blocks", () => {
    const opens = conf.autoClosingPairs.map((p: { open: string }) => p.open);
    for (const o of ["{", "[", "(", '"', '"""']) {
      assert.ok(opens.includes(o), `missing auto-closing pair ${o}`);
    }
  });
  it("has a word pattern that matches identifiers whole", () => {
    const re = new RegExp(conf.wordPattern, "g");
    assert.deepEqual("set refund_id = result.refund_id".match(re), ["set", "refund_id", "result", "refund_id"]);
  });
  it("indents after an opening brace", () => {
    const rule = conf.onEnterRules.find((r: { action: { indent: string } }) => r.action.indent === "indent");
    assert.ok(new RegExp(rule.beforeText).test("agent greet {"));
    assert.ok(new RegExp(rule.beforeText).test("agent greet {  # comment"));
    assert.ok(!new RegExp(rule.beforeText).test("  body { a: 1 }"));
  });
});
