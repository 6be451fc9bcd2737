"""The oracles' comparison with the checked-in expected values (fixtures README section 6)."""

import math
import sys


def relative_differences(expected, actual, path, out, skip=()):
    """Walks `expected`, appending (difference, path) for every leaf to `out`.

    Floats get |a - e| / max(|e|, 1e-9), the README's relative rule with its
    absolute floor; everything else must be equal (difference 0, else inf).
    Keys in `skip` are informational and not compared.
    """
    if isinstance(expected, dict):
        for key, value in expected.items():
            if key in skip:
                continue
            if not isinstance(actual, dict) or key not in actual:
                out.append((math.inf, f"{path}.{key} missing"))
                continue
            relative_differences(value, actual[key], f"{path}.{key}", out, skip)
    elif isinstance(expected, list):
        if not isinstance(actual, list) or len(expected) != len(actual):
            out.append((math.inf, f"{path}: {len(expected)} items expected, found {actual!r:.80}"))
            return
        for index, (e, a) in enumerate(zip(expected, actual)):
            relative_differences(e, a, f"{path}[{index}]", out, skip)
    elif isinstance(expected, float) and isinstance(actual, (int, float)) and not isinstance(actual, bool):
        out.append((abs(actual - expected) / max(abs(expected), 1e-9), path))
    elif expected != actual:
        out.append((math.inf, f"{path}: expected {expected!r}, found {actual!r}"))
    else:
        out.append((0.0, path))


def report(differences, limit, top=5):
    """Prints the `top` largest differences and a summary on stderr; the exit status for `limit`."""
    worst = sorted(differences, key=lambda d: d[0], reverse=True)
    for difference, path in worst[:top]:
        print(f"{difference:.3e} {path}", file=sys.stderr)
    largest = worst[0][0] if worst else math.nan
    print(f"{len(worst)} values compared (floats relative, the rest exactly), largest difference "
          f"{largest:.3e} (limit {limit:g})", file=sys.stderr)
    return 1 if not worst or largest > limit else 0
