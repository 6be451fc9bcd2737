// Validates the README's ```graphql operations against the client SDL
// (`accord schema --client`) with graphql-inspector, the way client
// tooling reads the schema:
//
//   node inspect.mjs README.md schema.client.graphql [--out DIR]
//
// Each block is written to DIR/readme-N.graphql (a temporary directory by
// default) and `graphql-inspector validate` checks them all; it fails on
// an unknown field or argument, a type mismatch, or a deprecated field.
// Exit status: 0 valid, 1 invalid, 2 bad usage.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const [readme, schema, ...rest] = process.argv.slice(2);
if (!readme || !schema) {
  console.error("usage: node inspect.mjs README.md schema.client.graphql [--out DIR]");
  process.exit(2);
}
const outAt = rest.indexOf("--out");
const out = outAt >= 0 ? rest[outAt + 1] : mkdtempSync(join(tmpdir(), "accord-inspect-"));

// The same blocks tests/it/readme.rs runs: from a line "```graphql" to the next "```".
const blocks = [];
let current = null;
for (const line of readFileSync(readme, "utf8").split("\n")) {
  const text = line.trimEnd();
  if (current === null && text === "```graphql") current = [];
  else if (current !== null && text === "```") {
    blocks.push(current.join("\n") + "\n");
    current = null;
  } else if (current !== null) current.push(text);
}
if (current !== null) {
  console.error(`${readme}: a graphql block is not closed`);
  process.exit(1);
}
if (blocks.length === 0) {
  console.error(`${readme}: no graphql blocks`);
  process.exit(1);
}
blocks.forEach((block, index) => writeFileSync(join(out, `readme-${index + 1}.graphql`), block));
console.log(`${blocks.length} README operation block(s) in ${out}`);

const here = dirname(fileURLToPath(import.meta.url));
const inspector = join(here, "node_modules", ".bin", "graphql-inspector");
const result = spawnSync(inspector, ["validate", join(out, "readme-*.graphql"), schema, "--deprecated"], {
  stdio: "inherit",
});
if (result.error) {
  console.error(`graphql-inspector did not run: ${result.error.message}`);
  process.exit(2);
}
process.exit(result.status === 0 ? 0 : 1);
