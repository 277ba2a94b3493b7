#!/usr/bin/env bash
# Builds, tests and packages the VS Code extension on a fresh machine with
# Node 20+ and npm. Produces flow-vscode.vsix in this folder.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

start=$SECONDS
node --version
npm --version

# esbuild and @vscode/vsce-sign have install scripts; neither is needed here
# (esbuild's binary comes from its @esbuild/<platform> package), so they are
# skipped for a reproducible, offline-friendly install.
npm ci --ignore-scripts --no-audit --no-fund
npm run compile
npm test
npm run package

test -s flow-vscode.vsix
echo "flow-vscode.vsix: $(wc -c < flow-vscode.vsix) bytes; ci.sh took $((SECONDS - start)) s"
