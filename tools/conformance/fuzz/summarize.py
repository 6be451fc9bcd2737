"""Print each failure of a schemathesis NDJSON report with its request and response.

    python summarize.py REPORT.ndjson [--json OUT]

One entry per distinct (operation, check, message-without-details) so the
same fault found by many generated queries is listed once, with a count.
"""

from __future__ import annotations

import base64
import json
import re
import sys


def _text(blob):
    if blob is None:
        return ""
    if isinstance(blob, dict) and "$base64" in blob:
        return base64.b64decode(blob["$base64"]).decode("utf-8", "replace")
    if isinstance(blob, dict) and "string" in blob:
        return blob["string"]
    return blob if isinstance(blob, str) else json.dumps(blob, ensure_ascii=False)


def _signature(operation, check, message):
    # Collapse the parts of a message that vary with the generated input.
    generic = re.sub(r'"(?:[^"\\]|\\.)*"', '"…"', message)
    generic = re.sub(r"-?\d[\d.e+-]*", "N", generic)
    return (operation, check, generic[:200])


def failures(path):
    seen = {}
    with open(path, encoding="utf-8") as fd:
        for line in fd:
            event = json.loads(line)
            finished = event.get("ScenarioFinished")
            if not finished or finished.get("status") != "failure":
                continue
            recorder = finished["recorder"]
            for case_id, checks in recorder.get("checks", {}).items():
                for check in checks:
                    if check.get("status") != "failure":
                        continue
                    failure = check["failure_info"]["failure"]
                    interaction = recorder.get("interactions", {}).get(case_id) or {}
                    request = interaction.get("request") or {}
                    response = interaction.get("response") or {}
                    key = _signature(failure.get("operation", "?"), check["name"], failure.get("message", ""))
                    if key in seen:
                        seen[key]["count"] += 1
                        continue
                    seen[key] = {
                        "operation": failure.get("operation"),
                        "check": check["name"],
                        "code": failure.get("code"),
                        "title": failure.get("title"),
                        "message": failure.get("message", ""),
                        "request": {
                            "method": request.get("method"),
                            "uri": request.get("uri"),
                            "body": _text(request.get("body")),
                        },
                        "response": {
                            "status": response.get("status_code"),
                            "content_type": (response.get("headers") or {}).get("content-type", [None])[0],
                            "body": _text(response.get("content")),
                        },
                        "count": 1,
                    }
    return list(seen.values())


def main(argv):
    if not argv or argv[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    found = failures(argv[0])
    if "--json" in argv:
        with open(argv[argv.index("--json") + 1], "w", encoding="utf-8") as out:
            json.dump(found, out, ensure_ascii=False, indent=2)
    if not found:
        print("fuzz: no failures recorded")
        return 0
    print(f"fuzz: {len(found)} distinct failure(s)")
    for n, f in enumerate(found, 1):
        print(f"\n{n}. {f['operation']} — {f['check']} ({f['code']}, seen {f['count']}x)")
        print("   " + f["message"].replace("\n", "\n   ")[:600])
        print(f"   request: {f['request']['method']} {f['request']['uri']}")
        print("   " + f["request"]["body"][:800].replace("\n", "\n   "))
        print(f"   response: {f['response']['status']} {f['response']['content_type']}")
        print("   " + f["response"]["body"][:800].replace("\n", "\n   "))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
