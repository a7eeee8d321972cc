// Compile one solc standard-JSON input with the npm solc-js (bundled soljson, no network).
// Usage: node compile.js <path to node_modules/solc>   (input on stdin, output on stdout)
// liqscan inlines every source before calling this script, so an import callback that is
// reached means a source is missing: report it instead of reading the filesystem.
"use strict";

const solcDir = process.argv[2];
if (!solcDir) {
  process.stderr.write("usage: node compile.js <node_modules/solc>\n");
  process.exit(2);
}
const solc = require(solcDir);

const chunks = [];
process.stdin.on("data", (chunk) => chunks.push(chunk));
process.stdin.on("end", () => {
  const input = Buffer.concat(chunks).toString("utf8");
  const missingImport = (path) => ({ error: `source not provided by liqscan: ${path}` });
  const output = solc.compile(input, { import: missingImport });
  process.stdout.write(JSON.stringify({ version: solc.version(), output: JSON.parse(output) }));
});
