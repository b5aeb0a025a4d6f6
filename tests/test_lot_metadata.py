"""Tests for vision_valuer.lot_metadata on the bad-input corpus and on documents built in the tests."""

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.helpers import BAD_INPUTS, expected_rows
from vision_valuer.errors import InvalidLotMetadata
from vision_valuer.lot_metadata import (
    MAX_LOT_BYTES,
    MILEAGE_KM_MAX,
    REFERENCE_VALUE_MAX,
    LotMetadata,
    ParsedLot,
    parse_lot_metadata,
)

LOT_ROWS = expected_rows("lots/")
GOOD = json.loads((BAD_INPUTS / "lots" / "good.json").read_text(encoding="utf-8"))

# Tokens about flags that the pipeline sets after parsing. The parser only has to accept these lots.
PIPELINE_TOKENS = frozenset({"flag", "no_flags"})


def row_id(row: dict) -> str:
    return Path(row["path"]).name


def check_tokens(row: dict) -> list[tuple[str, str]]:
    return [tuple(token.partition("=")[::2]) for token in row["check"].split(";") if token]


def has_cjk(text: str) -> bool:
    return any("\u4e00" <= character <= "\u9fff" for character in text)


def lot_bytes(**changes) -> bytes:
    """Encode the corpus's complete lot with some fields replaced. A value of ... removes the field."""
    document = {key: value for key, value in {**GOOD, **changes}.items() if value is not ...}
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def rejected_field(data: bytes) -> str | None:
    with pytest.raises(InvalidLotMetadata) as raised:
        parse_lot_metadata(data)
    assert raised.value.code == "invalid_lot_metadata"
    return raised.value.field


def test_corpus_has_lot_rows():
    assert len(LOT_ROWS) >= 16


@pytest.mark.parametrize("row", [row for row in LOT_ROWS if row["expected"] == "ok"], ids=row_id)
def test_lot_corpus_ok(row):
    data = (BAD_INPUTS / row["path"]).read_bytes()
    document = json.loads(data.decode("utf-8-sig"))

    parsed = parse_lot_metadata(data)

    assert isinstance(parsed, ParsedLot)
    # An accepted lot keeps its declared VIN even when the VIN is invalid: the pipeline flags it.
    assert parsed.metadata.declared_vin == document["declared_vin"]
    assert parsed.metadata.reference_value == document["reference_value"]
    for key, value in check_tokens(row):
        if key == "region":
            assert parsed.metadata.region == value
        elif key == "ignored":
            assert value in parsed.ignored_fields
        else:
            assert key in PIPELINE_TOKENS, f"unknown check token {key!r}"


@pytest.mark.parametrize("row", [row for row in LOT_ROWS if row["expected"] != "ok"], ids=row_id)
def test_lot_corpus_error(row):
    with pytest.raises(InvalidLotMetadata) as raised:
        parse_lot_metadata((BAD_INPUTS / row["path"]).read_bytes())
    error = raised.value

    assert error.code == row["expected"]
    assert error.message
    assert has_cjk(error.message_zh)
    for key, value in check_tokens(row):
        assert key == "field", f"unknown check token {key!r}"
        assert error.field in value.split("|")
        if error.field != "$":
            assert error.field in error.message
            assert error.field in error.message_zh


def test_good_lot_values():
    parsed = parse_lot_metadata((BAD_INPUTS / "lots" / "good.json").read_bytes())
    lot = parsed.metadata

    assert lot.reference_value == 120000
    assert lot.currency == "CNY"
    assert lot.sale_date == date(2026, 11, 20)
    assert lot.declared_vin == "LFV3A23C8J3043215"
    assert lot.mileage_km == 86000
    assert lot.first_registration == date(2018, 6, 14)
    assert lot.region == "北京"
    assert parsed.ignored_fields == []


def test_bom_parses_like_plain_utf8():
    plain = parse_lot_metadata((BAD_INPUTS / "lots" / "good.json").read_bytes())
    with_bom = parse_lot_metadata((BAD_INPUTS / "lots" / "utf8_bom.json").read_bytes())

    assert with_bom == plain


def test_invalid_vin_accepted_and_normalised():
    parsed = parse_lot_metadata(lot_bytes(declared_vin="  lfv3a23c8j3o43215 \n"))

    assert parsed.metadata.declared_vin == "LFV3A23C8J3O43215"


def test_optional_fields_may_be_absent():
    parsed = parse_lot_metadata(b'{"reference_value": 95000.5, "currency": "USD"}')
    lot = parsed.metadata

    assert lot.reference_value == 95000.5
    assert lot.currency == "USD"
    assert lot.sale_date is None
    assert lot.declared_vin is None
    assert lot.mileage_km is None
    assert lot.first_registration is None
    assert lot.region is None


def test_optional_fields_may_be_null():
    parsed = parse_lot_metadata(lot_bytes(sale_date=None, declared_vin=None, mileage_km=None, region=None))

    assert parsed.metadata.sale_date is None
    assert parsed.metadata.mileage_km is None


def test_unknown_fields_listed_in_order():
    parsed = parse_lot_metadata(lot_bytes(zz_last="x", paint_color="白", seats=5))

    assert parsed.ignored_fields == ["zz_last", "paint_color", "seats"]


def test_stored_lot_validates_again():
    # The store writes appraisals, lot included, as JSON and validates them again on reading.
    lot = parse_lot_metadata((BAD_INPUTS / "lots" / "good.json").read_bytes()).metadata

    assert LotMetadata.model_validate_json(lot.model_dump_json()) == lot


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reference_value": ...}, "reference_value"),
        ({"currency": ...}, "currency"),
        ({"reference_value": "120000"}, "reference_value"),
        ({"reference_value": False}, "reference_value"),
        ({"reference_value": None}, "reference_value"),
        ({"reference_value": [120000]}, "reference_value"),
        ({"reference_value": -0.0}, "reference_value"),
        ({"currency": "cny"}, "currency"),
        ({"currency": "HRK"}, "currency"),
        ({"currency": "XAU"}, "currency"),
        ({"currency": 156}, "currency"),
        ({"sale_date": 1795132800}, "sale_date"),
        ({"sale_date": "2026/11/20"}, "sale_date"),
        ({"sale_date": "2026-11-20T10:00:00"}, "sale_date"),
        ({"first_registration": "2018-02-30"}, "first_registration"),
        ({"mileage_km": "86000"}, "mileage_km"),
        ({"mileage_km": 86000.5}, "mileage_km"),
        ({"mileage_km": True}, "mileage_km"),
        ({"mileage_km": MILEAGE_KM_MAX + 1}, "mileage_km"),
        ({"declared_vin": 12345678901234567}, "declared_vin"),
        ({"region": 110000}, "region"),
        ({"region": "北" * 101}, "region"),
    ],
)
def test_invalid_field_named(changes, field):
    assert rejected_field(lot_bytes(**changes)) == field


def test_reference_value_cap_is_inclusive():
    assert parse_lot_metadata(lot_bytes(reference_value=REFERENCE_VALUE_MAX)).metadata.reference_value == 1e13
    assert rejected_field(lot_bytes(reference_value=REFERENCE_VALUE_MAX * 1.01)) == "reference_value"


def test_mileage_bounds_are_inclusive():
    assert parse_lot_metadata(lot_bytes(mileage_km=0)).metadata.mileage_km == 0
    assert parse_lot_metadata(lot_bytes(mileage_km=MILEAGE_KM_MAX)).metadata.mileage_km == MILEAGE_KM_MAX


def test_sale_on_registration_day_accepted():
    parsed = parse_lot_metadata(lot_bytes(sale_date="2018-06-14"))

    assert parsed.metadata.sale_date == parsed.metadata.first_registration


@pytest.mark.parametrize("literal", ["Infinity", "-Infinity", "NaN", "1e400"])
def test_non_finite_reference_value_rejected(literal):
    data = lot_bytes().replace(b"120000", literal.encode(), 1)

    assert rejected_field(data) == "reference_value"


def test_nan_in_unknown_field_rejected():
    data = lot_bytes(paint_color=0).replace(b'"paint_color": 0', b'"paint_color": NaN')

    assert rejected_field(data) in ("paint_color", "$")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   ",
        b"null",
        b"42",
        b'"lot"',
        b"[]",
        "{'reference_value': 1}".encode(),
        '{"reference_value": 120000, "currency": "CNY", "region": "北京"}'.encode("gbk"),
        '{"reference_value": 120000, "currency": "CNY"}'.encode("utf-16"),
        b'{"reference_value": 120000, "currency": "CNY", "x": ' + b"[" * 20000 + b"]" * 20000 + b"}",
        b'{"reference_value": 1' + b"0" * 5000 + b', "currency": "CNY"}',
    ],
    ids=[
        "empty", "blank", "null", "number", "string", "array",
        "single-quotes", "gbk", "utf-16", "deep", "long-int",
    ],  # fmt: skip
)
def test_unusable_document_rejected_as_whole(data):
    assert rejected_field(data) == "$"


def test_duplicate_key_rejected():
    data = b'{"reference_value": 1, "currency": "CNY", "reference_value": 9000000000}'

    assert rejected_field(data) in ("reference_value", "$")


def test_document_size_limit_is_inclusive():
    body = lot_bytes()
    at_limit = body[:-1] + b" " * (MAX_LOT_BYTES - len(body)) + b"}"

    assert len(at_limit) == MAX_LOT_BYTES
    assert parse_lot_metadata(at_limit).metadata.currency == "CNY"
    assert rejected_field(at_limit[:-1] + b" }") == "$"


def test_error_message_shows_value_and_fix():
    with pytest.raises(InvalidLotMetadata) as raised:
        parse_lot_metadata(lot_bytes(currency="RMB"))

    assert "RMB" in raised.value.message
    assert "CNY" in raised.value.message
    assert "RMB" in raised.value.message_zh


def test_lower_case_currency_gets_hint():
    with pytest.raises(InvalidLotMetadata) as raised:
        parse_lot_metadata(lot_bytes(currency="cny"))

    assert raised.value.field == "currency"
    assert 'write it as "CNY"' in raised.value.message
    assert '请写作 "CNY"' in raised.value.message_zh


@pytest.mark.parametrize("code", ["CNY", "USD", "EUR", "HKD", "JPY", "XCG", "ZWG", "XOF"])
def test_current_currency_accepted(code):
    assert parse_lot_metadata(lot_bytes(currency=code)).metadata.currency == code


@pytest.mark.parametrize("code", ["BGN", "ZWL", "XTS", "XXX", "CHE"])
def test_withdrawn_or_non_money_currency_rejected(code):
    # BGN and ZWL are withdrawn (absent from the current ISO 4217 list). XTS, XXX and the fund code CHE
    # are not money.
    assert rejected_field(lot_bytes(currency=code)) == "currency"


@pytest.mark.parametrize("text", ["2026-W47-5", "20261120", "２０２６-１１-２０", "1899-12-31", "2101-01-01"])
def test_date_outside_format_or_range_rejected(text):
    assert rejected_field(lot_bytes(sale_date=text)) == "sale_date"


def test_sale_before_registration_names_both_dates():
    with pytest.raises(InvalidLotMetadata) as raised:
        parse_lot_metadata((BAD_INPUTS / "lots" / "sale_before_registration.json").read_bytes())

    assert "2017-05-01" in raised.value.message
    assert "2018-06-14" in raised.value.message


def test_huge_integer_rejected_with_short_message():
    data = lot_bytes().replace(b"120000", b"9" * 400, 1)

    with pytest.raises(InvalidLotMetadata) as raised:
        parse_lot_metadata(data)

    assert raised.value.field == "reference_value"
    assert len(raised.value.message) < 200


@pytest.mark.parametrize("region", ["\\ud800", "\\u0000", "line\\nbreak"])
def test_unstorable_text_rejected(region):
    # A lone surrogate cannot be written as UTF-8 when the appraisal is stored, and control characters
    # would reach logs and reports.
    data = lot_bytes(region="@@").replace(b'"@@"', f'"{region}"'.encode())

    assert rejected_field(data) == "region"


def test_key_with_lone_surrogate_rejected():
    data = lot_bytes().replace(b"{", b'{"\\udc00": 1, ', 1)

    assert rejected_field(data) == "$"


def test_nan_in_unknown_field_names_that_field():
    data = lot_bytes(paint_color=0).replace(b'"paint_color": 0', b'"paint_color": [1, {"shade": NaN}]')

    assert rejected_field(data) == "paint_color"


def test_utf16_document_message_names_encoding():
    with pytest.raises(InvalidLotMetadata) as raised:
        parse_lot_metadata(lot_bytes().decode("utf-8").encode("utf-16"))

    assert "UTF-16" in raised.value.message
    assert "UTF-8" in raised.value.message_zh


def test_malformed_json_message_gives_position():
    with pytest.raises(InvalidLotMetadata) as raised:
        parse_lot_metadata((BAD_INPUTS / "lots" / "malformed.json").read_bytes())

    assert "line 9, column 1" in raised.value.message
    assert "第 9 行第 1 列" in raised.value.message_zh


def test_model_validates_python_values():
    lot = LotMetadata(reference_value=5, currency="USD", sale_date=date(2026, 1, 1), declared_vin=" abc ")

    assert lot.reference_value == 5.0
    assert lot.sale_date == date(2026, 1, 1)
    assert lot.declared_vin == "ABC"
    with pytest.raises(ValidationError):
        LotMetadata(reference_value=5, currency="USD", sale_date=datetime(2026, 1, 1, 9, 30))


def test_absurd_declared_vin_rejected():
    with pytest.raises(InvalidLotMetadata) as raised:
        parse_lot_metadata(b'{"reference_value": 1000, "currency": "CNY", "declared_vin": "' + b"A" * 60000 + b'"}')
    assert raised.value.field == "declared_vin"
