"""End-to-end appraisal of the bundled example lot through the pipeline, in process."""

import pytest

from vision_valuer.lot_folder import read_lot_folder
from vision_valuer.pipeline import get_appraiser

from .helpers import EXAMPLE_LOT


@pytest.fixture(scope="module")
def example_result():
    return get_appraiser().appraise(read_lot_folder(EXAMPLE_LOT))


def test_example_lot_photos_have_damage(example_result):
    photos = example_result.appraisal.photos
    assert len(photos) == 3
    for photo in photos:
        assert photo.damage.findings, f"no damage found on {photo.file}"
        finding = photo.damage.findings[0]
        x0, y0, x1, y1 = finding.bbox
        assert 0 <= x0 < x1 <= photo.width
        assert 0 <= y0 < y1 <= photo.height
        assert 0 < finding.area_share <= 1
        assert 0 < finding.mean_confidence <= 1


def test_example_lot_overlays_are_png(example_result):
    assert len(example_result.overlays) == 3
    for png in example_result.overlays:
        assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_example_lot_reads_vehicle_licence(example_result):
    (document,) = example_result.appraisal.documents
    licence = document.reading.vehicle_license
    assert document.reading.kind == "vehicle_license"
    assert licence.plate == "京AA5599"
    assert licence.register_date.isoformat() == "2018-06-14"
    assert licence.vin == "HHGHH555778802669"
    assert licence.owner is None
    assert licence.address is None


def test_example_lot_flags_vin_check_digit(example_result):
    codes = [flag.code for flag in example_result.appraisal.flags]
    assert "vin_check_digit_mismatch" in codes
    flag = next(flag for flag in example_result.appraisal.flags if flag.code == "vin_check_digit_mismatch")
    assert "HHGHH555778802669" in flag.message
    assert flag.evidence["expected"] == "1"
    assert flag.evidence["found"] == "7"


def test_example_lot_valuation(example_result):
    valuation = example_result.appraisal.valuation
    assert valuation.currency == "CNY"
    assert valuation.reference_value == 150000
    assert valuation.discount_lower <= valuation.discount <= valuation.discount_upper
    assert valuation.forecast.lower < valuation.forecast.discount < valuation.forecast.upper
    assert valuation.forecast.interval_level == 0.8
    # The example car is 8.4 years old, where the US-trained forecast exceeds the reference value:
    # the forecast is recentred on the reference value, keeps its spread, and is flagged.
    assert valuation.recentre_shift == pytest.approx(-valuation.forecast.discount, abs=1e-4)
    assert valuation.discount_lower >= 0
    assert valuation.discount_lower < valuation.discount < valuation.discount_upper
    assert valuation.expected_hammer_price < valuation.reference_value
    assert "forecast_above_reference" in [flag.code for flag in example_result.appraisal.flags]
    assert valuation.hammer_price_lower <= valuation.expected_hammer_price <= valuation.hammer_price_upper
    assert valuation.recommended_reserve_price <= valuation.expected_hammer_price
    assert valuation.recommended_reserve_price == (valuation.hammer_price_lower // 100) * 100


def test_example_lot_condition_reflects_damage(example_result):
    condition = example_result.appraisal.condition
    assert condition.score < 100
    assert condition.discount_adjustment > 0


def test_personal_fields_only_on_request():
    upload = read_lot_folder(EXAMPLE_LOT, include_personal=True)
    upload.photos = upload.photos[:1]
    result = get_appraiser().appraise(upload)
    licence = result.appraisal.documents[0].reading.vehicle_license
    assert licence.owner == "王京"
    assert licence.address == "北京市石景山区"


def test_personal_data_never_logged():
    import io
    import logging

    from vision_valuer.logs import JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("vision_valuer")
    previous_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        upload = read_lot_folder(EXAMPLE_LOT, include_personal=True)
        get_appraiser().appraise(upload)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous_level)

    logged = stream.getvalue()
    assert "appraisal finished" in logged
    for personal in ("王京", "北京市石景山区", "石景山"):
        assert personal not in logged
