// Tokenizes `.flow` text with the extension's TextMate grammar, using the same
// engine as VS Code (vscode-textmate + vscode-oniguruma). Used by the unit tests,
// and as a command-line helper to see the scopes of a file:
//   npm run compile && node out/test/unit/tokenize.js FILE.flow

import * as fs from "fs";
import * as path from "path";
import * as oniguruma from "vscode-oniguruma";
import * as vsctm from "vscode-textmate";

/** The extension's folder (this file runs from out/test/unit/). */
export const EXTENSION_ROOT = path.resolve(__dirname, "..", "..", "..");
export const GRAMMAR_PATH = path.join(EXTENSION_ROOT, "syntaxes", "flow.tmLanguage.json");

export interface Token {
  line: number;
  startIndex: number;
  endIndex: number;
  text: string;
  scopes: string[];
}

export interface Tokenized {
  tokens: Token[];
  /** Whether the rule stack is back at the top level after each line. */
  topLevelAfterLine: boolean[];
}

let grammarPromise: Promise<vsctm.IGrammar> | undefined;

export function loadGrammar(): Promise<vsctm.IGrammar> {
  if (grammarPromise === undefined) {
    grammarPromise = (async () => {
      const wasmPath = require.resolve("vscode-oniguruma/release/onig.wasm");
      const wasm = fs.readFileSync(wasmPath);
      await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
      const registry = new vsctm.Registry({
        onigLib: Promise.resolve({
          createOnigScanner: (sources: string[]) => new oniguruma.OnigScanner(sources),
          createOnigString: (s: string) => new oniguruma.OnigString(s),
        }),
        loadGrammar: async (scopeName: string) => {
          if (scopeName !== "source.flow") {
            return null;
          }
          const text = fs.readFileSync(GRAMMAR_PATH, "utf8");
          return vsctm.parseRawGrammar(text, GRAMMAR_PATH);
        },
      });
      const grammar = await registry.loadGrammar("source.flow");
      if (grammar === null) {
        throw new Error(`cannot load ${GRAMMAR_PATH}`);
      }
      return grammar;
    })();
  }
  return grammarPromise;
}

export async function tokenize(text: string): Promise<Tokenized> {
  const grammar = await loadGrammar();
  const lines = text.split(/\r?\n/);
  let stack = vsctm.INITIAL;
  const tokens: Token[] = [];
  const topLevelAfterLine: boolean[] = [];
  lines.forEach((line, i) => {
    const r = grammar.tokenizeLine(line, stack);
    for (const t of r.tokens) {
      tokens.push({
        line: i + 1,
        startIndex: t.startIndex,
        endIndex: Math.min(t.endIndex, line.length),
        text: line.slice(t.startIndex, t.endIndex),
        scopes: t.scopes,
      });
    }
    stack = r.ruleStack;
    // INITIAL has depth 1; a rule still open (prose, brackets) makes it deeper.
    topLevelAfterLine.push(stack.equals(vsctm.INITIAL) || (stack as unknown as { depth: number }).depth === 1);
  });
  return { tokens, topLevelAfterLine };
}

if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    console.error("usage: node out/test/unit/tokenize.js FILE.flow");
    process.exit(2);
  }
  void tokenize(fs.readFileSync(file, "utf8")).then(({ tokens }) => {
    for (const t of tokens) {
      if (t.text.trim() === "") {
        continue;
      }
      console.log(`${t.line}:${t.startIndex}\t${JSON.stringify(t.text)}\t${t.scopes.slice(1).join(" ")}`);
    }
  });
}
