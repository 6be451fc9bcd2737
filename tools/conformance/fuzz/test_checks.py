"""Self-test of checks.py against canned responses (no server needed).

    .venv/bin/python fuzz/test_checks.py
"""

from __future__ import annotations

import json
import os
import sys
from types import SimpleNamespace

sys.path.insert(0, os.path.dirname(__file__))
import checks  # noqa: E402


def response(status=200, body=None, text=None):
    raw = text if text is not None else json.dumps(body)
    return SimpleNamespace(
        status_code=status, content=raw.encode(), text=raw, headers={"content-type": ["application/json"]}
    )


def case(query="{ accounts { totalCount } }"):
    return SimpleNamespace(body=query, query=None, headers=None)


def fails(check, resp, c=None):
    try:
        check(None, resp, c or case())
    except AssertionError as err:
        return str(err)
    return None


def err(message, code=None, path=("accounts",)):
    e = {"message": message, "path": list(path)}
    if code:
        e["extensions"] = {"code": code}
    return {"data": None, "errors": [e]}


cases = [
    # (check, response, case, should_fail)
    (checks.accord_not_a_server_error, response(body={"data": {"x": 1}}), None, False),
    (checks.accord_not_a_server_error, response(500, text="boom"), None, True),
    (checks.accord_not_a_server_error, response(408, text=""), None, True),
    (checks.accord_not_a_server_error, response(body=err("x", "INTERNAL")), None, True),
    (checks.accord_not_a_server_error, response(body=err("no account", "NOT_FOUND")), None, False),
    (checks.accord_errors_have_code, response(body=err("x", "CONFLICT")), None, False),
    (checks.accord_errors_have_code, response(body=err('Failed to parse "Int"')), None, True),
    (checks.accord_no_internal_leak, response(body=err("error returned from database: (code: 2067) UNIQUE constraint failed: segments.name", "CONFLICT")), None, True),
    (checks.accord_no_internal_leak, response(body=err("Query Error: error returned from sqlx", "INTERNAL")), None, True),
    (checks.accord_no_internal_leak, response(body=err("Custom Error: sea_orm::DbErr RecordNotFound", "INTERNAL")), None, True),
    (checks.accord_no_internal_leak, response(body=err("thread 'tokio-runtime-worker' panicked at src/segments/rule.rs:41:9", "INTERNAL")), None, True),
    (checks.accord_no_internal_leak, response(body=err('SELECT "customers"."id" FROM "customers" WHERE', "INTERNAL")), None, True),
    (checks.accord_no_internal_leak, response(text="thread panicked at src/main.rs:1:1"), None, True),
    # the client's own input echoed back is no leak
    (checks.accord_no_internal_leak, response(body=err('conflict: a segment named "sqlx" already exists', "CONFLICT")),
     case('mutation { createSegment(input: {name: "sqlx"}) { id } }'), False),
    # customer text in data is not searched
    (checks.accord_no_internal_leak, response(body={"data": {"mentions": ["we run postgres; SELECT * FROM fun"]}}), None, False),
    (checks.accord_no_internal_leak, response(body=err("first: must be at most 500", "BAD_USER_INPUT")), None, False),
    # error paths: null at the path or above is right; a missing key is not
    (checks.accord_error_path_is_null, response(body={"data": {"account": {"name": "x"}}, "errors": [{"message": "m", "path": ["account", "customers"]}]}), None, True),
    (checks.accord_error_path_is_null, response(body={"data": {"account": {"name": "x", "customers": None}}, "errors": [{"message": "m", "path": ["account", "customers"]}]}), None, False),
    (checks.accord_error_path_is_null, response(body={"data": {"account": None}, "errors": [{"message": "m", "path": ["account", "customers"]}]}), None, False),
    (checks.accord_error_path_is_null, response(body={"data": {"a": [{"b": None}]}, "errors": [{"message": "m", "path": ["a", 0, "b"]}]}), None, False),
    (checks.accord_error_path_is_null, response(body={"data": {"a": 1}, "errors": [{"message": "m", "path": ["a"]}]}), None, True),
    (checks.accord_error_path_is_null, response(body=err("x", "NOT_FOUND")), None, False),
]

bad = 0
for n, (check, resp, c, should_fail) in enumerate(cases, 1):
    outcome = fails(check, resp, c)
    if bool(outcome) != should_fail:
        bad += 1
        print(f"case {n} ({check.__name__}): expected {'failure' if should_fail else 'pass'}, got {outcome!r}")
print(f"checks self-test: {len(cases) - bad}/{len(cases)} as expected")
sys.exit(1 if bad else 0)
