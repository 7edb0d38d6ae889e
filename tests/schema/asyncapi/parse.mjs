// Parses an AsyncAPI document with the reference parser (@asyncapi/parser, pinned in
// package-lock.json) and prints its diagnostics as JSON: [{severity, code, message, path}],
// severity as the parser names it (error, warning, information, hint); test_asyncapi.py runs it.
import { readFile } from "node:fs/promises";
import { Parser } from "@asyncapi/parser";

const SEVERITY = ["error", "warning", "information", "hint"];

const [file] = process.argv.slice(2);
const text = await readFile(file, "utf8");
const { document, diagnostics } = await new Parser().parse(text, { source: file });
const found = diagnostics.map((d) => ({
  severity: SEVERITY[d.severity] ?? String(d.severity),
  code: String(d.code),
  message: d.message,
  path: d.path.join("/"),
}));
if (document === undefined && !found.some((d) => d.severity === "error")) {
  found.push({ severity: "error", code: "unparsed", message: "no document", path: "" });
}
console.log(JSON.stringify(found));
