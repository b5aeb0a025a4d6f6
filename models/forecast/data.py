"""Load the Carvana 2009-2010 purchases, derive the discount target and build the weekly market table.

Carvana's file has no hammer price. The target is the discount of the purchase cost against the Manheim
(MMR) auction average price on the purchase date: 1 - VehBCost / MMRAcquisitionAuctionAveragePrice.
"""

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from vision_valuer.forecast_features import (
    MARKET_SEGMENT,
    UNKNOWN_CATEGORY,
    WEEK_STAT_NAMES,
    NumericFeature,
    normalise_category,
    transform_week_stats,
)

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "carvana-2009-2010"

MILES_TO_KM = 1.609344

# Rows paying less than a quarter or more than 2.5 times the MMR auction average are data errors or
# mismatched MMR records (one row has a cost of $1), not market behaviour, so they are dropped.
MIN_COST_TO_MMR = 0.25
MAX_COST_TO_MMR = 2.5

# Time-ordered split by purchase date: train before VAL_START, val before TEST_START, test after.
VAL_START = date(2010, 7, 1)
TEST_START = date(2010, 10, 1)

# A segment-week with fewer purchases than this carries the previous week's statistics forward,
# because a median of one or two lots is noise.
MIN_SEGMENT_ROWS = 5

# Makes with fewer training purchases than this are encoded as UNKNOWN, which gives the UNKNOWN
# category real training rows.
MIN_MAKE_ROWS = 100


@dataclass(frozen=True)
class DropCounts:
    missing_mmr: int
    ratio_out_of_range: int
    kept_rows: int


def load_purchases(data_dir: Path = DEFAULT_DATA_DIR) -> tuple[pd.DataFrame, DropCounts]:
    """Read `data.csv.gz`, derive the target and lot features, and drop unusable rows.

    Returns one row per kept purchase with sale_date, week_start (Monday), split, discount,
    mmr_usd, age_years, odometer_km, make and size (UNKNOWN where Carvana has none), sorted by date.
    """
    raw = pd.read_csv(data_dir / "data.csv.gz")

    mmr = raw["MMRAcquisitionAuctionAveragePrice"]
    has_mmr = mmr.notna() & (mmr > 0)
    ratio = raw["VehBCost"] / mmr.where(has_mmr)
    in_range = ratio.between(MIN_COST_TO_MMR, MAX_COST_TO_MMR)
    keep = has_mmr & in_range
    drops = DropCounts(
        missing_mmr=int((~has_mmr).sum()),
        ratio_out_of_range=int((has_mmr & ~in_range).sum()),
        kept_rows=int(keep.sum()),
    )
    raw = raw[keep]

    sale_date = pd.to_datetime(raw["PurchDate"], format="%m/%d/%Y")
    frame = pd.DataFrame(
        {
            "sale_date": sale_date.dt.date,
            "week_start": (sale_date - pd.to_timedelta(sale_date.dt.day_of_week, unit="D")).dt.date,
            "discount": 1.0 - raw["VehBCost"] / raw["MMRAcquisitionAuctionAveragePrice"],
            "mmr_usd": raw["MMRAcquisitionAuctionAveragePrice"].astype(float),
            "age_years": raw["VehicleAge"].astype(float),
            "odometer_km": raw["VehOdo"].astype(float) * MILES_TO_KM,
            "make": [normalise_category(m) or UNKNOWN_CATEGORY for m in raw["Make"].fillna("")],
            "size": [normalise_category(s) or UNKNOWN_CATEGORY for s in raw["Size"].fillna("")],
        }
    )
    frame["split"] = np.select(
        [frame["sale_date"] < VAL_START, frame["sale_date"] < TEST_START], ["train", "val"], "test"
    )
    frame = frame.sort_values("sale_date", kind="stable").reset_index(drop=True)
    return frame, drops


def first_monday(purchases: pd.DataFrame) -> date:
    return min(purchases["week_start"])


def week_count(purchases: pd.DataFrame) -> int:
    return (max(purchases["week_start"]) - first_monday(purchases)).days // 7 + 1


def size_vocabulary(purchases: pd.DataFrame) -> list[str]:
    """Return the known sizes, sorted, followed by UNKNOWN."""
    known = sorted(set(purchases["size"]) - {UNKNOWN_CATEGORY})
    return known + [UNKNOWN_CATEGORY]


def make_vocabulary(purchases: pd.DataFrame) -> list[str]:
    """Return the makes with at least MIN_MAKE_ROWS training purchases, sorted, followed by UNKNOWN."""
    counts = purchases.loc[purchases["split"] == "train", "make"].value_counts()
    known = sorted(m for m, n in counts.items() if n >= MIN_MAKE_ROWS and m != UNKNOWN_CATEGORY)
    return known + [UNKNOWN_CATEGORY]


def weekly_table(purchases: pd.DataFrame, segments: list[str]) -> np.ndarray:
    """Compute the weekly statistics per segment: float64 [weeks, segments, WEEK_STAT_NAMES].

    Segment 0 is the whole market. A segment-week with fewer than MIN_SEGMENT_ROWS purchases keeps its
    true volume but carries the other statistics forward from the previous week, or takes the market's
    statistics when the segment has no earlier week.
    """
    start = first_monday(purchases)
    weeks = week_count(purchases)
    week_ids = np.array([(w - start).days // 7 for w in purchases["week_start"]])
    table = np.zeros((weeks, len(segments), len(WEEK_STAT_NAMES)))

    for segment_id, segment in enumerate(segments):
        in_segment = np.ones(len(purchases), bool) if segment == MARKET_SEGMENT else (purchases["size"] == segment).to_numpy()
        previous: np.ndarray | None = None
        for week in range(weeks):
            rows = purchases[in_segment & (week_ids == week)]
            if len(rows) >= MIN_SEGMENT_ROWS:
                discount = rows["discount"].to_numpy()
                stats = np.array([
                    np.median(discount),
                    np.quantile(discount, 0.75) - np.quantile(discount, 0.25),
                    len(rows),
                    rows["mmr_usd"].median(),
                    rows["age_years"].median(),
                    rows["odometer_km"].median(),
                ])
            elif previous is not None:
                stats = previous.copy()
                stats[2] = len(rows)
            else:
                stats = table[week, 0].copy()
                stats[2] = len(rows)
            table[week, segment_id] = stats
            previous = stats

    return table


def sequence_normalisation(table: np.ndarray, train_weeks: int) -> tuple[list[float], list[float]]:
    """Return the mean and std of each sequence feature over the first `train_weeks` weeks.

    Market features use segment 0; segment features pool every size segment.
    """
    steps = transform_week_stats(table[:train_weeks])
    market = steps[:, 0, :]
    segment = steps[:, 1:, :].reshape(-1, steps.shape[2])
    mean = np.concatenate([market.mean(0), segment.mean(0)])
    std = np.concatenate([market.std(0), segment.std(0)])
    std = np.where(std > 1e-9, std, 1.0)
    return mean.tolist(), std.tolist()


def numeric_feature(values: pd.Series) -> NumericFeature:
    return NumericFeature(
        median=float(values.median()),
        mean=float(values.mean()),
        std=float(values.std()),
        maximum=float(values.max()),
    )


def train_week_limit(purchases: pd.DataFrame) -> int:
    """Return the number of weeks that end before VAL_START, whose statistics may set normalisation."""
    start = first_monday(purchases)
    return (VAL_START - start).days // 7


def data_end(purchases: pd.DataFrame) -> date:
    return max(purchases["sale_date"])


def split_ranges(purchases: pd.DataFrame, earliest_sale: date) -> dict[str, tuple[date, date, int]]:
    """Return each split's first and last sale date and row count, counting only rows with a full sequence."""
    usable = purchases[purchases["sale_date"] >= earliest_sale]
    ranges = {}
    for split in ("train", "val", "test"):
        dates = usable.loc[usable["split"] == split, "sale_date"]
        ranges[split] = (min(dates), max(dates), len(dates))
    return ranges

