// Runs KQL queries through Microsoft's Kusto parser and semantic analyzer (Kusto.Language,
// the npm package @kusto/language-service-next) against table schemas kept as data.
//
//   node kql_check.js tables.json < queries.json > diagnostics.json
//
// queries.json: [{"name": ..., "query": ...}, ...]. tables.json: {"tables": {NAME: {"columns":
// ["Column:type", ...]}}}. Output: [{"name", "diagnostics": [{"severity", "code", "message",
// "start", "length", "text"}]}] in input order; warnings and suggestions are reported too,
// the caller decides what fails. Exit 0 once every query was analysed.
"use strict";
const fs = require("fs");
const path = require("path");

const pkg = path.dirname(require.resolve("@kusto/language-service-next/package.json"));
require(path.join(pkg, "bridge.min.js"));
require(path.join(pkg, "Kusto.Language.Bridge.min.js"));
/* global Kusto, Bridge */
const K = Kusto.Language;
const S = K.Symbols;

function globalsFor(tablesFile) {
  const spec = JSON.parse(fs.readFileSync(tablesFile, "utf8")).tables;
  const tables = Object.entries(spec).map(([name, t]) => {
    const schema = "(" + t.columns.map((c) => {
      const i = c.indexOf(":");
      return "['" + c.slice(0, i) + "']:" + c.slice(i + 1);
    }).join(", ") + ")";
    return new S.TableSymbol.$ctor7(name, schema, null);
  });
  const db = new S.DatabaseSymbol.ctor("dcomhunt", tables);
  return K.GlobalState.Default.WithDatabase(db);
}

function list(readOnlyList) {
  const out = [];
  const it = Bridge.getEnumerator(readOnlyList);
  while (it.moveNext()) out.push(it.Current);
  return out;
}

function main() {
  if (process.argv.length < 3) {
    process.stderr.write("usage: node kql_check.js tables.json < queries.json\n");
    process.exit(2);
  }
  const globals = globalsFor(process.argv[2]);
  const queries = JSON.parse(fs.readFileSync(0, "utf8"));
  const out = queries.map((q) => {
    const code = K.KustoCode.ParseAndAnalyze(q.query, globals);
    const diagnostics = list(code.GetDiagnostics()).map((d) => ({
      severity: String(d.Severity),
      code: d.Code,
      message: d.Message,
      start: d.Start,
      length: d.Length,
      text: q.query.substr(d.Start, Math.max(d.Length, 1)),
    }));
    return { name: q.name, diagnostics };
  });
  process.stdout.write(JSON.stringify(out) + "\n");
}

main();
