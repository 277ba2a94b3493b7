// A stand-in for the `vscode` module, enough to load the bundled extension in
// plain Node, activate it and let vscode-languageclient talk to a server.
// Anything not modelled here is an "auto" object: every property and call
// returns another auto object, so unused API surface does not crash.

import Module = require("module");

type AnyFn = (...args: unknown[]) => unknown;

const AUTO_PASSTHROUGH = new Set<PropertyKey>(["then", "toJSON", Symbol.toPrimitive, Symbol.iterator, "asymmetricMatch"]);

export function auto(name = "auto"): any {
  const target = function () {
    /* callable */
  };
  return new Proxy(target, {
    get(_t, prop) {
      if (AUTO_PASSTHROUGH.has(prop)) {
        return undefined;
      }
      if (prop === "toString") {
        return () => `[${name}]`;
      }
      if (prop === "dispose") {
        return () => undefined;
      }
      return auto(`${name}.${String(prop)}`);
    },
    apply() {
      return auto(`${name}()`);
    },
    construct() {
      return auto(`new ${name}`);
    },
  });
}

class Disposable {
  constructor(private readonly fn: () => void = () => undefined) {}
  static from(...ds: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => ds.forEach((d) => d.dispose()));
  }
  dispose(): void {
    this.fn();
  }
}

class EventEmitter<T> {
  private listeners: ((e: T) => void)[] = [];
  event = (listener: (e: T) => void): Disposable => {
    this.listeners.push(listener);
    return new Disposable(() => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    });
  };
  fire(e: T): void {
    this.listeners.forEach((l) => l(e));
  }
  dispose(): void {
    this.listeners = [];
  }
}

const noEvent = (): Disposable => new Disposable();

export interface StubState {
  settings: Record<string, unknown>;
  /** Listeners of workspace.onDidChangeConfiguration; `changeSettings` calls them. */
  configListeners?: ((e: { affectsConfiguration(section: string): boolean }) => void)[];
  errors: string[];
  infos: string[];
  commands: Map<string, AnyFn>;
  log: string[];
}

export function createVscodeStub(state: StubState): any {
  const outputChannel = (name: string) => {
    const ch: any = {
      name,
      logLevel: 3,
      onDidChangeLogLevel: noEvent,
      append: (s: string) => state.log.push(`${name}: ${s}`),
      appendLine: (s: string) => state.log.push(`${name}: ${s}`),
      replace: () => undefined,
      clear: () => undefined,
      show: () => undefined,
      hide: () => undefined,
      dispose: () => undefined,
    };
    for (const level of ["trace", "debug", "info", "warn", "error"]) {
      ch[level] = (s: unknown) => state.log.push(`${name}: ${level}: ${String(s)}`);
    }
    return ch;
  };
  const configuration = (section?: string) => ({
    get: (key: string, def?: unknown) => {
      const full = section ? `${section}.${key}` : key;
      return full in state.settings ? state.settings[full] : def;
    },
    has: (key: string) => (section ? `${section}.${key}` : key) in state.settings,
    inspect: () => undefined,
    update: async () => undefined,
  });
  const base: Record<string, unknown> = {
    version: "1.91.0",
    LogLevel: { Off: 0, Trace: 1, Debug: 2, Info: 3, Warning: 4, Error: 5, 0: "Off", 1: "Trace", 2: "Debug", 3: "Info", 4: "Warning", 5: "Error" },
    Disposable,
    EventEmitter,
    env: { appName: "stub", language: "en", machineId: "stub", sessionId: "stub", uiKind: 1 },
    workspace: new Proxy(
      {
        workspaceFolders: undefined,
        textDocuments: [],
        notebookDocuments: [],
        getConfiguration: configuration,
        onDidChangeConfiguration: (l: (e: { affectsConfiguration(section: string): boolean }) => void) => {
          (state.configListeners ??= []).push(l);
          return new Disposable();
        },
        onDidOpenTextDocument: noEvent,
        onDidCloseTextDocument: noEvent,
        onDidChangeTextDocument: noEvent,
        onDidSaveTextDocument: noEvent,
        onWillSaveTextDocument: noEvent,
        onDidChangeWorkspaceFolders: noEvent,
        createFileSystemWatcher: () => ({
          onDidCreate: noEvent,
          onDidChange: noEvent,
          onDidDelete: noEvent,
          dispose: () => undefined,
        }),
      } as Record<string, unknown>,
      { get: (t, p: string) => (p in t ? t[p] : auto(`workspace.${p}`)) },
    ),
    window: new Proxy(
      {
        createOutputChannel: outputChannel,
        showErrorMessage: async (msg: string) => {
          state.errors.push(msg);
          return undefined;
        },
        showInformationMessage: async (msg: string) => {
          state.infos.push(msg);
          return undefined;
        },
        showWarningMessage: async (msg: string) => {
          state.infos.push(msg);
          return undefined;
        },
        setStatusBarMessage: () => new Disposable(),
        activeTextEditor: undefined,
        visibleTextEditors: [],
        onDidChangeActiveTextEditor: noEvent,
        onDidChangeVisibleTextEditors: noEvent,
      } as Record<string, unknown>,
      { get: (t, p: string) => (p in t ? t[p] : auto(`window.${p}`)) },
    ),
    commands: new Proxy(
      {
        registerCommand: (id: string, fn: AnyFn) => {
          state.commands.set(id, fn);
          return new Disposable(() => state.commands.delete(id));
        },
        executeCommand: async () => undefined,
      } as Record<string, unknown>,
      { get: (t, p: string) => (p in t ? t[p] : auto(`commands.${p}`)) },
    ),
  };
  return new Proxy(base, { get: (t, p: string) => (p in t ? t[p] : auto(`vscode.${p}`)) });
}

/** Changes settings and tells the listeners, as VS Code does. */
export function changeSettings(state: StubState, changes: Record<string, unknown>): void {
  Object.assign(state.settings, changes);
  const keys = Object.keys(changes);
  const event = { affectsConfiguration: (section: string) => keys.some((k) => k === section || k.startsWith(`${section}.`)) };
  (state.configListeners ?? []).forEach((l) => l(event));
}

/** Makes `require("vscode")` return the stub while `fn` runs modules that load it. */
export function withVscodeStub(stub: unknown): () => void {
  const m = Module as unknown as { _load: (request: string, parent: unknown, isMain: boolean) => unknown };
  const original = m._load;
  m._load = function (request: string, parent: unknown, isMain: boolean) {
    if (request === "vscode") {
      return stub;
    }
    return original.call(this, request, parent, isMain);
  };
  return () => {
    m._load = original;
  };
}
