#!/usr/bin/env bash
# Conformance run of an Accord server binary, from the outside:
#   1. GraphQL-over-HTTP audit (graphql-http serverAudits; MUST/SHOULD fatal)
#   2. schemathesis fuzzing (5xx, INTERNAL, uncoded errors, leaked internals)
#   3. SDL export + Apollo Federation composition (@apollo/composition)
#   4. `promtool check metrics` on a scrape of /metrics (Debian `prometheus`)
#   5. graphql-inspector validates the README's operations against the
#      client SDL (`schema --client`)
#
#   tools/conformance/run.sh BINARY
#
# The server runs on a free 127.0.0.1 port with a fresh SQLite database in a
# temporary directory (`serve --demo`), or on ACCORD_CONFORMANCE_DATABASE_URL,
# and is stopped however the run ends.
# Exit status: 0 all steps passed, 1 a step failed, 2 bad usage / setup.
#
# Environment (all optional):
#   ACCORD_CONFORMANCE_STEPS   steps to run (default "audit fuzz compose metrics inspect")
#   ACCORD_CONFORMANCE_DATABASE_URL  the database to serve (default: a fresh SQLite
#                              file); a PostgreSQL URL must name an empty database
#   ACCORD_CONFORMANCE_PORT    port to serve on (default: a free one)
#   ACCORD_CONFORMANCE_READY_TIMEOUT  seconds to wait for /readyz (default 180)
#   ACCORD_CONFORMANCE_OUT     directory for logs and reports (default: a temp dir, kept)
#   ACCORD_SERVER_ARGS         extra arguments for `serve` (word-split)
#   ACCORD_SDL_ARGS            the SDL export command (default "schema"; word-split),
#                              e.g. "schema --federation" once that flag exists
#   ACCORD_SDL_FROM_SERVICE=1  take the SDL from the running server's `{ _service { sdl } }`
#                              instead (what a federation router sees)
#   ACCORD_REQUIRE_FEDERATION=1  composition must see a federation v2 @link and the
#                              entities Account and Customer with @key(fields: "id")
#   ACCORD_COMPOSE_ARGS        more compose.mjs options (word-split)
#   ACCORD_AUDIT_AUTHORIZATION Authorization header for the audit and the fuzzer
#   ACCORD_AUDIT_ALLOW         audit ids whose failure is accepted (comma-separated)
#   ACCORD_FUZZ_*              see fuzz.sh
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-}"
if [[ -z "$bin" || "$bin" == -* ]]; then
  echo "usage: $0 BINARY   (an Accord server binary, e.g. target/debug/accord)" >&2
  exit 2
fi
if [[ ! -x "$bin" ]]; then
  echo "run: $bin is not an executable file" >&2
  exit 2
fi
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"

steps=" ${ACCORD_CONFORMANCE_STEPS:-audit fuzz compose metrics inspect} "
ready_timeout="${ACCORD_CONFORMANCE_READY_TIMEOUT:-180}"
out="${ACCORD_CONFORMANCE_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/accord-conformance.XXXXXX")}"
mkdir -p "$out"
work="$(mktemp -d "${TMPDIR:-/tmp}/accord-conformance-db.XXXXXX")"

say() { printf '\n==> %s\n' "$*"; }
for tool in node npm python3 curl timeout; do
  command -v "$tool" >/dev/null || { echo "run: $tool is required" >&2; exit 2; }
done

server_pid=""
step_pid=""
# Run a step in the background and wait for it, so that a signal reaches
# our trap at once instead of after the step, and the trap can stop it.
in_bg() {
  "$@" &
  step_pid=$!
  wait "$step_pid"
  local rc=$?
  step_pid=""
  return "$rc"
}
stop_server() {
  [[ -n "$server_pid" ]] || return 0
  if kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null
    for _ in $(seq 1 30); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$server_pid" 2>/dev/null; then
      echo "run: server did not stop on SIGTERM within 15 s; killing it" >&2
      kill -KILL "$server_pid" 2>/dev/null
    fi
  fi
  wait "$server_pid" 2>/dev/null
  server_pid=""
}
cleanup() {
  if [[ -n "$step_pid" ]]; then
    kill -TERM "$step_pid" 2>/dev/null
    wait "$step_pid" 2>/dev/null
  fi
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "run: interrupted" >&2; exit 130' INT TERM

# --- dependencies (idempotent) ----------------------------------------------
say "dependencies"
lock_sum="$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)"
if [[ "$(cat "$here/node_modules/.accord-lock.sha256" 2>/dev/null)" != "$lock_sum" ]]; then
  (cd "$here" && timeout 600 npm ci --no-audit --no-fund --loglevel=error) || { echo "run: npm ci failed" >&2; exit 2; }
  echo "$lock_sum" > "$here/node_modules/.accord-lock.sha256"
fi
echo "npm packages: ok"
if [[ "$steps" == *" fuzz "* ]]; then
  timeout 900 "$here/fuzz.sh" --install || { echo "run: installing schemathesis failed" >&2; exit 2; }
  echo "schemathesis venv: ok"
fi

# --- server -----------------------------------------------------------------
port="${ACCORD_CONFORMANCE_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')}"
base="http://127.0.0.1:$port"
db_url="${ACCORD_CONFORMANCE_DATABASE_URL:-sqlite://$work/accord.db?mode=rwc}"
say "server: $bin serve --demo on $base, database ${db_url%%\?*} (log: $out/server.log)"
read -r -a server_args <<< "${ACCORD_SERVER_ARGS:-}"
(cd "$work" && exec "$bin" serve --demo --bind "127.0.0.1:$port" --database-url "$db_url" "${server_args[@]}") \
  > "$out/server.log" 2>&1 &
server_pid=$!

started=$SECONDS
deadline=$((SECONDS + ready_timeout))
until [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$base/readyz")" == 200 ]]; do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "run: the server exited before it was ready; its log:" >&2
    tail -n 40 "$out/server.log" >&2
    server_pid=""
    exit 1
  fi
  if (( SECONDS >= deadline )); then
    echo "run: /readyz did not answer 200 within ${ready_timeout}s; server log:" >&2
    tail -n 40 "$out/server.log" >&2
    exit 1
  fi
  sleep 0.5
done
echo "ready after $((SECONDS - started))s"

declare -A result=()
failed=0
record() { # step status
  result[$1]="$2"
  [[ "$2" == PASS || "$2" == skipped ]] || failed=1
}

# --- 1. GraphQL over HTTP -----------------------------------------------------
if [[ "$steps" == *" audit "* ]]; then
  say "GraphQL-over-HTTP audit ($base/graphql)"
  audit_args=("$base/graphql" --json "$out/audit.json")
  [[ -n "${ACCORD_AUDIT_ALLOW:-}" ]] && audit_args+=(--allow "$ACCORD_AUDIT_ALLOW")
  if in_bg timeout --kill-after=5 300 node "$here/audit-http.mjs" "${audit_args[@]}"; then
    record audit PASS
  else
    record audit FAIL
  fi
else
  record audit skipped
fi

# --- 2. fuzzing -----------------------------------------------------------------
if [[ "$steps" == *" fuzz "* ]]; then
  say "schemathesis ($base/graphql)"
  if ACCORD_FUZZ_REPORT_DIR="$out/fuzz" in_bg "$here/fuzz.sh" "$base/graphql"; then
    record fuzz PASS
  else
    record fuzz FAIL
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "run: the server died during fuzzing; log tail:" >&2
    tail -n 40 "$out/server.log" >&2
    server_pid=""
    record server-alive FAIL
  fi
else
  record fuzz skipped
fi

# --- 3. SDL + composition ---------------------------------------------------------
if [[ "$steps" == *" compose "* ]]; then
  sdl="$out/schema.graphql"
  sdl_ok=1
  if [[ "${ACCORD_SDL_FROM_SERVICE:-}" == 1 ]]; then
    say "SDL from $base/graphql { _service { sdl } }"
    # Plain JSON parsing in node: no jq needed.
    if ! curl -sS --max-time 30 -H 'content-type: application/json' -H 'accept: application/json' \
        ${ACCORD_AUDIT_AUTHORIZATION:+-H "Authorization: $ACCORD_AUDIT_AUTHORIZATION"} \
        -d '{"query":"{ _service { sdl } }"}' "$base/graphql" > "$out/service.json" ||
       ! node -e '
         const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
         const sdl = r?.data?._service?.sdl;
         if (typeof sdl !== "string") { console.error("no _service.sdl in", JSON.stringify(r).slice(0, 400)); process.exit(1); }
         require("fs").writeFileSync(process.argv[2], sdl);' "$out/service.json" "$sdl"; then
      sdl_ok=0
    fi
  else
    read -r -a sdl_args <<< "${ACCORD_SDL_ARGS:-schema}"
    say "SDL: $bin ${sdl_args[*]}"
    if ! (cd "$work" && ACCORD_DATABASE_URL="$db_url" timeout 60 "$bin" "${sdl_args[@]}") > "$sdl" 2> "$out/sdl.stderr"; then
      cat "$out/sdl.stderr" >&2
      sdl_ok=0
    fi
  fi
  if [[ "$sdl_ok" == 1 && -s "$sdl" ]]; then
    record sdl PASS
    say "federation composition ($sdl)"
    compose_args=("$sdl" --name accord --url "$base/graphql" --out "$out/supergraph.graphql")
    if [[ "${ACCORD_REQUIRE_FEDERATION:-}" == 1 ]]; then
      compose_args+=(--require-fed2 --expect-key Account=id --expect-key Customer=id)
    fi
    read -r -a extra_compose <<< "${ACCORD_COMPOSE_ARGS:-}"
    if in_bg timeout 120 node "$here/compose.mjs" "${compose_args[@]}" "${extra_compose[@]}"; then
      record compose PASS
    else
      record compose FAIL
    fi
  else
    echo "run: no SDL exported" >&2
    record sdl FAIL
    record compose skipped
  fi
else
  record compose skipped
fi

# --- 4. Prometheus exposition ------------------------------------------------------
if [[ "$steps" == *" metrics "* ]]; then
  say "promtool check metrics ($base/metrics)"
  if ! command -v promtool >/dev/null; then
    echo "run: promtool is required (Debian: apt-get install prometheus)" >&2
    record metrics FAIL
  else
    # A success, a failing root field and a refused document first, so that
    # every metric family has samples whatever the steps before sent.
    for body in '{"query":"query MetricsProbe { accounts(first: 1) { totalCount } }"}' \
                '{"query":"query MetricsFailure { account(externalId: \"missing\") { id } }"}' \
                '{"query":"{"}'; do
      curl -sS -o /dev/null --max-time 30 -H 'content-type: application/json' \
        ${ACCORD_AUDIT_AUTHORIZATION:+-H "Authorization: $ACCORD_AUDIT_AUTHORIZATION"} \
        -d "$body" "$base/graphql" || true
    done
    if curl -sS --fail --max-time 30 "$base/metrics" > "$out/metrics.txt" &&
       timeout 60 promtool check metrics < "$out/metrics.txt"; then
      echo "$(grep -c '^# TYPE' "$out/metrics.txt") metric families, each with HELP and TYPE"
      record metrics PASS
    else
      echo "run: promtool refused the scrape in $out/metrics.txt" >&2
      record metrics FAIL
    fi
  fi
else
  record metrics skipped
fi

# --- 5. README operations against the client SDL ------------------------------------
if [[ "$steps" == *" inspect "* ]]; then
  say "graphql-inspector validate: README.md operations against $bin schema --client"
  readme="$here/../../README.md"
  if (cd "$work" && timeout 60 "$bin" schema --client) > "$out/schema.client.graphql" 2> "$out/client-sdl.stderr" &&
     mkdir -p "$out/readme" &&
     in_bg timeout 120 node "$here/inspect.mjs" "$readme" "$out/schema.client.graphql" --out "$out/readme"; then
    record inspect PASS
  else
    cat "$out/client-sdl.stderr" >&2
    record inspect FAIL
  fi
else
  record inspect skipped
fi

stop_server

say "summary (logs and reports in $out)"
for step in audit fuzz server-alive sdl compose metrics inspect; do
  [[ -n "${result[$step]:-}" ]] && printf '  %-12s %s\n' "$step" "${result[$step]}"
done
exit "$failed"
