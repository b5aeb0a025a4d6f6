"""Print the metrics table of the model card: the shipped ONNX forecaster against the baselines.

Every method is scored on the same val and test rows. Baseline windows are chosen on val; test is
only measured. Needs pandas to read the data, and numpy + onnxruntime for the forecaster.

    python -m models.forecast.evaluate --weights weights
"""

import argparse
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from vision_valuer.forecast import DiscountForecaster, LotFeatures

from . import data
from .baselines import TrailingQuantiles, mean_absolute_error, select_window


@dataclass(frozen=True)
class MethodScores:
    name: str
    val_mae: float
    test_mae: float
    val_coverage: float | None = None  # share of rows inside the method's 10 %-90 % interval
    test_coverage: float | None = None
    test_width: float | None = None  # mean width of that interval on test


@dataclass(frozen=True)
class Evaluation:
    split_ranges: dict[str, tuple[date, date, int]]
    segment_window: int
    market_window: int
    methods: list[MethodScores]

    def method(self, name: str) -> MethodScores:
        return next(m for m in self.methods if m.name == name)


def lot_features(rows: pd.DataFrame) -> list[LotFeatures]:
    """Turn purchase rows into the forecaster's input, as a caller would build it."""
    return [
        LotFeatures(sale_date=sale_date, age_years=age, odometer_km=odometer, make=make, size=size)
        for sale_date, age, odometer, make, size in zip(
            rows["sale_date"], rows["age_years"], rows["odometer_km"], rows["make"], rows["size"]
        )
    ]


def forecast_quantiles(forecaster: DiscountForecaster, rows: pd.DataFrame) -> np.ndarray:
    """Return float [N, 3] (lower, median, upper) from the forecaster's public `forecast_batch`."""
    forecasts = forecaster.forecast_batch(lot_features(rows))
    return np.array([[f.lower, f.discount, f.upper] for f in forecasts])


def interval_scores(quantiles: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """Return the coverage and mean width of the interval [quantiles[:, 0], quantiles[:, -1]]."""
    covered = (target >= quantiles[:, 0]) & (target <= quantiles[:, -1])
    return float(covered.mean()), float((quantiles[:, -1] - quantiles[:, 0]).mean())


def evaluate(forecaster: DiscountForecaster, purchases: pd.DataFrame) -> Evaluation:
    """Score the forecaster, zero discount and the trailing segment and market medians on val and test."""
    spec = forecaster.spec
    usable = purchases[purchases["sale_date"] >= spec.earliest_sale_date]
    splits = {name: usable[usable["split"] == name].reset_index(drop=True) for name in ("val", "test")}
    targets = {name: rows["discount"].to_numpy() for name, rows in splits.items()}
    weeks = {
        name: np.array([(w - spec.first_week).days // 7 for w in rows["week_start"]]) for name, rows in splits.items()
    }
    history = TrailingQuantiles(purchases, spec.first_week)
    methods = []

    lstm = {name: forecast_quantiles(forecaster, rows) for name, rows in splits.items()}
    val_coverage, _ = interval_scores(lstm["val"], targets["val"])
    test_coverage, test_width = interval_scores(lstm["test"], targets["test"])
    methods.append(MethodScores(
        "LSTM median (ONNX)",
        mean_absolute_error(lstm["val"][:, 1], targets["val"]),
        mean_absolute_error(lstm["test"][:, 1], targets["test"]),
        val_coverage,
        test_coverage,
        test_width,
    ))

    methods.append(MethodScores(
        "zero discount",
        mean_absolute_error(np.zeros(len(targets["val"])), targets["val"]),
        mean_absolute_error(np.zeros(len(targets["test"])), targets["test"]),
    ))

    windows = {}
    for by_segment, label in ((True, "segment"), (False, "market")):
        window = select_window(history, splits["val"], weeks["val"], by_segment)
        windows[label] = window
        predicted = {
            name: history.predict(weeks[name], rows["size"].tolist(), window, by_segment, spec.quantiles)
            for name, rows in splits.items()
        }
        val_coverage, _ = interval_scores(predicted["val"], targets["val"])
        test_coverage, test_width = interval_scores(predicted["test"], targets["test"])
        methods.append(MethodScores(
            f"trailing {label} median ({window} weeks)",
            mean_absolute_error(predicted["val"][:, 1], targets["val"]),
            mean_absolute_error(predicted["test"][:, 1], targets["test"]),
            val_coverage,
            test_coverage,
            test_width,
        ))

    return Evaluation(
        split_ranges=data.split_ranges(purchases, spec.earliest_sale_date),
        segment_window=windows["segment"],
        market_window=windows["market"],
        methods=methods,
    )


def format_report(evaluation: Evaluation, model_version: str) -> str:
    """Render the split table and the metrics table as Markdown."""
    lines = [f"Model {model_version}", "", "| split | first sale | last sale | rows |", "|---|---|---|---|"]
    for name, (first, last, count) in evaluation.split_ranges.items():
        lines.append(f"| {name} | {first} | {last} | {count:,} |")

    lines += [
        "",
        "| method | val MAE | test MAE | val 80 % coverage | test 80 % coverage | test mean interval width |",
        "|---|---|---|---|---|---|",
    ]
    for m in evaluation.methods:
        cells = [f"{m.val_mae:.4f}", f"{m.test_mae:.4f}"]
        cells += ["-" if value is None else f"{value:.3f}" for value in (m.val_coverage, m.test_coverage, m.test_width)]
        lines.append(f"| {m.name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=data.DEFAULT_DATA_DIR, help="folder with data.csv.gz")
    parser.add_argument("--weights", type=Path, default=None, help="folder with discount_lstm.onnx and .json")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    forecaster = DiscountForecaster(args.weights)
    purchases, drops = data.load_purchases(args.data)
    print(f"Rows kept {drops.kept_rows:,}; dropped {drops.missing_mmr} without MMR price and "
          f"{drops.ratio_out_of_range} with cost/MMR outside [{data.MIN_COST_TO_MMR}, {data.MAX_COST_TO_MMR}]")
    print(format_report(evaluate(forecaster, purchases), forecaster.spec.model_version))


if __name__ == "__main__":
    main()
