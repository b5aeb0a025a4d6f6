"""Hammer and reserve prices from the shipped forecaster and the condition score."""

from datetime import date

import pytest

from vision_valuer.condition import assess_condition
from vision_valuer.forecast import DiscountForecaster, LotFeatures
from vision_valuer.lot_metadata import parse_lot_metadata
from vision_valuer.valuation import value_lot

LOT = parse_lot_metadata(
    b'{"reference_value": 100000, "currency": "CNY", "sale_date": "2026-11-20", "first_registration": "2025-11-20"}'
).metadata


@pytest.fixture(scope="module")
def forecaster():
    return DiscountForecaster()


def young_lot_forecast(forecaster):
    return forecaster.forecast(LotFeatures(sale_date=date(2026, 11, 20), age_years=1.0, odometer_km=20000, make=None, size=None))


def test_damage_lowers_prices(forecaster):
    forecast = young_lot_forecast(forecaster)
    clean = value_lot(LOT, forecast, assess_condition([{}]))
    damaged = value_lot(LOT, forecast, assess_condition([{"Crushed": 0.04, "Breakage": 0.03}]))

    assert damaged.expected_hammer_price < clean.expected_hammer_price
    assert damaged.recommended_reserve_price < clean.recommended_reserve_price
    assert damaged.discount > clean.discount


def test_reserve_is_lower_interval_end(forecaster):
    valuation = value_lot(LOT, young_lot_forecast(forecaster), assess_condition([{"Crushed": 0.04, "Breakage": 0.03}]))

    assert valuation.discount_lower < valuation.discount < valuation.discount_upper
    assert valuation.hammer_price_lower < valuation.expected_hammer_price < valuation.hammer_price_upper
    assert valuation.hammer_price_lower == pytest.approx(100000 * (1 - valuation.discount_upper), abs=10)
    assert valuation.recommended_reserve_price == (valuation.hammer_price_lower // 100) * 100
    assert valuation.recommended_reserve_price % 100 == 0


def test_price_never_above_reference(forecaster):
    old = forecaster.forecast(LotFeatures(sale_date=date(2026, 11, 20), age_years=8.0, odometer_km=150000, make=None, size=None))
    assert old.discount < 0, "the US-trained forecaster puts old cars above their MMR price"

    valuation = value_lot(LOT, old, assess_condition([{}]))
    assert valuation.recentre_shift == pytest.approx(-old.discount, abs=1e-4)
    assert valuation.expected_hammer_price <= 100000
    assert valuation.hammer_price_upper <= 100000
    # The spread of the forecast survives the shift, up to the zero floor.
    expected_upper = old.upper - old.discount + valuation.condition_adjustment
    assert valuation.discount_upper == pytest.approx(expected_upper, abs=1e-3)


def test_no_reference_value_gives_no_prices(forecaster):
    valuation = value_lot(None, young_lot_forecast(forecaster), assess_condition([{}]))
    assert valuation.expected_hammer_price is None
    assert valuation.recommended_reserve_price is None
    assert valuation.currency is None
