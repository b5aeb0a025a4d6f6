"""VIN validation: length, character set and the ISO 3779 position-9 check digit."""

import pytest

from vision_valuer.vin import check_vin, compute_check_digit


def test_valid_vin_has_no_flags():
    check = check_vin("LFV3A23C8J3043215")

    assert check.text == "LFV3A23C8J3043215"
    assert check.length_ok
    assert check.charset_ok
    assert check.check_digit_expected == "8"
    assert check.check_digit_found == "8"
    assert check.check_digit_ok is True
    assert check.valid
    assert check.flag_codes() == []


def test_letter_o_is_invalid_charset():
    check = check_vin("LFV3A23C8J3O43215")

    assert check.text == "LFV3A23C8J3O43215"
    assert not check.charset_ok
    assert check.invalid_characters == ["O"]
    assert check.check_digit_expected is None
    assert check.check_digit_ok is None
    assert not check.valid
    assert check.flag_codes() == ["vin_invalid_charset"]


def test_licence_specimen_fails_check_digit():
    # Hand computation: H8·8 + H8·7 + G7·6 + H8·5 + H8·4 + 5·3 + 5·2 + 5·10 + 7·0 + 7·9 + 8·8 + 8·7
    # + 0·6 + 2·5 + 6·4 + 6·3 + 9·2 = 562, and 562 mod 11 = 1, but position 9 is 7.
    check = check_vin("HHGHH555778802669")

    assert check.length_ok
    assert check.charset_ok
    assert check.check_digit_expected == "1"
    assert check.check_digit_found == "7"
    assert check.check_digit_ok is False
    assert not check.valid
    assert check.flag_codes() == ["vin_check_digit_mismatch"]


def test_remainder_ten_is_written_x():
    # A North American VIN whose remainder is 10: 1·8 + M4·7 + 8·6 + G7·5 + D4·4 + M4·3 + 9·2 + A1·10
    # + X·0 + K2·9 + P7·8 + 0·7 + 4·6 + 2·5 + 7·4 + 8·3 + 8·2 = 351, and 351 mod 11 = 10, written "X".
    check = check_vin("1M8GDM9AXKP042788")

    assert check.check_digit_expected == "X"
    assert check.check_digit_found == "X"
    assert check.valid


def test_saic_vin_passes_check_digit():
    # L3·8 + S2·7 + V5·6 + A1·5 + M4·4 + 4·3 + 1·2 + 8·10 + 7·0 + C3·9 + 2·8 + 1·7 + 8·6 + 4·5 + 8·4
    # + 4·3 + 7·2 = 359, and 359 mod 11 = 7.
    check = check_vin("LSVAM4187C2184847")

    assert check.check_digit_expected == "7"
    assert check.valid
    assert check.manufacturer == "SAIC Volkswagen"
    assert check.country == "China"


def test_one_changed_character_breaks_check_digit():
    # The valid LFV3A23C8J3043215 sums to 250. A last digit of 6 instead of 5 adds 2 (weight 2), and
    # 252 mod 11 = 10, so the expected check digit becomes "X".
    check = check_vin("LFV3A23C8J3043216")

    assert check.check_digit_expected == "X"
    assert check.check_digit_found == "8"
    assert check.flag_codes() == ["vin_check_digit_mismatch"]


def test_lower_case_and_spaces_are_normalised():
    check = check_vin(" lfv3a23c8j3 043215 ")

    assert check.text == "LFV3A23C8J3043215"
    assert check.valid


def test_short_vin_is_invalid_length():
    check = check_vin("LFV3A23C8J304321")

    assert not check.length_ok
    assert check.check_digit_found is None
    assert check.check_digit_ok is None
    assert check.flag_codes() == ["vin_invalid_length"]


def test_long_vin_has_two_flags():
    check = check_vin("LFV3A23C8J3043215IQ")

    assert check.invalid_characters == ["I", "Q"]
    assert check.flag_codes() == ["vin_invalid_length", "vin_invalid_charset"]


def test_punctuation_is_invalid_charset():
    check = check_vin("LFV3A23C8J304321-")

    assert check.invalid_characters == ["-"]
    assert check.flag_codes() == ["vin_invalid_charset"]


def test_text_is_never_corrected():
    # O→0 would give the valid LFV3A23C8J3043215. The check must report the O, not repair it.
    check = check_vin("LFV3A23C8J3O43215")

    assert check.text == "LFV3A23C8J3O43215"


def test_unknown_manufacturer_is_none():
    assert check_vin("HHGHH555778802669").manufacturer is None


@pytest.mark.parametrize(
    ("vin", "expected"),
    [
        ("LFV3A23C8J3043215", "8"),
        ("HHGHH555778802669", "1"),
        ("1M8GDM9AXKP042788", "X"),
        ("11111111111111111", "1"),
        ("LFV3A23C8J3O43215", None),
        ("LFV3A23C8", None),
    ],
)
def test_compute_check_digit(vin, expected):
    assert compute_check_digit(vin) == expected
