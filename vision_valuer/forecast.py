"""Forecast a lot's auction discount with the shipped LSTM (ONNX) and its table of weekly market statistics.

The model was trained on US dealer purchases of 2009-2010 (Carvana), so for a current Chinese lot its
forecast is a prior for the price-to-reference ratio, and `market_data_age_days` reports how stale the
market statistics are. Needs numpy and onnxruntime only.
"""

import logging
import math
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np
import onnxruntime as ort
from pydantic import BaseModel, Field, ValidationError

from .errors import InvalidLotMetadata, ValuerError
from .forecast_features import ForecastSpec, LotEncoder

log = logging.getLogger(__name__)

DEFAULT_WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"
WEIGHTS_NAME = "discount_lstm"


class LotFeatures(BaseModel):
    """Input features of one lot. None means unknown."""

    sale_date: date
    age_years: float | None = Field(default=None, description="years since first registration")
    odometer_km: float | None = Field(default=None, description="odometer reading in km")
    make: str | None = Field(default=None, description="manufacturer, e.g. FORD; matched case-insensitively")
    size: str | None = Field(default=None, description="Carvana size class, e.g. COMPACT, MEDIUM SUV")


class DiscountForecast(BaseModel):
    discount: float = Field(description="median forecast, fraction of reference value (0.12 = 12 % below)")
    lower: float = Field(description="lower bound of the interval, same unit as discount")
    upper: float = Field(description="upper bound of the interval, same unit as discount")
    interval_level: float = Field(description="nominal coverage of [lower, upper], e.g. 0.8")
    market_week: date = Field(description="Monday of the last week of market statistics used")
    market_data_age_days: int = Field(description="sale_date - market_week in days")
    model_version: str
    imputed_features: list[str] = Field(
        description="features that were missing or outside the vocabulary and were replaced by a default"
    )


class DiscountForecaster:
    """Load the ONNX model and its spec once; `forecast` may then be called from several threads.

    Missing features are imputed as follows:
    - age_years and odometer_km: the training-split median (4 years and about 116,000 km in the shipped
      weights), with a missing flag that the network was trained on;
    - make outside the training vocabulary (`makes`) or None: the UNKNOWN make;
    - size outside `sizes` or None: the UNKNOWN size, whose market sequence is the whole market's.

    A sale date after the data's end uses the final weeks of the table, and `market_data_age_days`
    reports how old they are.
    """

    def __init__(self, weights_dir: Path | None = None):
        directory = weights_dir or DEFAULT_WEIGHTS_DIR
        spec_path = directory / f"{WEIGHTS_NAME}.json"
        model_path = directory / f"{WEIGHTS_NAME}.onnx"
        for path in (spec_path, model_path):
            if not path.is_file():
                raise ValuerError(
                    f"Discount model file not found: {path}. Reinstall the package or pass the weights folder.",
                    f"未找到折价预测模型文件：{path}。请重新安装软件包或指定权重目录。",
                    file=path.name,
                )

        try:
            self.spec = ForecastSpec.model_validate_json(spec_path.read_text(encoding="utf-8"))
        except ValidationError as error:
            raise ValuerError(
                f"Discount model spec {spec_path} is invalid: {error.errors()[0]['msg']}",
                f"折价预测模型配置文件 {spec_path} 无效。",
                file=spec_path.name,
            ) from error
        self._encoder = LotEncoder(self.spec)

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        self._session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        log.info("loaded discount model %s from %s", self.spec.model_version, directory)

    @property
    def model_version(self) -> str:
        return self.spec.model_version

    @property
    def sizes(self) -> list[str]:
        """Known size classes; map a lot's body type to one of these, or leave it None."""
        return self.spec.sizes[:-1]

    @property
    def makes(self) -> list[str]:
        """Known makes; any other make is encoded as UNKNOWN."""
        return self.spec.makes[:-1]

    def forecast(self, features: LotFeatures) -> DiscountForecast:
        """Forecast one lot's discount. Raises InvalidLotMetadata for an impossible feature value."""
        return self.forecast_batch([features])[0]

    def forecast_batch(self, lots: Sequence[LotFeatures]) -> list[DiscountForecast]:
        """Forecast several lots in one ONNX call, in input order."""
        if not lots:
            return []
        for lot in lots:
            self._validate(lot)

        encoded = self._encoder.encode(
            np.array([lot.sale_date for lot in lots], dtype="datetime64[D]"),
            np.array([math.nan if lot.age_years is None else lot.age_years for lot in lots], dtype=np.float64),
            np.array([math.nan if lot.odometer_km is None else lot.odometer_km for lot in lots], dtype=np.float64),
            [lot.make for lot in lots],
            [lot.size for lot in lots],
        )
        quantiles = self.predict_quantiles(encoded.sequence, encoded.static)

        forecasts = []
        for i, lot in enumerate(lots):
            market_week = date.fromordinal(self.spec.first_week.toordinal() + 7 * int(encoded.market_week_index[i]))
            forecasts.append(
                DiscountForecast(
                    discount=float(quantiles[i, 1]),
                    lower=float(quantiles[i, 0]),
                    upper=float(quantiles[i, -1]),
                    interval_level=self.spec.interval_level,
                    market_week=market_week,
                    market_data_age_days=(lot.sale_date - market_week).days,
                    model_version=self.spec.model_version,
                    imputed_features=encoded.imputed[i],
                )
            )
        return forecasts

    def predict_quantiles(self, sequence: np.ndarray, static: np.ndarray) -> np.ndarray:
        """Run the ONNX graph on encoded inputs and return float32 [N, 3]: the 0.1, 0.5 and 0.9 quantiles."""
        (output,) = self._session.run(None, {"sequence": sequence, "static": static})
        return output

    def _validate(self, lot: LotFeatures) -> None:
        for name, unit in (("age_years", "years"), ("odometer_km", "km")):
            value = getattr(lot, name)
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise InvalidLotMetadata(
                    f"{name} must be a finite number >= 0 {unit}, got {value}",
                    f"{name} 必须是大于或等于 0 的有限数值（单位：{'年' if unit == 'years' else '公里'}），当前值为 {value}",
                    field=name,
                )

        earliest = self.spec.earliest_sale_date
        if lot.sale_date < earliest:
            raise InvalidLotMetadata(
                f"sale_date {lot.sale_date} is before {earliest}, the first date with "
                f"{self.spec.sequence_length} weeks of market statistics",
                f"拍卖日期 {lot.sale_date} 早于 {earliest}，该日期之前没有足够 {self.spec.sequence_length} 周的市场统计数据",
                field="sale_date",
            )
