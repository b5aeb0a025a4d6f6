"""Tests of the discount forecaster: shipped ONNX weights against torch, the baselines and edge cases.

The data tests read the Carvana purchases from ../shared/data and skip when that folder is absent.
Measured values come from `python -m models.forecast.evaluate` on the shipped weights.
"""

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from vision_valuer.errors import InvalidLotMetadata
from vision_valuer.forecast import DiscountForecaster, LotFeatures
from vision_valuer.forecast_features import LotEncoder

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "carvana-2009-2010"
WEIGHTS_DIR = REPO / "weights"

needs_data = pytest.mark.skipif(not (DATA_DIR / "data.csv.gz").is_file(), reason=f"{DATA_DIR} not found")

# Test-split numbers measured with the shipped weights (see weights/discount_lstm.md). Margins allow
# for float differences between onnxruntime builds, not for a different model.
# Measured: LSTM 0.1326, zero 0.2467, segment 0.2149, market 0.2194, coverage 0.770.
LSTM_TEST_MAE_CEILING = 0.1336
ZERO_TEST_MAE_FLOOR = 0.2457
SEGMENT_TEST_MAE_FLOOR = 0.2139
MARKET_TEST_MAE_FLOOR = 0.2184
COVERAGE_RANGE = (0.76, 0.78)


@pytest.fixture(scope="module")
def forecaster() -> DiscountForecaster:
    return DiscountForecaster()


@pytest.fixture(scope="module")
def purchases():
    from models.forecast import data

    frame, _ = data.load_purchases(DATA_DIR)
    return frame


@pytest.fixture(scope="module")
def holdout_rows(purchases):
    return purchases[purchases["split"] == "test"].reset_index(drop=True)


@pytest.fixture(scope="module")
def evaluation(forecaster, purchases):
    from models.forecast.evaluate import evaluate

    return evaluate(forecaster, purchases)


@needs_data
def test_loader_drop_counts():
    from models.forecast import data

    frame, drops = data.load_purchases(DATA_DIR)

    assert drops.missing_mmr == 846
    assert drops.ratio_out_of_range == 190
    assert drops.kept_rows == 71947
    assert len(frame) == drops.kept_rows
    assert frame["sale_date"].max() == date(2010, 12, 30)


@needs_data
def test_split_row_counts(evaluation):
    ranges = evaluation.split_ranges

    assert ranges["train"] == (date(2009, 3, 30), date(2010, 6, 30), 44231)
    assert ranges["val"] == (date(2010, 7, 1), date(2010, 9, 30), 8873)
    assert ranges["test"] == (date(2010, 10, 1), date(2010, 12, 30), 10389)


@needs_data
def test_onnx_matches_torch(forecaster, holdout_rows):
    torch = pytest.importorskip("torch")
    from models.forecast.network import DiscountLSTM
    from models.forecast.train import encode_rows, predict

    spec = forecaster.spec
    model = DiscountLSTM(
        len(spec.sequence_feature_names), len(spec.static_feature_names), spec.network.hidden_size, spec.network.head_size
    )
    model.load_state_dict(torch.load(WEIGHTS_DIR / "discount_lstm.pt", map_location="cpu", weights_only=True))
    encoded = encode_rows(LotEncoder(spec), holdout_rows)

    expected = predict(model, encoded)
    actual = forecaster.predict_quantiles(encoded.sequence, encoded.static)

    assert actual.shape == (len(holdout_rows), 3)
    assert np.abs(actual - expected).max() < 1e-4

    # The public path (LotFeatures -> DiscountForecast) must give the same numbers.
    from models.forecast.evaluate import forecast_quantiles

    public = forecast_quantiles(forecaster, holdout_rows.iloc[:500])
    assert np.abs(public - expected[:500]).max() < 1e-4


@needs_data
def test_lstm_beats_baselines_on_test(evaluation):
    lstm = evaluation.method("LSTM median (ONNX)")
    zero = evaluation.method("zero discount")
    segment = evaluation.method(f"trailing segment median ({evaluation.segment_window} weeks)")
    market = evaluation.method(f"trailing market median ({evaluation.market_window} weeks)")

    assert evaluation.segment_window == 4
    assert evaluation.market_window == 4
    assert lstm.test_mae <= LSTM_TEST_MAE_CEILING
    assert zero.test_mae >= ZERO_TEST_MAE_FLOOR
    assert segment.test_mae >= SEGMENT_TEST_MAE_FLOOR
    assert market.test_mae >= MARKET_TEST_MAE_FLOOR
    assert lstm.test_mae < segment.test_mae
    assert lstm.test_mae < market.test_mae
    assert lstm.test_mae < zero.test_mae


@needs_data
def test_interval_coverage_on_test(evaluation):
    lstm = evaluation.method("LSTM median (ONNX)")

    assert COVERAGE_RANGE[0] <= lstm.test_coverage <= COVERAGE_RANGE[1]


@needs_data
def test_quantiles_ordered_on_holdout_rows(forecaster, holdout_rows):
    from models.forecast.evaluate import forecast_quantiles

    quantiles = forecast_quantiles(forecaster, holdout_rows)

    assert (quantiles[:, 0] <= quantiles[:, 1]).all()
    assert (quantiles[:, 1] <= quantiles[:, 2]).all()


@needs_data
def test_market_week_precedes_sale_week(forecaster, holdout_rows):
    forecasts = forecaster.forecast_batch(
        [LotFeatures(sale_date=day) for day in holdout_rows["sale_date"].iloc[::50]]
    )

    for sale_week, forecast in zip(holdout_rows["week_start"].iloc[::50], forecasts):
        assert (sale_week - forecast.market_week).days == 7


def test_missing_features_still_forecast(forecaster):
    forecast = forecaster.forecast(LotFeatures(sale_date=date(2010, 11, 10)))

    assert forecast.imputed_features == ["age_years", "odometer_km", "make", "size"]
    assert np.isfinite([forecast.lower, forecast.discount, forecast.upper]).all()
    assert forecast.lower <= forecast.discount <= forecast.upper
    assert forecast.interval_level == pytest.approx(0.8)
    assert forecast.market_week == date(2010, 11, 1)
    assert forecast.market_data_age_days == 9


def test_unknown_categories_ordered(forecaster):
    lots = [
        LotFeatures(sale_date=date(2026, 3, 2), age_years=age, odometer_km=km, make=make, size=size)
        for age in (0.5, 4.0, 15.0)
        for km in (1_000.0, 120_000.0, 400_000.0)
        for make, size in (("BYD", "SUV"), ("TOYOTA", "COMPACT"), (None, None))
    ]

    forecasts = forecaster.forecast_batch(lots)

    for forecast in forecasts:
        assert forecast.lower <= forecast.discount <= forecast.upper


def test_unknown_size_falls_back_to_market(forecaster):
    unmapped = forecaster.forecast(LotFeatures(sale_date=date(2010, 11, 10), age_years=3, size="SUV"))
    missing = forecaster.forecast(LotFeatures(sale_date=date(2010, 11, 10), age_years=3, size=None))

    assert unmapped.imputed_features == ["odometer_km", "make", "size"]
    assert unmapped.discount == missing.discount


def test_categories_match_case_insensitively(forecaster):
    lower = forecaster.forecast(LotFeatures(sale_date=date(2010, 11, 10), make="ford", size=" medium suv"))
    upper = forecaster.forecast(LotFeatures(sale_date=date(2010, 11, 10), make="FORD", size="MEDIUM SUV"))

    assert "make" not in lower.imputed_features
    assert "size" not in lower.imputed_features
    assert lower.discount == upper.discount


def test_sale_after_data_end_reports_age(forecaster):
    lot = LotFeatures(sale_date=date(2026, 6, 1), age_years=3, odometer_km=60_000, make="FORD", size="COMPACT")

    forecast = forecaster.forecast(lot)
    just_after_end = forecaster.forecast(lot.model_copy(update={"sale_date": date(2011, 1, 3)}))

    assert forecaster.spec.data_end == date(2010, 12, 30)
    assert forecast.market_week == date(2010, 12, 27)
    assert forecast.market_data_age_days == (date(2026, 6, 1) - date(2010, 12, 27)).days
    assert forecast.market_data_age_days == 5635
    assert forecast.discount == just_after_end.discount


def test_sale_before_history_rejected(forecaster):
    with pytest.raises(InvalidLotMetadata) as raised:
        forecaster.forecast(LotFeatures(sale_date=date(2009, 3, 29)))

    assert raised.value.code == "invalid_lot_metadata"
    assert raised.value.field == "sale_date"
    assert raised.value.message_zh


@pytest.mark.parametrize(
    ("field", "value"),
    [("odometer_km", -1.0), ("age_years", float("nan")), ("age_years", float("inf"))],
)
def test_invalid_numbers_rejected(forecaster, field, value):
    lot = LotFeatures(sale_date=date(2010, 11, 10), **{field: value})

    with pytest.raises(InvalidLotMetadata) as raised:
        forecaster.forecast(lot)

    assert raised.value.field == field


def test_forecast_thread_safe(forecaster):
    lots = [
        LotFeatures(sale_date=date(2010, 10, 4) + timedelta(days=day), age_years=day % 9, odometer_km=10_000.0 * day, make="DODGE")
        for day in range(40)
    ]
    sequential = [forecaster.forecast(lot).discount for lot in lots]

    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = list(pool.map(lambda lot: forecaster.forecast(lot).discount, lots))

    assert concurrent == sequential


def test_missing_weights_raise(tmp_path):
    from vision_valuer.errors import ValuerError

    with pytest.raises(ValuerError) as raised:
        DiscountForecaster(tmp_path)

    assert raised.value.file == "discount_lstm.json"
