#!/usr/bin/env node
// What an editor shows for a YAML file that names its JSON Schema in a modeline
// (`# yaml-language-server: $schema=./NAME.schema.json`): yaml-language-server's own
// language service, as VS Code's YAML extension and other editors run it.
//
// Usage:
//   check_editor.mjs validate FILE...        one JSON line per file: {"path", "diagnostics": [{"line", "message"}]}
//   check_editor.mjs complete FILE LINE COL  the completion labels at LINE:COL (1-based line, 0-based column)
//   check_editor.mjs hover FILE LINE COL     the hover text at LINE:COL

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const { getLanguageService } = require('yaml-language-server/out/server/src/languageservice/yamlLanguageService.js');
const { TextDocument } = require('vscode-languageserver-textdocument');

const service = getLanguageService({
  schemaRequestService: async (uri) => readFileSync(fileURLToPath(uri), 'utf8'),
  workspaceContext: { resolveRelativePath: (relative, resource) => new URL(relative, resource).toString() },
  clientCapabilities: {},
  yamlSettings: {},
  telemetry: { send() {}, sendError() {}, sendTrack() {} },
});
service.configure({ validate: true, completion: true, hover: true, schemas: [], customTags: [] });

function open(path) {
  return TextDocument.create(pathToFileURL(path).toString(), 'yaml', 1, readFileSync(path, 'utf8'));
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'validate') {
  for (const path of args) {
    const diagnostics = await service.doValidation(open(path), false);
    const shown = diagnostics.map((d) => ({ line: d.range.start.line + 1, message: d.message }));
    console.log(JSON.stringify({ path, diagnostics: shown }));
  }
} else if (mode === 'complete' || mode === 'hover') {
  const [path, line, column] = args;
  const position = { line: Number(line) - 1, character: Number(column) };
  if (mode === 'complete') {
    const list = await service.doComplete(open(path), position, false);
    console.log(JSON.stringify(list.items.map((item) => item.label)));
  } else {
    const hover = await service.doHover(open(path), position);
    console.log(JSON.stringify(hover ? hover.contents.value : null));
  }
} else {
  console.error('usage: check_editor.mjs validate FILE... | complete FILE LINE COL | hover FILE LINE COL');
  process.exit(2);
}
