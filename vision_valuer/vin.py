"""Validate a vehicle identification number (VIN) without changing it.

The position-9 check digit is the one of ISO 3779 VINs under 49 CFR 565 and GB 16735. Letters are
transliterated to numbers and each position is multiplied by a fixed weight. The sum modulo 11 is the
check digit, and a remainder of 10 is written "X".
"""

import re

from pydantic import BaseModel
from vininfo import Vin
from vininfo.exceptions import ValidationError as VininfoValidationError

VIN_LENGTH = 17
CHECK_DIGIT_INDEX = 8

# I, O and Q are excluded from VINs because they are too easily confused with 1 and 0.
VIN_ALPHABET = frozenset("ABCDEFGHJKLMNPRSTUVWXYZ0123456789")

TRANSLITERATION = {
    "A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6, "G": 7, "H": 8,
    "J": 1, "K": 2, "L": 3, "M": 4, "N": 5, "P": 7, "R": 9,
    "S": 2, "T": 3, "U": 4, "V": 5, "W": 6, "X": 7, "Y": 8, "Z": 9,
}  # fmt: skip
POSITION_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)

FLAG_INVALID_LENGTH = "vin_invalid_length"
FLAG_INVALID_CHARSET = "vin_invalid_charset"
FLAG_CHECK_DIGIT_MISMATCH = "vin_check_digit_mismatch"

_WHITESPACE = re.compile(r"\s+")


class VinCheck(BaseModel):
    """Result of validating one VIN: the text checked and each rule's outcome."""

    text: str
    length_ok: bool
    charset_ok: bool
    invalid_characters: list[str]
    check_digit_expected: str | None
    check_digit_found: str | None
    check_digit_ok: bool | None
    manufacturer: str | None = None
    country: str | None = None

    @property
    def valid(self) -> bool:
        """Whether the VIN has 17 valid characters and a matching check digit."""
        return self.length_ok and self.charset_ok and self.check_digit_ok is True

    def flag_codes(self) -> list[str]:
        """List the stable flag codes of the rules this VIN breaks, in a fixed order."""
        flags = []
        if not self.length_ok:
            flags.append(FLAG_INVALID_LENGTH)
        if not self.charset_ok:
            flags.append(FLAG_INVALID_CHARSET)
        if self.check_digit_ok is False:
            flags.append(FLAG_CHECK_DIGIT_MISMATCH)
        return flags


def compute_check_digit(vin: str) -> str | None:
    """Compute the ISO 3779 position-9 check digit, or None when `vin` is not 17 valid characters."""
    if len(vin) != VIN_LENGTH or not set(vin) <= VIN_ALPHABET:
        return None

    total = 0
    for char, weight in zip(vin, POSITION_WEIGHTS, strict=True):
        value = int(char) if char.isdigit() else TRANSLITERATION[char]
        total += value * weight

    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def check_vin(text: str) -> VinCheck:
    """Check the length, characters and check digit of a VIN as written.

    The text is only upper-cased and stripped of whitespace. An O stays an O and is reported, because
    silently turning it into 0 could produce a different, valid VIN.
    """
    vin = _WHITESPACE.sub("", text).upper()

    invalid_characters = []
    for char in vin:
        if char not in VIN_ALPHABET and char not in invalid_characters:
            invalid_characters.append(char)

    length_ok = len(vin) == VIN_LENGTH
    expected = compute_check_digit(vin)
    found = vin[CHECK_DIGIT_INDEX] if length_ok else None

    manufacturer, country = _look_up_manufacturer(vin) if expected is not None else (None, None)

    # NOTE: position 9 is a required check digit for vehicles made for China and North America, but not
    # every other manufacturer uses it. A mismatch on such a VIN is weaker evidence of a misread or forgery.
    return VinCheck(
        text=vin,
        length_ok=length_ok,
        charset_ok=not invalid_characters,
        invalid_characters=invalid_characters,
        check_digit_expected=expected,
        check_digit_found=found,
        check_digit_ok=None if expected is None else expected == found,
        manufacturer=manufacturer,
        country=country,
    )


def _look_up_manufacturer(vin: str) -> tuple[str | None, str | None]:
    """Look up the manufacturer and country of the WMI (first three characters) in vininfo's tables."""
    try:
        info = Vin(vin)
    except VininfoValidationError:
        return None, None

    manufacturer = info.manufacturer
    # vininfo returns the placeholder "UnsupportedBrand" for a WMI it does not know.
    if not manufacturer or manufacturer == "UnsupportedBrand":
        manufacturer = None
    return manufacturer, info.country
