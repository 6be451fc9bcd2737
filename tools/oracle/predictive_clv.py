#!/usr/bin/env python3
"""Predictive CLV oracle: BG/NBD + Gamma-Gamma with the `lifetimes` package.

Reads the golden NDJSON files and prints the `predictiveClv` object of
tests/fixtures/golden/expected-v2.json (fixtures README section 6), computed
with lifetimes alone, so Accord's Rust fit can be checked against it.

    python3 tools/oracle/predictive_clv.py [GOLDEN_DIR] [--compare]

With --compare it also reads GOLDEN_DIR/expected-v2.json and prints the
largest relative difference per compared value (exit 1 above 1e-3).
"""

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import summary_data_from_transaction_data
from scipy.special import gammaln

from compare import relative_differences, report

HORIZON_MONTHS = 12
MONTHLY_DISCOUNT_RATE = 0.01
PREDICTION_DAYS = 90
SAMPLE_FIRST = 50
SAMPLE_TOP = 3


def read_ndjson(path):
    with open(path, encoding="utf-8") as file:
        return [json.loads(line) for line in file]


def bgnbd_total_log_likelihood(r, alpha, a, b, x, t_x, T):
    """Fader-Hardie-Lee (2005) eq. 6 in day units, summed over customers."""
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x), -np.inf)
    return float(np.sum(a1 + a2 + np.logaddexp(a3, a4)))


def gamma_gamma_total_log_likelihood(p, q, v, x, m):
    return float(
        np.sum(
            gammaln(p * x + q)
            - gammaln(p * x)
            - gammaln(q)
            + q * np.log(v)
            + (p * x - 1) * np.log(m)
            + (p * x) * np.log(x)
            - (p * x + q) * np.log(x * m + v)
        )
    )


def compute(golden):
    meta = json.loads((golden / "expected.json").read_text())["meta"]
    as_of = pd.Timestamp(meta["asOf"]).tz_convert("UTC")
    end = as_of.tz_localize(None).normalize()
    orders = pd.DataFrame(read_ndjson(golden / "orders.ndjson"))
    orders["ordered"] = pd.to_datetime(orders["orderedAt"], utc=True)
    orders = orders[orders["ordered"] <= as_of].copy()
    orders["date"] = orders["ordered"].dt.tz_localize(None).dt.normalize()
    orders["amount"] = orders["amountMinor"].astype(float)
    orders = orders.sort_values(["ordered", "externalId"])
    summary = summary_data_from_transaction_data(
        orders, "customerExternalId", "date", monetary_value_col="amount", observation_period_end=end, freq="D"
    ).sort_index()

    bgf = BetaGeoFitter(penalizer_coef=0.0)
    bgf.fit(summary["frequency"], summary["recency"], summary["T"])
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    ggf = GammaGammaFitter(penalizer_coef=0.0)
    ggf.fit(repeat["frequency"], repeat["monetary_value"])

    x, t_x, T = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    r, alpha, a, b = (float(bgf.params_[k]) for k in ("r", "alpha", "a", "b"))
    p, q, v = (float(ggf.params_[k]) for k in ("p", "q", "v"))
    summary["expectedPurchases90"] = bgf.conditional_expected_number_of_purchases_up_to_time(
        PREDICTION_DAYS, summary["frequency"], summary["recency"], summary["T"]
    )
    summary["pAlive"] = bgf.conditional_probability_alive(summary["frequency"], summary["recency"], summary["T"])
    summary["expectedAverageProfit"] = ggf.conditional_expected_average_profit(
        summary["frequency"], summary["monetary_value"]
    )
    summary["clv"] = ggf.customer_lifetime_value(
        bgf,
        summary["frequency"],
        summary["recency"],
        summary["T"],
        summary["monetary_value"],
        time=HORIZON_MONTHS,
        discount_rate=MONTHLY_DISCOUNT_RATE,
        freq="D",
    )

    customers = pd.DataFrame(read_ndjson(golden / "customers.ndjson")).set_index("externalId")
    summary["region"] = customers.loc[summary.index, "region"].to_numpy()

    def sample_row(external_id, selected_as):
        row = summary.loc[external_id]
        return {
            "customerExternalId": external_id,
            "frequency": int(row["frequency"]),
            "recency": int(row["recency"]),
            "T": int(row["T"]),
            "monetaryValue": float(row["monetary_value"]),
            "expectedPurchases90": float(row["expectedPurchases90"]),
            "pAlive": float(row["pAlive"]),
            "expectedAverageProfit": float(row["expectedAverageProfit"]),
            "clv": float(row["clv"]),
            "selectedAs": selected_as,
        }

    first = list(summary.index[:SAMPLE_FIRST])
    by_frequency = sorted(summary.index, key=lambda cid: (-summary.loc[cid, "frequency"], cid))
    top = [cid for cid in by_frequency if cid not in first][:SAMPLE_TOP]
    sample = [sample_row(cid, "FIRST_50") for cid in first] + [sample_row(cid, "TOP_FREQUENCY") for cid in top]

    by_region = []
    for region, group in summary.groupby("region", sort=True):
        by_region.append(
            {
                "region": region,
                "customers": int(len(group)),
                "averageClv": float(group["clv"].mean()),
                "totalClv": float(group["clv"].sum()),
                "averageExpectedPurchases90": float(group["expectedPurchases90"].mean()),
                "averagePAlive": float(group["pAlive"].mean()),
            }
        )

    return {
        "package": "lifetimes",
        "observationPeriodEnd": str(end.date()),
        "freq": "D",
        "horizonMonths": HORIZON_MONTHS,
        "monthlyDiscountRate": MONTHLY_DISCOUNT_RATE,
        "customers": int(len(summary)),
        "repeatCustomers": int((summary["frequency"] > 0).sum()),
        "bgnbd": {
            "r": r,
            "alpha": alpha,
            "a": a,
            "b": b,
            "logLikelihood": bgnbd_total_log_likelihood(r, alpha, a, b, x, t_x, T),
        },
        "gammaGamma": {
            "p": p,
            "q": q,
            "v": v,
            "logLikelihood": gamma_gamma_total_log_likelihood(
                p, q, v, repeat["frequency"].to_numpy(float), repeat["monetary_value"].to_numpy(float)
            ),
        },
        "totals": {
            "clv": float(summary["clv"].sum()),
            "expectedPurchases90": float(summary["expectedPurchases90"].sum()),
            "pAlive": float(summary["pAlive"].sum()),
        },
        "customersSample": sample,
        "byRegion": by_region,
    }


# lifetimes' own figures and the refit are informational (README section 6).
INFORMATIONAL = ("independentRefit", "lifetimesMeanNegLogLikelihoodScaled", "lifetimesTimeScale", "packageVersion")


def main(argv):
    args = [arg for arg in argv if not arg.startswith("--")]
    golden = Path(args[0]) if args else Path(__file__).resolve().parents[2] / "tests/fixtures/golden"
    result = compute(golden)
    print(json.dumps(result, indent=1))
    if "--compare" in argv:
        expected = json.loads((golden / "expected-v2.json").read_text())["predictiveClv"]
        differences = []
        relative_differences(expected, result, "predictiveClv", differences, skip=INFORMATIONAL)
        return report(differences, 1e-3)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
