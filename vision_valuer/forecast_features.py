"""Encode lots into the discount LSTM's inputs: a sequence of weekly market statistics and static lot features.

The training code under `models/forecast/` and the run-time forecaster both call `LotEncoder.encode`, so the
network receives the same features in service as in training. Needs only numpy and pydantic.
"""

from dataclasses import dataclass
from datetime import date

import numpy as np
from pydantic import BaseModel, ConfigDict, model_validator

# Weekly statistics in the table, in natural units, per week and market segment.
WEEK_STAT_NAMES = (
    "median_discount",
    "iqr_discount",
    "volume",
    "median_mmr_usd",
    "median_age_years",
    "median_odometer_km",
)

# Segment 0 of the weekly table is the whole market. A lot whose size is unknown uses it too.
MARKET_SEGMENT = "ALL"
UNKNOWN_CATEGORY = "UNKNOWN"

# Names of the per-step features the network receives after `transform_week_stats`, for one group.
_STEP_FEATURE_NAMES = (
    "median_discount",
    "iqr_discount",
    "log1p_volume",
    "log_median_mmr_usd",
    "median_age_years",
    "median_odometer_1000km",
)


def sequence_feature_names() -> list[str]:
    """Return the names of the features at each sequence step: the market group, then the lot's segment."""
    return [f"market_{name}" for name in _STEP_FEATURE_NAMES] + [f"segment_{name}" for name in _STEP_FEATURE_NAMES]


def transform_week_stats(table: np.ndarray) -> np.ndarray:
    """Map raw weekly statistics [..., 6] to the network's scale: log volume, log MMR, odometer in 1000 km."""
    transformed = np.array(table, dtype=np.float64, copy=True)
    transformed[..., 2] = np.log1p(transformed[..., 2])
    transformed[..., 3] = np.log(np.maximum(transformed[..., 3], 1.0))
    transformed[..., 5] = transformed[..., 5] / 1000.0
    return transformed


def normalise_category(value: str | None) -> str:
    """Upper-case and trim a make or size, so `" suv"` and `"SUV"` match the same vocabulary entry."""
    if value is None:
        return ""
    return " ".join(value.upper().split())


class NumericFeature(BaseModel):
    """Imputation and scaling constants of one static numeric feature, all from the training split."""

    model_config = ConfigDict(frozen=True)

    median: float
    mean: float
    std: float
    maximum: float


class NetworkShape(BaseModel):
    model_config = ConfigDict(frozen=True)

    hidden_size: int
    head_size: int


class ForecastSpec(BaseModel):
    """Everything the run time needs besides the ONNX graph; stored as `weights/discount_lstm.json`."""

    model_config = ConfigDict(frozen=True)

    model_version: str
    quantiles: list[float]
    interval_level: float
    sequence_length: int
    first_week: date
    data_end: date
    segments: list[str]
    sizes: list[str]
    makes: list[str]
    week_stat_names: list[str]
    weekly_table: list[list[list[float]]]
    sequence_feature_names: list[str]
    sequence_mean: list[float]
    sequence_std: list[float]
    static_feature_names: list[str]
    age_years: NumericFeature
    odometer_km: NumericFeature
    network: NetworkShape

    @model_validator(mode="after")
    def check_shapes(self) -> "ForecastSpec":
        if self.first_week.weekday() != 0:
            raise ValueError(f"first_week must be a Monday, got {self.first_week}")
        if self.segments[0] != MARKET_SEGMENT or self.segments[1:] != self.sizes[:-1]:
            raise ValueError("segments must be ALL followed by every known size")
        if self.sizes[-1] != UNKNOWN_CATEGORY or self.makes[-1] != UNKNOWN_CATEGORY:
            raise ValueError("the last size and make must be UNKNOWN")

        table = np.asarray(self.weekly_table, dtype=np.float64)
        expected = (table.shape[0], len(self.segments), len(self.week_stat_names))
        if table.ndim != 3 or table.shape != expected or table.shape[0] < self.sequence_length:
            raise ValueError(f"weekly_table has shape {table.shape}, expected {expected} with at least "
                             f"{self.sequence_length} weeks")
        if not np.isfinite(table).all():
            raise ValueError("weekly_table contains non-finite values")

        width = len(self.sequence_feature_names)
        if len(self.sequence_mean) != width or len(self.sequence_std) != width:
            raise ValueError("sequence_mean and sequence_std must have one value per sequence feature")
        if len(self.static_feature_names) != 4 + len(self.sizes) + len(self.makes):
            raise ValueError("static_feature_names does not match the size and make vocabularies")
        return self

    @property
    def week_count(self) -> int:
        return len(self.weekly_table)

    @property
    def earliest_sale_date(self) -> date:
        """First day whose week has `sequence_length` complete weeks of statistics before it."""
        return date.fromordinal(self.first_week.toordinal() + 7 * self.sequence_length)


@dataclass(frozen=True)
class EncodedLots:
    """Network inputs for N lots, plus which weekly statistics each lot used."""

    sequence: np.ndarray  # float32 [N, sequence_length, 12]
    static: np.ndarray  # float32 [N, 4 + sizes + makes]
    market_week_index: np.ndarray  # int64 [N], index of the last week in each lot's sequence
    imputed: list[list[str]]  # per lot, the features replaced by a default (missing or unknown category)


class LotEncoder:
    """Turn sale dates and lot features into network inputs, using the vocabularies and constants of a spec.

    The encoder is immutable after construction, so threads may share one.
    """

    def __init__(self, spec: ForecastSpec):
        self.spec = spec

        # Normalise the whole table once: each lot then only gathers rows.
        steps = transform_week_stats(np.asarray(spec.weekly_table, dtype=np.float64))
        half = len(_STEP_FEATURE_NAMES)
        mean = np.asarray(spec.sequence_mean, dtype=np.float64)
        std = np.asarray(spec.sequence_std, dtype=np.float64)
        self._market_steps = ((steps[:, 0, :] - mean[:half]) / std[:half]).astype(np.float32)
        self._segment_steps = ((steps - mean[half:]) / std[half:]).astype(np.float32)

        self._size_index = {size: i for i, size in enumerate(spec.sizes[:-1])}
        self._make_index = {make: i for i, make in enumerate(spec.makes[:-1])}

    def week_index(self, sale_dates: np.ndarray) -> np.ndarray:
        """Return the index of each sale date's Monday-based week, counted from the table's first week."""
        days = sale_dates.astype("datetime64[D]").astype(np.int64)
        first = np.datetime64(self.spec.first_week, "D").astype(np.int64)
        return (days - first) // 7

    def encode(
        self,
        sale_dates: np.ndarray,
        age_years: np.ndarray,
        odometer_km: np.ndarray,
        makes: list[str | None],
        sizes: list[str | None],
    ) -> EncodedLots:
        """Encode N lots. NaN in `age_years` or `odometer_km` and None or unknown categories mean missing.

        Each lot gets the `sequence_length` weeks strictly before its sale week. A sale after the table's
        last week gets the final weeks of the table. Missing numbers become the training median with
        a missing flag set, and every number is clamped to [0, training maximum]. Raises ValueError for a sale date
        before `spec.earliest_sale_date`, because no complete sequence exists for it.
        """
        spec = self.spec
        count = len(sale_dates)
        length = spec.sequence_length

        sale_weeks = self.week_index(np.asarray(sale_dates))
        if count and sale_weeks.min() < length:
            raise ValueError(f"sale dates must be on or after {spec.earliest_sale_date}")
        end_weeks = np.minimum(sale_weeks, spec.week_count)
        windows = end_weeks[:, None] - length + np.arange(length)[None, :]

        size_ids = np.array([self._size_index.get(normalise_category(s), -1) for s in sizes], dtype=np.int64)
        make_ids = np.array([self._make_index.get(normalise_category(m), -1) for m in makes], dtype=np.int64)
        segment_ids = size_ids + 1  # an unknown size (-1) falls back to segment 0, the whole market

        market = self._market_steps[windows]
        segment = self._segment_steps[windows, segment_ids[:, None]]
        sequence = np.concatenate([market, segment], axis=2)

        age, age_missing = _impute(np.asarray(age_years, dtype=np.float64), spec.age_years)
        odometer, odometer_missing = _impute(np.asarray(odometer_km, dtype=np.float64), spec.odometer_km)

        static = np.zeros((count, len(spec.static_feature_names)), dtype=np.float32)
        static[:, 0] = age
        static[:, 1] = age_missing
        static[:, 2] = odometer
        static[:, 3] = odometer_missing
        rows = np.arange(count)
        size_columns = np.where(size_ids >= 0, size_ids, len(spec.sizes) - 1)
        make_columns = np.where(make_ids >= 0, make_ids, len(spec.makes) - 1)
        static[rows, 4 + size_columns] = 1.0
        static[rows, 4 + len(spec.sizes) + make_columns] = 1.0

        imputed = []
        for i in range(count):
            names = []
            if age_missing[i]:
                names.append("age_years")
            if odometer_missing[i]:
                names.append("odometer_km")
            if make_ids[i] < 0:
                names.append("make")
            if size_ids[i] < 0:
                names.append("size")
            imputed.append(names)

        return EncodedLots(
            sequence=np.ascontiguousarray(sequence, dtype=np.float32),
            static=static,
            market_week_index=end_weeks - 1,
            imputed=imputed,
        )


def _impute(values: np.ndarray, feature: NumericFeature) -> tuple[np.ndarray, np.ndarray]:
    """Return the standardised values with NaN replaced by the training median, and the missing flags."""
    missing = np.isnan(values)
    filled = np.where(missing, feature.median, values)

    # NOTE: values beyond the training range (Carvana lots are at most 9 years old) are clamped, so an
    # older Chinese lot is forecast as a lot at the training maximum, not extrapolated.
    filled = np.clip(filled, 0.0, feature.maximum)
    return (filled - feature.mean) / feature.std, missing.astype(np.float32)
