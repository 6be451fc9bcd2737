#!/usr/bin/env node
// Composes Accord's subgraph SDL into an Apollo Federation supergraph with
// @apollo/composition, the library the Rover CLI and GraphOS use.
//
//   node compose.mjs SDL_FILE [options]
//     --name NAME            subgraph name (default: accord)
//     --url URL              subgraph routing URL (default: http://127.0.0.1:8080/graphql)
//     --out FILE             write the supergraph SDL there on success
//     --require-fed2         fail unless the SDL links federation v2
//                            (extend schema @link(url: "https://specs.apollo.dev/federation/v2.x"))
//     --expect-key TYPE=FIELDS
//                            fail unless TYPE is an entity of the subgraph with
//                            @key(fields: "FIELDS") (repeatable), e.g. Account=id
//     --hints                print composition hints (informational)
//   SDL_FILE "-" reads standard input.
//
// Exit status: 0 composed (and every expectation met), 1 composition or
// expectation failed (the errors are printed), 2 bad usage or unreadable input.
import { readFileSync, writeFileSync } from 'node:fs';
import { Kind, parse, print } from 'graphql';
import composition from '@apollo/composition';

const { composeServices } = composition; // a CommonJS package

function usage(message) {
  if (message) console.error(`compose: ${message}`);
  console.error(
    'usage: compose.mjs SDL_FILE [--name NAME] [--url URL] [--out FILE] [--require-fed2] [--expect-key TYPE=FIELDS]... [--hints]',
  );
  process.exit(2);
}

const args = process.argv.slice(2);
const opts = { name: 'accord', url: 'http://127.0.0.1:8080/graphql', expectKeys: [], requireFed2: false, hints: false };
let file;
for (let i = 0; i < args.length; i += 1) {
  const arg = args[i];
  const value = () => {
    if (i + 1 >= args.length) usage(`${arg} needs a value`);
    return args[++i];
  };
  if (arg === '--name') opts.name = value();
  else if (arg === '--url') opts.url = value();
  else if (arg === '--out') opts.out = value();
  else if (arg === '--require-fed2') opts.requireFed2 = true;
  else if (arg === '--hints') opts.hints = true;
  else if (arg === '--expect-key') {
    const v = value();
    const eq = v.indexOf('=');
    if (eq <= 0 || eq === v.length - 1) usage(`--expect-key wants TYPE=FIELDS, got ${v}`);
    opts.expectKeys.push({ type: v.slice(0, eq), fields: v.slice(eq + 1) });
  } else if (arg === '-h' || arg === '--help') usage();
  else if (arg !== '-' && arg.startsWith('-')) usage(`unknown option ${arg}`);
  else if (file) usage('only one SDL file');
  else file = arg;
}
if (!file) usage('missing SDL file');

let source;
try {
  source = readFileSync(file === '-' ? 0 : file, 'utf8');
} catch (err) {
  console.error(`compose: cannot read ${file}: ${err.message}`);
  process.exit(2);
}
if (!source.trim()) {
  console.error(`compose: ${file} is empty`);
  process.exit(1);
}

let document;
try {
  document = parse(source, { noLocation: false });
} catch (err) {
  console.error(`compose: ${file} is not valid GraphQL SDL: ${err.message}`);
  process.exit(1);
}

const problems = [];

// Which federation spec does the subgraph link? (none = a federation 1
// subgraph, which composition accepts but upgrades on the fly)
const stringArg = (directive, name) => {
  const a = directive.arguments?.find((x) => x.name.value === name);
  return a && a.value.kind === Kind.STRING ? a.value.value : undefined;
};
const links = [];
for (const def of document.definitions) {
  if (def.kind !== Kind.SCHEMA_DEFINITION && def.kind !== Kind.SCHEMA_EXTENSION) continue;
  for (const d of def.directives ?? []) {
    if (d.name.value === 'link') links.push(stringArg(d, 'url') ?? '(no url)');
  }
}
const fedLink = links.find((u) => u.startsWith('https://specs.apollo.dev/federation/'));
const fedVersion = fedLink ? fedLink.split('/').pop() : undefined;
console.log(
  `subgraph ${opts.name}: ${file}, ${document.definitions.length} definitions, ` +
    (fedLink ? `links federation ${fedVersion}` : 'no federation @link (composed as a federation 1 subgraph)'),
);
if (opts.requireFed2 && !(fedVersion && /^v2\.\d+$/.test(fedVersion))) {
  problems.push(
    'the SDL does not link federation v2: expected extend schema @link(url: "https://specs.apollo.dev/federation/v2.x", import: [...])',
  );
}

// Entities declared by the subgraph: every @key on a type or extension.
const keysOf = new Map();
for (const def of document.definitions) {
  if (!('name' in def) || !def.name || !def.directives) continue;
  for (const d of def.directives) {
    if (d.name.value !== 'key') continue;
    const fields = stringArg(d, 'fields');
    if (fields === undefined) continue;
    const list = keysOf.get(def.name.value) ?? [];
    list.push(fields.trim().replace(/\s+/g, ' '));
    keysOf.set(def.name.value, list);
  }
}
console.log(
  `entities: ${keysOf.size ? [...keysOf].map(([t, ks]) => `${t} @key(${ks.join(' | ')})`).join(', ') : '(none)'}`,
);
for (const { type, fields } of opts.expectKeys) {
  const want = fields.trim().replace(/\s+/g, ' ');
  if (!(keysOf.get(type) ?? []).includes(want)) {
    problems.push(`expected entity ${type} with @key(fields: "${want}"), found ${JSON.stringify(keysOf.get(type) ?? [])}`);
  }
}

const result = composeServices([{ name: opts.name, url: opts.url, typeDefs: document }]);

if (result.errors) {
  console.log(`\ncomposition FAILED with ${result.errors.length} error(s):`);
  for (const err of result.errors) {
    const code = err.extensions?.code ? `[${err.extensions.code}] ` : '';
    console.log(`  - ${code}${err.message}`);
    for (const node of err.nodes ?? []) {
      const loc = node.loc ? `${file}:${node.loc.startToken.line}:${node.loc.startToken.column}: ` : '';
      const text = print(node).split('\n')[0].slice(0, 160);
      console.log(`      at ${loc}${text}`);
    }
  }
} else {
  const hints = result.hints ?? [];
  console.log(`\ncomposition OK: supergraph of ${result.supergraphSdl.split('\n').length} lines, ${hints.length} hint(s)`);
  if (opts.hints) for (const h of hints) console.log(`  hint: [${h.definition.code}] ${h.message}`);
  if (opts.out) {
    writeFileSync(opts.out, result.supergraphSdl.endsWith('\n') ? result.supergraphSdl : `${result.supergraphSdl}\n`);
    console.log(`supergraph written to ${opts.out}`);
  }
}

for (const p of problems) console.log(`FAIL: ${p}`);
process.exit(result.errors || problems.length ? 1 : 0);
