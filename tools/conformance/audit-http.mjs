#!/usr/bin/env node
// GraphQL-over-HTTP conformance of a running Accord server, judged by the
// audit suite of the `graphql-http` package (`serverAudits`).
//
//   node audit-http.mjs URL [-H 'Name: value']... [--json FILE] [--allow ID[,ID]...]
//
// Extra request headers (sent with every audit request, never replacing a
// header the audit sets itself):
//   ACCORD_AUDIT_AUTHORIZATION  value of the Authorization header, e.g. "Bearer abc"
//   ACCORD_AUDIT_HEADERS        more headers, one "Name: value" per line
//   -H 'Name: value'            the same on the command line (repeatable)
// ACCORD_AUDIT_TIMEOUT_MS (default 10000) bounds each request.
//
// Exit status: 0 when every MUST and SHOULD audit passes (MAY audits are
// reported, never fatal), 1 when one fails, 2 on bad usage. `--allow` lists
// audit ids whose failure is known and accepted (still printed).
import { writeFileSync } from 'node:fs';
import { serverAudits } from 'graphql-http';

function usage(message) {
  if (message) console.error(`audit-http: ${message}`);
  console.error("usage: audit-http.mjs URL [-H 'Name: value']... [--json FILE] [--allow ID,...]");
  process.exit(2);
}

function parseHeaderLine(line, source) {
  const colon = line.indexOf(':');
  if (colon <= 0) usage(`bad header in ${source}: ${JSON.stringify(line)}`);
  return [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
}

const args = process.argv.slice(2);
let url;
let jsonPath;
const allowed = new Set();
const extraHeaders = [];
for (let i = 0; i < args.length; i += 1) {
  const arg = args[i];
  if (arg === '-H' || arg === '--header') {
    if (i + 1 >= args.length) usage(`${arg} needs a value`);
    extraHeaders.push(parseHeaderLine(args[++i], arg));
  } else if (arg === '--json') {
    if (i + 1 >= args.length) usage('--json needs a file');
    jsonPath = args[++i];
  } else if (arg === '--allow') {
    if (i + 1 >= args.length) usage('--allow needs audit ids');
    for (const id of args[++i].split(',')) if (id.trim()) allowed.add(id.trim());
  } else if (arg === '-h' || arg === '--help') {
    usage();
  } else if (arg.startsWith('-')) {
    usage(`unknown option ${arg}`);
  } else if (url) {
    usage('only one URL');
  } else {
    url = arg;
  }
}
if (!url) usage('missing URL');
try {
  new URL(url);
} catch {
  usage(`not a URL: ${url}`);
}

if (process.env.ACCORD_AUDIT_AUTHORIZATION) {
  extraHeaders.push(['Authorization', process.env.ACCORD_AUDIT_AUTHORIZATION]);
}
for (const line of (process.env.ACCORD_AUDIT_HEADERS ?? '').split('\n')) {
  if (line.trim()) extraHeaders.push(parseHeaderLine(line, 'ACCORD_AUDIT_HEADERS'));
}
const timeoutMs = Number(process.env.ACCORD_AUDIT_TIMEOUT_MS ?? 10000);

// The audits call fetch(url, init); add our headers and a timeout to each call.
async function auditFetch(input, init = {}) {
  const headers = new Headers(init.headers ?? {});
  for (const [name, value] of extraHeaders) {
    if (!headers.has(name)) headers.set(name, value);
  }
  return fetch(input, { ...init, headers, signal: AbortSignal.timeout(timeoutMs) });
}

// "MUST use ..." -> MUST; the status says the same (error/warn/notice) but
// only for failures, so the name is the one source for passes too.
const levelOf = (name) => name.split(' ', 1)[0];

const results = [];
for (const audit of serverAudits({ url, fetchFn: auditFetch })) {
  const level = levelOf(audit.name);
  let result;
  try {
    result = await audit.fn();
  } catch (err) {
    // A fatal error (no connection, timeout): count it as a failure of the audit.
    result = { id: audit.id, name: audit.name, status: 'error', reason: `audit threw: ${err?.message ?? err}` };
  }
  const entry = { id: audit.id, level, name: audit.name, status: result.status };
  if (result.status !== 'ok') {
    entry.reason = result.reason;
    if (result.response) {
      entry.responseStatus = result.response.status;
      entry.responseContentType = result.response.headers.get('content-type');
      try {
        // The audit may already have read the body; clone() fails then.
        entry.responseBody = (await result.response.clone().text()).slice(0, 300);
      } catch {
        /* body already consumed */
      }
    }
  }
  entry.fails = result.status !== 'ok' && level !== 'MAY' && !allowed.has(audit.id);
  results.push(entry);
}

const mark = { ok: 'ok  ', notice: 'MAY ', warn: 'FAIL', error: 'FAIL' };
for (const r of results) {
  const tag = r.status === 'ok' ? 'ok  ' : r.fails ? 'FAIL' : allowed.has(r.id) ? 'allw' : mark[r.status];
  console.log(`${tag} ${r.id} ${r.name}`);
  if (r.status !== 'ok') {
    console.log(`       reason: ${r.reason}`);
    if (r.responseStatus !== undefined) {
      console.log(`       response: ${r.responseStatus} ${r.responseContentType ?? '(no content-type)'}`);
    }
    if (r.responseBody) console.log(`       body: ${r.responseBody.replace(/\s+/g, ' ')}`);
  }
}

const count = (pred) => results.filter(pred).length;
const summary = {
  url,
  total: results.length,
  ok: count((r) => r.status === 'ok'),
  mustFailed: count((r) => r.status !== 'ok' && r.level === 'MUST'),
  shouldFailed: count((r) => r.status !== 'ok' && r.level === 'SHOULD'),
  mayFailed: count((r) => r.status !== 'ok' && r.level === 'MAY'),
  fatal: count((r) => r.fails),
};
console.log(
  `\n${url}: ${summary.ok}/${summary.total} audits pass; failed: ` +
    `${summary.mustFailed} MUST, ${summary.shouldFailed} SHOULD, ${summary.mayFailed} MAY` +
    (allowed.size ? ` (${summary.fatal} not allowed)` : ''),
);
if (jsonPath) writeFileSync(jsonPath, JSON.stringify({ summary, results }, null, 2) + '\n');
process.exit(summary.fatal > 0 ? 1 : 0);
