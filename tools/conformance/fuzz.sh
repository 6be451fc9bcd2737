#!/usr/bin/env bash
# Fuzz a running Accord server's GraphQL API with schemathesis (GraphQL mode).
#
#   tools/conformance/fuzz.sh URL            e.g. http://127.0.0.1:8080/graphql
#   tools/conformance/fuzz.sh --install      only create/refresh the venv
#
# Fails (exit 1) on any 5xx, any INTERNAL error, any GraphQL error without
# extensions.code, any response that leaks internals (SQL, sqlx, sea_orm,
# panics, backtraces; see fuzz/checks.py), a body that is not a JSON object,
# and on responses that break the schema (non-null field resolved to null).
# schemathesis' own not_a_server_error and positive_data_acceptance checks
# are off: they read Accord's domain error codes (NOT_FOUND, CONFLICT, ...)
# and semantic BAD_USER_INPUT rejections as failures.
#
# Environment (all optional):
#   ACCORD_FUZZ_MAX_EXAMPLES   examples per operation          (default 25)
#   ACCORD_FUZZ_MAX_TIME       time budget of the run, seconds (default 120)
#   ACCORD_FUZZ_SEED           hypothesis seed, or "random"    (default 1)
#   ACCORD_FUZZ_WORKERS        concurrent workers              (default 2)
#   ACCORD_FUZZ_EXCLUDE_CHECKS extra checks to switch off, comma-separated
#                              (e.g. accord_errors_have_code)
#   ACCORD_FUZZ_REPORT_DIR     where reports go (default tools/conformance/.reports/fuzz)
#   ACCORD_AUDIT_AUTHORIZATION sent as the Authorization header
#   ACCORD_FUZZ_PYTHON         interpreter for the venv        (default python3)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
url="${1:-}"
if [[ -z "$url" || ( "$url" == -* && "$url" != --install ) ]]; then
  echo "usage: $0 URL   (e.g. http://127.0.0.1:8080/graphql)" >&2
  exit 2
fi

max_examples="${ACCORD_FUZZ_MAX_EXAMPLES:-25}"
max_time="${ACCORD_FUZZ_MAX_TIME:-120}"
seed="${ACCORD_FUZZ_SEED:-1}"
workers="${ACCORD_FUZZ_WORKERS:-2}"
report_dir="${ACCORD_FUZZ_REPORT_DIR:-$here/.reports/fuzz}"
python="${ACCORD_FUZZ_PYTHON:-python3}"

# The venv, rebuilt when requirements.txt changes.
venv="$here/.venv"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/schemathesis" || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  echo "fuzz: installing schemathesis into $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$here/requirements.txt"
  echo "$want" > "$stamp"
fi

[[ "$url" == --install ]] && exit 0

mkdir -p "$report_dir"
report_dir="$(cd "$report_dir" && pwd)"

exclude="not_a_server_error,positive_data_acceptance"
[[ -n "${ACCORD_FUZZ_EXCLUDE_CHECKS:-}" ]] && exclude="$exclude,$ACCORD_FUZZ_EXCLUDE_CHECKS"

args=(
  --config-file "$here/fuzz/schemathesis.toml"
  --no-color
  run "$url"
  --max-examples "$max_examples"
  --max-time "$max_time"
  --workers "$workers"
  --request-timeout 20
  --exclude-checks "$exclude"
  --generation-database none
  --report ndjson,junit
  --report-dir "$report_dir"
  --report-ndjson-path "$report_dir/fuzz.ndjson"
  --report-junit-path "$report_dir/junit.xml"
)
[[ "$seed" != random ]] && args+=(--seed "$seed")
[[ -n "${ACCORD_AUDIT_AUTHORIZATION:-}" ]] && args+=(-H "Authorization: $ACCORD_AUDIT_AUTHORIZATION")

rm -f "$report_dir/fuzz.ndjson"
echo "fuzz: schemathesis against $url (<= $max_examples examples/operation, <= ${max_time}s, seed $seed)"
set +e
# The hard limit covers schema loading and a slow last request past --max-time.
# In the background, so that a signal to this script stops schemathesis too
# (timeout passes it on).
# schemathesis keeps a crash cache (.schemathesis/) in its working directory:
# run it in the report directory, not in the repository.
cd "$report_dir"
SCHEMATHESIS_HOOKS="$here/fuzz/checks.py" \
  timeout --kill-after=10 "$((max_time + 120))" "$venv/bin/schemathesis" "${args[@]}" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null; wait "$child" 2>/dev/null; exit 143' TERM
trap 'kill -TERM "$child" 2>/dev/null; wait "$child" 2>/dev/null; exit 130' INT
wait "$child"
status=$?
trap - TERM INT
set -e
if [[ -f "$report_dir/fuzz.ndjson" ]]; then
  echo
  "$venv/bin/python" "$here/fuzz/summarize.py" "$report_dir/fuzz.ndjson" --json "$report_dir/failures.json" || true
fi
case "$status" in
  0) echo "fuzz: passed" ;;
  124|137) echo "fuzz: FAILED: schemathesis exceeded its hard time limit" >&2 ;;
  *) echo "fuzz: FAILED (schemathesis exit status $status; reports in $report_dir)" >&2 ;;
esac
[[ "$status" == 0 ]] && exit 0 || exit 1
