"""Measure how the auction condition grade moves the discount, from `manheim-2015-sample`.

The discount forecaster is trained on data with no condition column, so it predicts the discount
of a lot in the market's typical condition. This script measures, per half grade (1.0 to 5.0),
the median discount `1 - sellingprice / mmr`, and writes that curve with the market's median
grade to `weights/condition_effect.json`. The appraisal shifts the forecast by the difference
between the curve at the lot's grade and at the median grade.

    python -m models.condition.fit_effect --out weights/condition_effect.json
"""

import argparse
import json
from pathlib import Path

import pandas as pd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/manheim-2015-sample/data.csv.gz"))
    parser.add_argument("--out", type=Path, default=Path("weights/condition_effect.json"))
    args = parser.parse_args()

    frame = pd.read_csv(args.data)
    total_rows = len(frame)
    frame = frame.dropna(subset=["condition"])
    # An MMR under 500 dollars is a salvage or data-entry value, not a market reference.
    frame = frame[frame["mmr"] >= 500]
    frame = frame.assign(discount=1 - frame["sellingprice"] / frame["mmr"])
    frame = frame[frame["discount"].between(-1.0, 0.95)]

    half_grade = (frame["condition"] * 2).round() / 2
    curve = frame.groupby(half_grade)["discount"].agg(["median", "count"])
    result = {
        "source": "manheim-2015-sample (US auction sales 2014-01 to 2015-07), discount = 1 - sellingprice / mmr",
        "rows_total": total_rows,
        "rows_used": len(frame),
        "median_grade": float(frame["condition"].median()),
        "curve": [
            {"grade": float(grade), "median_discount": round(float(row["median"]), 4), "rows": int(row["count"])}
            for grade, row in curve.iterrows()
        ],
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
