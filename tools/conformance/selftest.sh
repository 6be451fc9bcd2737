#!/usr/bin/env bash
# Self-test of the conformance tools, without a server: the composition
# check against the SDL fixtures in testdata/, and the fuzzer's custom checks
# against canned responses. Run after `npm ci` and `./fuzz.sh --install`.
set -uo pipefail
cd "$(dirname "$0")"
failed=0
expect() { # expected-exit-status description command...
  local want="$1" what="$2"; shift 2
  "$@" > /tmp/accord-selftest.$$ 2>&1
  local got=$?
  if [[ "$got" == "$want" ]]; then
    echo "ok   $what"
  else
    echo "FAIL $what: exit $got, expected $want"; sed 's/^/     /' /tmp/accord-selftest.$$
    failed=1
  fi
  rm -f /tmp/accord-selftest.$$
}
fed=(--require-fed2 --expect-key Account=id --expect-key Customer=id)
expect 0 "federation v2 subgraph (async-graphql 7.2 shape) composes" node compose.mjs testdata/federation-v2.graphql "${fed[@]}"
expect 0 "plain SDL without @link composes as a federation 1 subgraph" node compose.mjs testdata/plain.graphql
expect 1 "plain SDL fails --require-fed2 / --expect-key" node compose.mjs testdata/plain.graphql "${fed[@]}"
expect 1 "@key on a missing field fails composition" node compose.mjs testdata/bad-key.graphql
expect 1 "SDL that does not parse fails" node compose.mjs testdata/not-sdl.graphql
expect 2 "missing SDL file is a usage error" node compose.mjs testdata/does-not-exist.graphql
expect 2 "audit without URL is a usage error" node audit-http.mjs
expect 1 "audit of a closed port fails every audit" env ACCORD_AUDIT_TIMEOUT_MS=2000 node audit-http.mjs http://127.0.0.1:9/graphql
expect 0 "fuzz checks against canned responses" .venv/bin/python fuzz/test_checks.py
exit "$failed"
