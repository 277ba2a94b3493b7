// The Flow extension: starts `flow lsp` (stdio) as a language server for
// `.flow` files. Highlighting comes from syntaxes/flow.tmLanguage.json and
// needs no server.

import * as vscode from "vscode";
import {
  CloseAction,
  ErrorAction,
  ErrorHandler,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
} from "vscode-languageclient/node";
import { normalizeSettings, notFoundMessage, resolveServerExecutable, serverCommand } from "./server";

const CLIENT_ID = "flow"; // the client reads `flow.trace.server` from this id
const CLIENT_NAME = "Flow Language Server";

/**
 * A LanguageClient that, until the server has started, only logs its errors:
 * a server that fails to start then gives one clear message (from
 * `startClient`) instead of several notifications from the client library.
 * Once the server runs, the library's usual notifications apply (a crash, a
 * restart that gave up).
 */
class FlowLanguageClient extends LanguageClient {
  started = false;

  override error(message: string, data?: unknown, showNotification: boolean | "force" = true): void {
    super.error(message, data, this.started ? showNotification : false);
  }
}

/** `flow.trace.server` as the log level the client library looks at. */
function traceLevelFromSettings(): vscode.LogLevel {
  const value = vscode.workspace.getConfiguration("flow").get<string>("trace.server", "off");
  return value === "messages" || value === "verbose" ? vscode.LogLevel.Trace : vscode.LogLevel.Info;
}

/**
 * The channel the client writes the LSP traffic to. vscode-languageclient 11
 * traces only when its trace channel's log level is Trace (and then reads
 * `flow.trace.server` for messages / verbose); this channel takes its level
 * from `flow.trace.server`, so the setting alone turns tracing on and off,
 * and a change is sent to the running server at once.
 */
class TraceChannel implements vscode.LogOutputChannel {
  readonly name = `${CLIENT_NAME} Trace`;
  private readonly out = vscode.window.createOutputChannel(this.name);
  private readonly levelChanged = new vscode.EventEmitter<vscode.LogLevel>();
  readonly onDidChangeLogLevel = this.levelChanged.event;
  private level = traceLevelFromSettings();

  get logLevel(): vscode.LogLevel {
    return this.level;
  }
  refresh(): void {
    const level = traceLevelFromSettings();
    if (level !== this.level) {
      this.level = level;
      this.levelChanged.fire(level);
    }
  }
  private write(message: string | Error): void {
    const text = message instanceof Error ? (message.stack ?? message.message) : message;
    this.out.appendLine(`[${new Date().toISOString().slice(11, 23)}] ${text}`);
  }
  trace(message: string): void {
    if (this.level === vscode.LogLevel.Trace) {
      this.write(message);
    }
  }
  debug(message: string): void {
    this.write(message);
  }
  info(message: string): void {
    this.write(message);
  }
  warn(message: string): void {
    this.write(message);
  }
  error(error: string | Error): void {
    this.write(error);
  }
  append(value: string): void {
    this.out.append(value);
  }
  appendLine(value: string): void {
    this.out.appendLine(value);
  }
  replace(value: string): void {
    this.out.replace(value);
  }
  clear(): void {
    this.out.clear();
  }
  show(columnOrPreserveFocus?: vscode.ViewColumn | boolean, preserveFocus?: boolean): void {
    if (typeof columnOrPreserveFocus === "boolean" || columnOrPreserveFocus === undefined) {
      this.out.show(columnOrPreserveFocus);
    } else {
      this.out.show(columnOrPreserveFocus, preserveFocus);
    }
  }
  hide(): void {
    this.out.hide();
  }
  dispose(): void {
    this.levelChanged.dispose();
    this.out.dispose();
  }
}

let client: FlowLanguageClient | undefined;
let outputChannel: vscode.LogOutputChannel | undefined;
let traceChannel: TraceChannel | undefined;
let starting: Promise<void> | undefined;

function workspaceDirs(): string[] {
  return (vscode.workspace.workspaceFolders ?? [])
    .filter((f) => f.uri.scheme === "file")
    .map((f) => f.uri.fsPath);
}

async function showNotFound(configured: string): Promise<void> {
  const openSettings = "Open Settings";
  const retry = "Retry";
  const choice = await vscode.window.showErrorMessage(notFoundMessage(configured), openSettings, retry);
  if (choice === openSettings) {
    await vscode.commands.executeCommand("workbench.action.openSettings", "flow.server.path");
  } else if (choice === retry) {
    await restartClient();
  }
}

async function showStartFailed(commandLine: string, detail: string): Promise<void> {
  const show = "Show Output";
  const openSettings = "Open Settings";
  const choice = await vscode.window.showErrorMessage(
    `Flow: the language server "${commandLine}" did not start (${detail}). ` +
      `Check that "flow.server.path" names a flow binary that has the "lsp" command; ` +
      `the server's own messages are in the "${CLIENT_NAME}" output.`,
    show,
    openSettings,
  );
  if (choice === show) {
    outputChannel?.show(true);
  } else if (choice === openSettings) {
    await vscode.commands.executeCommand("workbench.action.openSettings", "flow.server.path");
  }
}

async function startClient(): Promise<void> {
  const config = vscode.workspace.getConfiguration("flow");
  const settings = normalizeSettings(config.get("server.path"), config.get("server.extraArgs"));
  const executable = resolveServerExecutable(settings.path, { baseDirs: workspaceDirs() });
  if (executable === undefined) {
    outputChannel?.error(notFoundMessage(settings.path));
    void showNotFound(settings.path);
    return;
  }

  const cmd = serverCommand(executable, settings);
  const commandLine = [cmd.command, ...cmd.args].join(" ");
  outputChannel?.info(`starting ${commandLine}`);
  // No `transport` on purpose: with TransportKind.stdio the client would append
  // `--stdio` to the arguments; without it, it still talks over stdin/stdout.
  const serverOptions: ServerOptions = {
    run: { command: cmd.command, args: cmd.args },
    debug: { command: cmd.command, args: cmd.args },
  };

  let c: FlowLanguageClient | undefined;
  let defaultHandler: ErrorHandler | undefined;
  const errorHandler: ErrorHandler = {
    // Before the server has started, a failure ends the attempt (reported once
    // by startClient); afterwards the library's default policy applies
    // (restart a crashed server a few times, then give up).
    error: (error, message, count) =>
      c?.started && defaultHandler
        ? defaultHandler.error(error, message, count)
        : { action: ErrorAction.Continue, handled: true },
    closed: () =>
      c?.started && defaultHandler ? defaultHandler.closed() : { action: CloseAction.DoNotRestart, handled: true },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "flow" },
      { scheme: "untitled", language: "flow" },
    ],
    outputChannel,
    traceOutputChannel: traceChannel,
    errorHandler,
    initializationFailedHandler: () => false,
    // File watching is left to the server: it can register for
    // workspace/didChangeWatchedFiles dynamically if it needs it.
  };

  c = new FlowLanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions, clientOptions);
  defaultHandler = c.createDefaultErrorHandler();
  client = c;
  try {
    await c.start();
    c.started = true;
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    outputChannel?.error(`the language server did not start: ${detail}`);
    if (client === c) {
      client = undefined;
    }
    try {
      await c.dispose();
    } catch {
      // already stopped
    }
    void showStartFailed(commandLine, detail);
  }
}

async function stopClient(): Promise<void> {
  const c = client;
  client = undefined;
  if (c === undefined) {
    return;
  }
  try {
    if (c.state !== State.Stopped) {
      await c.stop();
    }
  } catch (err) {
    outputChannel?.error(`error while stopping the server: ${String(err)}`);
  }
  try {
    await c.dispose();
  } catch {
    // nothing left to release
  }
}

/** Stops the running server (if any) and starts a new one; calls are serialised. */
function restartClient(): Promise<void> {
  const previous = starting ?? Promise.resolve();
  const next = previous.then(async () => {
    await stopClient();
    await startClient();
  });
  starting = next.finally(() => {
    if (starting === next) {
      starting = undefined;
    }
  });
  return next;
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  outputChannel = vscode.window.createOutputChannel(CLIENT_NAME, { log: true });
  traceChannel = new TraceChannel();
  context.subscriptions.push(outputChannel, traceChannel);

  context.subscriptions.push(
    vscode.commands.registerCommand("flow.restartServer", async () => {
      await restartClient();
      if (client !== undefined) {
        vscode.window.setStatusBarMessage("Flow: language server restarted", 3000);
      }
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("flow.server.path") || e.affectsConfiguration("flow.server.extraArgs")) {
        void restartClient();
      } else if (e.affectsConfiguration("flow.trace.server")) {
        traceChannel?.refresh();
      }
    }),
  );

  await restartClient();
}

export async function deactivate(): Promise<void> {
  await starting?.catch(() => undefined);
  await stopClient();
}
