"""Accord's own schemathesis checks, loaded through SCHEMATHESIS_HOOKS by fuzz.sh.

schemathesis' built-in `not_a_server_error` judges GraphQL errors by Apollo
Server's codes: every error code it does not know (Accord's NOT_FOUND,
CONFLICT, FORBIDDEN, LIMIT_EXCEEDED) counts as a server failure. These checks
replace it with Accord's contract (see src/error.rs and the README):

- accord_not_a_server_error: no 5xx status, no GraphQL error with code
  INTERNAL / INTERNAL_SERVER_ERROR, and a JSON object body;
- accord_errors_have_code: every GraphQL error carries `extensions.code`;
- accord_no_internal_leak: no response text that exposes internals (SQL,
  driver and ORM names, panics, Rust source paths, backtraces);
- accord_error_path_is_null: the field an error's `path` names is null in
  `data`, or an ancestor is (GraphQL spec, "Handling Field Errors": a
  failed field is null, and a null in a non-null field propagates to its
  parent). A failed field that is simply missing from `data` breaks this.
"""

from __future__ import annotations

import json
import re

import schemathesis

SERVER_ERROR_CODES = {"INTERNAL", "INTERNAL_SERVER_ERROR"}

# Text that only gets into a response when an internal error escaped its
# mapping. Each pattern is checked case-insensitively; a match that the
# request itself contains (an echoed input) does not count.
LEAK_PATTERNS = [
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in [
        ("sqlx", r"\bsqlx\b"),
        ("sea-orm", r"\bsea[_-]?orm\b|\bsea[_-]?query\b|\bDbErr\b|\bRuntimeErr\b|\bRecordNotFound\b"),
        ("database driver", r"\bSQLITE_[A-Z]+\b|\bsqlite3?\b|\bpostgres(ql)?\b|\bpg_[a-z_]+\b|\bSQLSTATE\b"),
        ("sql error", r"(UNIQUE|FOREIGN KEY|NOT NULL|CHECK) constraint failed|violates (unique|foreign key|not-null|check) constraint|no such (table|column)|syntax error at or near|near \"[^\"]*\": syntax error|duplicate key value"),
        ("sql text", r"\bSELECT\b[^\n]{1,200}\bFROM\b|\bINSERT INTO\b|\bUPDATE\b[^\n]{1,200}\bSET\b|\bDELETE FROM\b"),
        ("error wrapper", r"\bdatabase error\b|\binternal error:|\bpool timed out\b|\bconnection refused\b"),
        ("panic", r"\bpanicked at\b|\bpanic(ked)?\b.*\.rs\b|called `(Option|Result)::(unwrap|expect)\(\)`"),
        ("backtrace", r"stack backtrace|RUST_BACKTRACE|\bat [\w/.-]+\.rs:\d+|[\w/.-]+\.rs:\d+:\d+"),
        ("rust type path", r"\b(accord|entity|migration|async_graphql|tokio|axum|hyper)::[a-z_]+::"),
    ]
]


def _payload(response):
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def _errors(payload):
    if isinstance(payload, dict) and isinstance(payload.get("errors"), list):
        return [e for e in payload["errors"] if isinstance(e, dict)]
    return []


def _code(error):
    ext = error.get("extensions")
    return ext.get("code") if isinstance(ext, dict) else None


def _request_text(case):
    parts = []
    for value in (case.body, case.query, case.headers):
        if value:
            parts.append(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str))
    return "\n".join(parts)


@schemathesis.check
def accord_not_a_server_error(ctx, response, case):
    """No 5xx, no INTERNAL error, and a JSON object in the body."""
    if response.status_code >= 500:
        raise AssertionError(f"status {response.status_code}: {response.text[:500]!r}")
    payload = _payload(response)
    if not isinstance(payload, dict):
        raise AssertionError(
            f"status {response.status_code} with a body that is not a JSON object "
            f"({response.headers.get('content-type', ['?'])}): {response.text[:300]!r}"
        )
    internal = [e for e in _errors(payload) if _code(e) in SERVER_ERROR_CODES]
    if internal:
        raise AssertionError(
            "server-side error: " + "; ".join(f"[{_code(e)}] {e.get('message')!r} at {e.get('path')}" for e in internal)
        )
    return None


@schemathesis.check
def accord_errors_have_code(ctx, response, case):
    """Every GraphQL error names its kind in extensions.code."""
    uncoded = [e for e in _errors(_payload(response)) if not _code(e)]
    if uncoded:
        raise AssertionError(
            "error(s) without extensions.code: " + "; ".join(repr(e.get("message", ""))[:200] for e in uncoded)
        )
    return None


@schemathesis.check
def accord_no_internal_leak(ctx, response, case):
    """The response exposes no internals: SQL, driver/ORM names, panics, backtraces.

    In a GraphQL response only the errors are searched (data is the
    customers' own text); any other body is searched whole.
    """
    payload = _payload(response)
    if isinstance(payload, dict):
        text = "\n".join(
            f"{e.get('message', '')}\n{json.dumps(e.get('extensions'), ensure_ascii=False)}" for e in _errors(payload)
        )
    else:
        text = response.text or ""
    if not text.strip():
        return None
    request = _request_text(case).lower()
    found = []
    for name, pattern in LEAK_PATTERNS:
        for match in pattern.finditer(text):
            if match.group(0).lower() in request:
                continue  # the client sent it; an echo is no leak
            start = max(match.start() - 60, 0)
            found.append(f"{name}: ...{text[start:match.end() + 60]}...")
            break
    if found:
        raise AssertionError("internal detail in the response:\n" + "\n".join(found))
    return None


def _walk(data, path):
    """Where `path` leads in `data`: "null" (it or an ancestor is null), "missing" or "present"."""
    node = data
    for segment in path:
        if node is None:
            return "null"
        if isinstance(segment, int):
            if not isinstance(node, list) or not 0 <= segment < len(node):
                return "missing"
            node = node[segment]
        else:
            if not isinstance(node, dict) or segment not in node:
                return "missing"
            node = node[segment]
    return "null" if node is None else "present"


@schemathesis.check
def accord_error_path_is_null(ctx, response, case):
    """A field error leaves null at its path (or at a nullable ancestor), never a missing key."""
    payload = _payload(response)
    if not isinstance(payload, dict) or payload.get("data") is None:
        return None
    wrong = []
    for error in _errors(payload):
        path = error.get("path")
        if not isinstance(path, list) or not path:
            continue
        where = _walk(payload["data"], path)
        if where != "null":
            shown = ".".join(str(p) for p in path)
            wrong.append(f"{shown}: {'absent from' if where == 'missing' else 'has a value in'} data ({error.get('message')!r:.120})")
    if wrong:
        raise AssertionError("field error not reflected as null in data: " + "; ".join(wrong))
    return None
