#!/usr/bin/env python3
"""W_SHAPED and MARKOV attribution oracle, computed from the golden NDJSON files alone.

Prints the `attribution` object of tests/fixtures/golden/expected-v2.json
(fixtures README section 6; issue 13 item 6) computed independently of Accord
and of the fixture generator, so both can be checked against it:

    python3 tools/oracle/attribution.py [GOLDEN_DIR] [--compare]

With --compare it also reads GOLDEN_DIR/expected-v2.json and prints on stderr
the largest relative differences of every compared value (exit 1 above 1e-9:
both computations are exact, the only slack is the 12 significant digits the
fixture is written with and floating-point summation order).

Definitions (README section 3 "attribution" and section 6):

- Conversions: orders with orderedAt in the window (value amountMinor) and WON
  leads with closedAt in the window (value amountMinor). Touches of a
  conversion: the same customer's touchpoints with
  at - lookback <= occurredAt < at (30 days for orders, 90 for won leads;
  touches before the window count), in time order, ties by externalId.
- W_SHAPED (won leads): roles FIRST (earliest touch), LEAD_CREATED (last touch
  strictly before createdAt), OPPORTUNITY_CREATED (last touch strictly before
  opportunityAt). Each present role gets 30%, a missing role's 30% goes
  evenly to the present roles, 10% goes evenly to the touches holding no
  role, or, when every touch holds a role, evenly to the present roles. A
  touch holding several roles gets all their shares.
- MARKOV (per conversion kind, per state kind channel/team): conversion paths
  START -> states -> CONVERSION for each touched conversion; per customer,
  the touches inside the window that lie in no lookback of that kind form one
  path START -> states -> NULL. Repeated states are kept. Transition
  probabilities are counts / outgoing counts, P(conversion) = B[START, CONV]
  from numpy.linalg.solve((I - Q), R); removing a state redirects every
  transition into it to NULL; removal effect = 1 - P_removed / P. The touched
  conversions' value (and count) is split in proportion to the removal
  effects; untouched conversions go to NONE.

Cross-check with the ChannelAttribution package (`markov_model`, order 1),
printed on stderr and under `crossCheckChannelAttribution`, never compared
exactly (read in its 2.2.5 source, src/cypack/functions.cpp):

- It gets the same paths, aggregated (`path`, `total_conversions`,
  `total_null`), and fits the same counts / outgoing counts, but it collapses
  consecutive repeats of a state ("a > a > b" is "a > b"). That drops only
  self-loops, which do not change absorption, so the exact answer is the same.
- It does not remove states and re-solve: it simulates walks from START and
  reports, as a state's removal effect, the share of converting walks that
  visited it. That share's expectation is P(convert and visit s) / P(convert)
  = 1 - P(convert without s) / P(convert), our exact removal effect, so the
  two differ by simulation error only. Its error is binomial over the
  converting walks of the single fold it reports (nsim_start / nfold walks),
  `standardErrors` here; walks longer than the longest observed path are cut
  off and count as not converting (a bias of well under 0.1% here, reported as
  `walksEndedBeforeMaxStepsPercent`).
- Its `result` total_conversions are the effects' shares times the converting
  paths, the same split as our credit; the shares are compared too.

If the package cannot be imported the cross-check says `available: false`
and why, and the exact check still runs. --no-cross-check skips it.
"""

import contextlib
import importlib.metadata
import io
import json
import math
import re
import sys
from bisect import bisect_left
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from compare import relative_differences, report

TEAMS = ["MARKETING", "SALES", "SERVICE", "PRODUCT"]
ROLES = ["FIRST", "LEAD_CREATED", "OPPORTUNITY_CREATED"]
LOOKBACK_DAYS = {"ORDER": 30, "WON_LEAD": 90}
EXACT_TOLERANCE = 1e-9
# ChannelAttribution's walks: it reports one of CA_FOLDS folds of CA_SIMULATIONS / CA_FOLDS walks,
# so 1e6 gives about 3,000 converting walks on the won-lead chain (P(conversion) = 0.03).
CA_SIMULATIONS = 1_000_000
CA_FOLDS = 10
# Beyond this many standard errors a cross-check deviation is more than simulation error.
CA_MAX_Z = 4.0
# Keys that are informational in expected-v2.json (README section 6 "Tolerances").
INFORMATIONAL = {"crossCheckChannelAttribution"}


def read_ndjson(path):
    with open(path, encoding="utf-8") as file:
        return [json.loads(line) for line in file]


def parse_time(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


class Golden:
    """The golden files, parsed once: window, touches per customer, conversions per kind."""

    def __init__(self, directory):
        meta = json.loads((directory / "expected.json").read_text())["meta"]
        self.window_from = parse_time(meta["window"]["from"])
        self.window_to = parse_time(meta["window"]["to"])
        self.touchpoints = read_ndjson(directory / "touchpoints.ndjson")
        for touch in self.touchpoints:
            touch["at"] = parse_time(touch["occurredAt"])
        self.channels = sorted({touch["channel"] for touch in self.touchpoints})
        self.campaigns = [c["externalId"] for c in read_ndjson(directory / "campaigns.ndjson")]
        self.touches_by_customer = defaultdict(list)
        for touch in sorted(self.touchpoints, key=lambda t: (t["at"], t["externalId"])):
            self.touches_by_customer[touch["customerExternalId"]].append(touch)
        self.touch_times = {c: [t["at"] for t in ts] for c, ts in self.touches_by_customer.items()}
        self.conversions = {"ORDER": self._orders(directory), "WON_LEAD": self._won_leads(directory)}

    def in_window(self, at):
        return self.window_from <= at <= self.window_to

    def _orders(self, directory):
        conversions = []
        for order in read_ndjson(directory / "orders.ndjson"):
            at = parse_time(order["orderedAt"])
            if self.in_window(at):
                conversions.append(
                    {"id": order["externalId"], "customer": order["customerExternalId"], "at": at,
                     "value": order["amountMinor"]}
                )
        return conversions

    def _won_leads(self, directory):
        conversions = []
        for lead in read_ndjson(directory / "leads.ndjson"):
            if lead["stage"] != "WON":
                continue
            at = parse_time(lead["closedAt"])
            if self.in_window(at):
                conversions.append(
                    {"id": lead["externalId"], "customer": lead["customerExternalId"], "at": at,
                     "value": lead["amountMinor"], "createdAt": parse_time(lead["createdAt"]),
                     "opportunityAt": parse_time(lead["opportunityAt"]), "raw": lead}
                )
        return conversions

    def lookback_touches(self, conversion, lookback_days):
        """The customer's touches with at - lookback <= occurredAt < at, in time order."""
        touches = self.touches_by_customer.get(conversion["customer"], [])
        times = self.touch_times.get(conversion["customer"], [])
        start = bisect_left(times, conversion["at"] - timedelta(days=lookback_days))
        end = bisect_left(times, conversion["at"])
        return touches[start:end]


def w_shaped_weights(touches, created_at, opportunity_at):
    """Per-touch roles and weights of one won lead's path (README section 6)."""
    holders = {"FIRST": 0}
    for role, milestone in (("LEAD_CREATED", created_at), ("OPPORTUNITY_CREATED", opportunity_at)):
        before = [i for i, touch in enumerate(touches) if touch["at"] < milestone]
        if before:
            holders[role] = before[-1]
    roles = [[role for role in ROLES if holders.get(role) == i] for i in range(len(touches))]
    present = len(holders)
    weights = [0.0] * len(touches)
    for index in holders.values():
        weights[index] += 0.9 / present
    others = [i for i, r in enumerate(roles) if not r]
    if others:
        for i in others:
            weights[i] += 0.1 / len(others)
    else:
        for index in holders.values():
            weights[index] += 0.1 / present
    missing = [role for role in ROLES if role not in holders]
    return roles, weights, missing


def credit_buckets(keys, credits):
    """[{key, creditMinor, conversions}] in the given key order from {key: [credit, conversions]}."""
    return [{"key": key, "creditMinor": credits[key][0], "conversions": credits[key][1]} for key in keys]


def conversion_totals(conversions, paths):
    touched = [c for c, p in zip(conversions, paths) if p]
    return {
        "conversions": len(conversions),
        "conversionsWithTouches": len(touched),
        "conversionsWithoutTouch": len(conversions) - len(touched),
        "totalValueMinor": sum(c["value"] for c in conversions),
        "noTouchValueMinor": sum(c["value"] for c, p in zip(conversions, paths) if not p),
    }


def w_shaped(golden):
    lookback = LOOKBACK_DAYS["WON_LEAD"]
    conversions = golden.conversions["WON_LEAD"]
    paths = [golden.lookback_touches(c, lookback) for c in conversions]
    totals = conversion_totals(conversions, paths)
    by = {dimension: defaultdict(lambda: [0.0, 0.0]) for dimension in ("team", "channel", "campaign")}
    missing_counts = {role: 0 for role in ROLES}
    details = {}
    for conversion, touches in zip(conversions, paths):
        if not touches:
            for dimension in by:
                by[dimension]["NONE"][0] += conversion["value"]
                by[dimension]["NONE"][1] += 1.0
            continue
        roles, weights, missing = w_shaped_weights(touches, conversion["createdAt"], conversion["opportunityAt"])
        assert abs(sum(weights) - 1.0) < 1e-12, conversion["id"]
        for role in missing:
            missing_counts[role] += 1
        for touch, weight in zip(touches, weights):
            credit = weight * conversion["value"]
            for dimension, key in (("team", touch["team"]), ("channel", touch["channel"]),
                                   ("campaign", touch["campaignExternalId"] or "NONE")):
                by[dimension][key][0] += credit
                by[dimension][key][1] += weight
        details[conversion["id"]] = {
            "conversionExternalId": conversion["id"],
            "customerExternalId": conversion["customer"],
            "at": conversion["raw"]["closedAt"],
            "createdAt": conversion["raw"]["createdAt"],
            "opportunityAt": conversion["raw"]["opportunityAt"],
            "valueMinor": conversion["value"],
            "touches": [
                {"touchpointExternalId": t["externalId"], "occurredAt": t["occurredAt"], "team": t["team"],
                 "channel": t["channel"], "campaignExternalId": t["campaignExternalId"], "roles": r,
                 "weight": w, "creditMinor": w * conversion["value"]}
                for t, r, w in zip(touches, roles, weights)
            ],
        }
    by_campaign = credit_buckets(golden.campaigns + ["NONE"], by["campaign"])
    for row in by_campaign:
        row["campaignExternalId"] = row.pop("key")
    result = {
        "conversion": "WON_LEAD",
        "model": "W_SHAPED",
        "lookbackDays": lookback,
        **totals,
        "touchesInWindow": sum(len(p) for p in paths),
        "missingMilestones": missing_counts,
        "byTeam": credit_buckets(TEAMS + ["NONE"], by["team"]),
        "byChannel": credit_buckets(golden.channels + ["NONE"], by["channel"]),
        "byCampaign": by_campaign,
    }
    return result, details


def markov_paths(golden, kind):
    """(conversions, their lookback touches, the null paths): touch lists in time order."""
    conversions = golden.conversions[kind]
    paths = [golden.lookback_touches(c, LOOKBACK_DAYS[kind]) for c in conversions]
    in_lookback = {t["externalId"] for p in paths for t in p}
    null_paths = []
    for customer in sorted(golden.touches_by_customer):
        rest = [t for t in golden.touches_by_customer[customer]
                if golden.in_window(t["at"]) and t["externalId"] not in in_lookback]
        if rest:
            null_paths.append(rest)
    return conversions, paths, null_paths


def absorbing_chain(sequences, states):
    """Transition counts of START -> states -> CONVERSION|NULL, as (Q, R) probabilities.

    `sequences` are (list of state names, converted?). Transient nodes are
    START (index 0) then `states`; absorbing columns are CONVERSION, NULL.
    """
    index = {state: i + 1 for i, state in enumerate(states)}
    size = len(states) + 1
    transient = np.zeros((size, size))
    absorbing = np.zeros((size, 2))
    for sequence, converted in sequences:
        nodes = [0] + [index[s] for s in sequence]
        for a, b in zip(nodes, nodes[1:]):
            transient[a, b] += 1
        absorbing[nodes[-1], 0 if converted else 1] += 1
    outgoing = transient.sum(axis=1) + absorbing.sum(axis=1)
    outgoing[outgoing == 0] = 1  # a state that never occurs has no row; it is never reached
    return transient / outgoing[:, None], absorbing / outgoing[:, None]


def p_conversion(q, r):
    b = np.linalg.solve(np.eye(q.shape[0]) - q, r)
    return float(b[0, 0])


def removal_effects(q, r, states):
    p = p_conversion(q, r)
    effects = {}
    for i, state in enumerate(states, start=1):
        if q[:, i].sum() == 0:
            effects[state] = 0.0  # never entered: removing it changes nothing
            continue
        q_removed, r_removed = q.copy(), r.copy()
        r_removed[:, 1] += q_removed[:, i]
        q_removed[:, i] = 0.0
        effects[state] = 1.0 - p_conversion(q_removed, r_removed) / p
    return p, effects


def markov(golden, kind, cross_check):
    conversions, paths, null_paths = markov_paths(golden, kind)
    totals = conversion_totals(conversions, paths)
    touched_value = totals["totalValueMinor"] - totals["noTouchValueMinor"]
    touched_count = totals["conversionsWithTouches"]
    result = {
        "conversion": kind,
        "model": "MARKOV",
        "lookbackDays": LOOKBACK_DAYS[kind],
        **totals,
        "touchesInConversionPaths": sum(len(p) for p in paths),
        "nullPaths": len(null_paths),
        "touchesInNullPaths": sum(len(p) for p in null_paths),
    }
    checks = {}
    for name, field, states in (("byChannel", "channel", golden.channels), ("byTeam", "team", TEAMS)):
        sequences = [([t[field] for t in p], True) for p in paths if p] + [
            ([t[field] for t in p], False) for p in null_paths
        ]
        q, r = absorbing_chain(sequences, states)
        p, effects = removal_effects(q, r, states)
        total_effect = sum(effects.values())
        rows = [
            {"key": s, "removalEffect": effects[s], "creditMinor": touched_value * effects[s] / total_effect,
             "conversions": touched_count * effects[s] / total_effect}
            for s in states
        ]
        rows.append({"key": "NONE", "removalEffect": None, "creditMinor": float(totals["noTouchValueMinor"]),
                     "conversions": float(totals["conversionsWithoutTouch"])})
        # Flow conservation of a chain fitted from its own paths: P(conversion) is the converting share.
        assert abs(p - touched_count / len(sequences)) < 1e-12, (kind, name, p)
        assert abs(sum(row["creditMinor"] for row in rows) - totals["totalValueMinor"]) < 1e-6 * touched_value
        result[name] = rows
        result[name + "Chain"] = {
            "states": states,
            "pConversion": p,
            "paths": len(sequences),
            "conversionPaths": touched_count,
        }
        if cross_check:
            checks[name] = channel_attribution_check(sequences, effects, p)
    if cross_check:
        result["crossCheckChannelAttribution"] = checks
    return result


def channel_attribution_check(sequences, exact_effects, p_exact):
    """ChannelAttribution's simulated first-order model on the same paths (informational).

    Its removal effect of a state is the share of simulated converting walks
    that visit it, which has the exact effect as its expectation; `standardError`
    is the binomial error of that share over the converting walks of the one
    fold it reports (nsim / nfold walks, about P(conversion) of them converting).
    """
    try:
        import pandas as pd

        with contextlib.redirect_stdout(io.StringIO()):  # its import prints a banner on stdout
            import ChannelAttribution as ca
    except ImportError as error:
        return {"available": False, "reason": f"{type(error).__name__}: {error}"}
    aggregated = defaultdict(lambda: [0, 0])
    for sequence, converted in sequences:
        aggregated[" > ".join(sequence)][0 if converted else 1] += 1
    frame = pd.DataFrame(
        [(path, conv, null) for path, (conv, null) in sorted(aggregated.items())],
        columns=["path", "total_conversions", "total_null"],
    )
    log = io.StringIO()
    with contextlib.redirect_stdout(log):
        out = ca.markov_model(frame, var_path="path", var_conv="total_conversions", var_null="total_null",
                              order=1, sep=">", nsim_start=CA_SIMULATIONS, nfold=CA_FOLDS, seed=0,
                              out_more=True, verbose=True, flg_pro=False)
    # With verbose it reports each round's walk count; the last one is what the result used.
    simulations = [int(n) for n in re.findall(r"Number of simulations: (\d+)", log.getvalue())]
    # Walks longer than the longest observed path are cut off and count as not converting.
    ended = re.findall(r"before maximum number of steps \((\d+)\) is reached: ([0-9.]+)%", log.getvalue())
    walks = (simulations[-1] if simulations else CA_SIMULATIONS) // CA_FOLDS
    effects_frame = out["removal_effects"]
    effects = dict(zip(effects_frame["channel_name"].str.strip(), effects_frame["removal_effect"].astype(float)))
    effects = {s: effects.get(s, 0.0) for s in exact_effects}
    shares = {s: e / sum(effects.values()) for s, e in effects.items()}
    exact_total = sum(exact_effects.values())
    converting_walks = p_exact * walks
    standard_errors = {s: math.sqrt(e * (1 - e) / converting_walks) for s, e in exact_effects.items()}
    z = {s: (effects[s] - exact_effects[s]) / standard_errors[s] if standard_errors[s] else 0.0 for s in effects}
    return {
        "available": True,
        "version": importlib.metadata.version("ChannelAttribution"),
        "walks": walks,
        "maxSteps": int(ended[-1][0]) if ended else None,
        "walksEndedBeforeMaxStepsPercent": float(ended[-1][1]) if ended else None,
        "maxAbsDeviationOfEffect": max(abs(effects[s] - exact_effects[s]) for s in effects),
        "maxAbsDeviationOfShare": max(abs(shares[s] - exact_effects[s] / exact_total) for s in shares),
        "maxAbsZ": max(abs(v) for v in z.values()),
        "removalEffects": effects,
        "standardErrors": standard_errors,
        "removalEffectShares": shares,
    }


def compute(golden_dir, cross_check=True):
    golden = Golden(golden_dir)
    w, details = w_shaped(golden)
    return {
        "W_SHAPED": w,
        "MARKOV": {kind: markov(golden, kind, cross_check) for kind in ("ORDER", "WON_LEAD")},
    }, details


def main(argv):
    args = [arg for arg in argv if not arg.startswith("--")]
    golden_dir = Path(args[0]) if args else Path(__file__).resolve().parents[2] / "tests/fixtures/golden"
    result, details = compute(golden_dir, cross_check="--no-cross-check" not in argv)
    if "--compare" not in argv:
        print(json.dumps(result, indent=1))
        return 0
    expected = json.loads((golden_dir / "expected-v2.json").read_text())["attribution"]
    # The examples are the fixture's choice of won leads; compare each one by id.
    result["W_SHAPED"]["examples"] = [
        details.get(e["conversionExternalId"], {"missing": e["conversionExternalId"]})
        for e in expected["W_SHAPED"]["examples"]
    ]
    print(json.dumps(result, indent=1))
    differences = []
    relative_differences(expected, result, "attribution", differences, skip=INFORMATIONAL)
    status = report(differences, EXACT_TOLERANCE, top=10)
    for kind, block in result["MARKOV"].items():
        for name, check in block.get("crossCheckChannelAttribution", {}).items():
            if check.get("available"):
                verdict = "within" if check["maxAbsZ"] <= CA_MAX_Z else "BEYOND"
                print(f"channelattribution {check['version']} MARKOV.{kind}.{name} ({check['walks']} walks): "
                      f"largest |effect - exact| {check['maxAbsDeviationOfEffect']:.3e}, "
                      f"|share - exact| {check['maxAbsDeviationOfShare']:.3e}, "
                      f"largest |z| {check['maxAbsZ']:.2f}: {verdict} {CA_MAX_Z:g} standard errors "
                      "(informational)", file=sys.stderr)
            else:
                print(f"channelattribution unavailable ({check.get('reason')}); exact check only", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
