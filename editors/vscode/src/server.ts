// Finding and describing the `flow lsp` process. Kept free of the `vscode`
// module so it can be unit-tested with plain Node (test/unit).

import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** The process the client starts: `<command> lsp <extraArgs...>` over stdio. */
export interface ServerCommand {
  command: string;
  args: string[];
}

/** The settings that decide how the server is started. */
export interface ServerSettings {
  /** `flow.server.path`: a bare name (looked up on PATH) or a path. */
  path: string;
  /** `flow.server.extraArgs`: passed after `lsp`. */
  extraArgs: string[];
}

export const DEFAULT_SERVER_PATH = "flow";

/** Reads the raw setting values, tolerating wrong types from hand-edited settings.json. */
export function normalizeSettings(rawPath: unknown, rawArgs: unknown): ServerSettings {
  const p = typeof rawPath === "string" && rawPath.trim() !== "" ? rawPath.trim() : DEFAULT_SERVER_PATH;
  const extraArgs = Array.isArray(rawArgs) ? rawArgs.filter((a): a is string => typeof a === "string") : [];
  return { path: p, extraArgs };
}

/**
 * The command line for the server. No `--stdio` is added: the client talks to
 * the process's stdin/stdout and `flow lsp` always speaks LSP over stdio.
 */
export function serverCommand(executable: string, settings: ServerSettings): ServerCommand {
  return { command: executable, args: ["lsp", ...settings.extraArgs] };
}

function isExecutableFile(file: string, platform: NodeJS.Platform): boolean {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) {
      return false;
    }
    if (platform === "win32") {
      return true;
    }
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function expandHome(p: string, home: string): string {
  if (p === "~") {
    return home;
  }
  if (p.startsWith("~/") || p.startsWith("~\\")) {
    return path.join(home, p.slice(2));
  }
  return p;
}

export interface ResolveOptions {
  /** Environment to read PATH / PATHEXT from (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Platform (default: process.platform). */
  platform?: NodeJS.Platform;
  /** Folders a relative path is tried against, in order (e.g. the workspace folders). */
  baseDirs?: string[];
  /** Home directory for `~` (default: os.homedir()). */
  home?: string;
  /** Whether a file exists and may be run (default: asks the file system); for tests. */
  isExecutable?: (file: string) => boolean;
}

/**
 * Finds the executable that `flow.server.path` names, or `undefined` when there
 * is none. A value with a path separator is a file path (`~` expands, a relative
 * path is tried against each base folder); a bare name is searched on PATH, with
 * PATHEXT on Windows.
 */
export function resolveServerExecutable(configured: string, opts: ResolveOptions = {}): string | undefined {
  const env = opts.env ?? process.env;
  const platform = opts.platform ?? process.platform;
  const home = opts.home ?? os.homedir();
  const value = expandHome(configured.trim(), home);
  if (value === "") {
    return undefined;
  }
  const isExec = opts.isExecutable ?? ((file: string) => isExecutableFile(file, platform));
  const pathApi = platform === "win32" ? path.win32 : path.posix;
  const exts =
    platform === "win32"
      ? ["", ...(env.PATHEXT ?? ".COM;.EXE;.BAT;.CMD").split(";").filter((e) => e !== "")]
      : [""];
  const candidates = (file: string): string[] => exts.map((e) => file + e);

  const hasSeparator = value.includes("/") || (platform === "win32" && value.includes("\\"));
  if (hasSeparator || pathApi.isAbsolute(value)) {
    const tries = pathApi.isAbsolute(value)
      ? [value]
      : [...(opts.baseDirs ?? []).map((d) => pathApi.join(d, value)), pathApi.resolve(value)];
    for (const t of tries) {
      for (const c of candidates(t)) {
        if (isExec(c)) {
          return c;
        }
      }
    }
    return undefined;
  }

  const pathVar = env.PATH ?? env.Path ?? "";
  const sep = platform === "win32" ? ";" : ":";
  for (const dir of pathVar.split(sep)) {
    if (dir === "") {
      continue;
    }
    for (const c of candidates(pathApi.join(dir, value))) {
      if (isExec(c)) {
        return c;
      }
    }
  }
  return undefined;
}

/** The message shown when the binary cannot be found. */
export function notFoundMessage(configured: string): string {
  return (
    `Flow: cannot find the language server binary "${configured}". ` +
    `Set "flow.server.path" to the full path of the flow binary, ` +
    `or install it on your PATH with "cargo install --path ." in the flow repository.`
  );
}
