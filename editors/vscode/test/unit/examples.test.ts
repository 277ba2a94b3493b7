// Tokenizes the project's example workflows with the TextMate grammar: no
// token may be marked invalid, every item header is recognised, and no rule
// (string, prose block, bracket) stays open past the end of an item.

import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { EXTENSION_ROOT, tokenize } from "./tokenize";

const EXAMPLES = path.resolve(EXTENSION_ROOT, "..", "..", "examples");
const files = fs.existsSync(EXAMPLES)
  ? fs
      .readdirSync(EXAMPLES)
      .filter((f) => f.endsWith(".flow"))
      .sort()
  : [];

const ITEM = /^(workflow|model|type|input|var|secret|tool|knowledge|agent|action|route|say|handoff|approval|end)\s+[A-Za-z_]/;

describe("example workflows", () => {
  it("are present", () => {
    assert.ok(files.length > 0, `no .flow files in ${EXAMPLES}`);
  });
  for (const file of files) {
    it(`tokenizes ${file} cleanly`, async () => {
      const text = fs.readFileSync(path.join(EXAMPLES, file), "utf8");
      const lines = text.split(/\r?\n/);
      const { tokens, topLevelAfterLine } = await tokenize(text);

      const invalid = tokens.filter((t) => t.scopes.some((s) => s.startsWith("invalid")));
      assert.deepEqual(
        invalid.map((t) => `${t.line}:${t.startIndex} ${t.text}`),
        [],
        "no token may be invalid",
      );

      lines.forEach((line, i) => {
        if (ITEM.test(line)) {
          const first = tokens.find((t) => t.line === i + 1 && t.startIndex === 0);
          assert.ok(
            first !== undefined && first.scopes.some((s) => s.startsWith("storage.type.")),
            `${file}:${i + 1}: item keyword not highlighted: ${line}`,
          );
          assert.ok(i === 0 || topLevelAfterLine[i - 1], `${file}:${i + 1}: a rule is still open before this item`);
        }
        if (line === "}") {
          assert.ok(topLevelAfterLine[i], `${file}:${i + 1}: a rule is still open after the closing brace`);
        }
      });
      assert.ok(topLevelAfterLine[topLevelAfterLine.length - 1], "a rule is still open at the end of the file");

      // Every word outside comments and text gets a scope of its own.
      const bare = tokens.filter(
        (t) => t.text.trim() !== "" && t.scopes.length === 1,
      );
      assert.deepEqual(bare.map((t) => `${t.line}:${t.startIndex} ${JSON.stringify(t.text)}`), []);
    });
  }
});
