"""Normalise field values read by OCR: plates, VINs, dates, engine numbers and Chinese text."""

import re
from datetime import date

from pydantic import BaseModel

# Province abbreviations of mainland plates, plus 使 and 领 for embassy and consulate plates.
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领"
PLATE_SUFFIXES = "挂学警港澳领使"

# Mainland plate serials do not use the letters I and O, and VINs exclude I, O and Q, so reading them
# there is taken as an OCR confusion with 1 and 0. None of the 244 labelled plate crops has one.
_SERIAL_CONFUSIONS = {"O": "0", "I": "1"}
_VIN_CONFUSIONS = {"O": "0", "I": "1", "Q": "0"}

_PLATE = re.compile(
    rf"([{PROVINCES}])([A-Z])([A-Z0-9]{{5,6}}|[A-Z0-9]{{4}}[{PLATE_SUFFIXES}])(?![A-Z0-9])"
)
_PLATE_NOISE = re.compile(r"[\s·•.\-_:：]")
_DATE = re.compile(r"((?:19|20)\d{2})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})")
_COMPACT_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})(\d{2})(\d{2})(?!\d)")
_DATE_CONFUSIONS = str.maketrans({"O": "0", "o": "0", "D": "0", "I": "1", "l": "1", "|": "1"})
_ALNUM_RUN = re.compile(r"[A-Z0-9]+")
_SPACE_BETWEEN_CJK = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")
_EDGE_PUNCTUATION = " \t:：;；,，.。-_|/\\"

EARLIEST_YEAR = 1950
# Shorter runs are engine numbers, model codes or fragments rather than a VIN read with errors.
MIN_VIN_RUN = 11


class VinReading(BaseModel):
    """A VIN taken from OCR text, with every character substitution that was applied."""

    text: str
    corrections: list[str]


def normalize_plate(text: str) -> str | None:
    """Extract a mainland plate (province, letter, 5 or 6 characters) from OCR text, or return None.

    I and O in the serial are read as 1 and 0, because plate serials never use those letters.
    """
    compact = _PLATE_NOISE.sub("", text).upper()
    match = _PLATE.search(compact)
    if match is None:
        return None

    province, authority, serial = match.groups()
    serial = "".join(_SERIAL_CONFUSIONS.get(char, char) for char in serial)
    return f"{province}{authority}{serial}"


def normalize_vin(text: str) -> VinReading | None:
    """Extract the VIN-like run of letters and digits from OCR text, or return None.

    Runs are taken both with the spaces as read ("VIN LSVAM4187C2184847") and with spaces and dashes
    removed ("LFV3A 23C8J 3043215"), and the run closest to 17 characters wins. Only I, O and Q are
    replaced (by 1, 0 and 0) because they cannot occur in a VIN, and each replacement is listed in
    `corrections`. A run of the wrong length is returned as read, so that the VIN check reports it
    instead of hiding it.
    """
    upper = text.upper()
    runs = _ALNUM_RUN.findall(upper) + _ALNUM_RUN.findall(re.sub(r"[\s\-·.]", "", upper))
    runs = [run for run in runs if len(run) >= MIN_VIN_RUN]
    if not runs:
        return None

    run = min(runs, key=lambda candidate: abs(len(candidate) - 17))

    characters = []
    corrections = []
    for position, char in enumerate(run, start=1):
        replacement = _VIN_CONFUSIONS.get(char)
        if replacement is None:
            characters.append(char)
        else:
            characters.append(replacement)
            corrections.append(f"{char}->{replacement} at position {position}")
    return VinReading(text="".join(characters), corrections=corrections)


def parse_date(text: str, *, latest: date | None = None) -> date | None:
    """Parse the first plausible date (2018-06-14, 2018.6.14, 2018年6月14日, 20180614), or return None.

    Dates before 1950 or after `latest` (default: today) are rejected as misreadings.
    """
    latest = latest or date.today()
    cleaned = text.translate(_DATE_CONFUSIONS)

    for pattern in (_DATE, _COMPACT_DATE):
        for match in pattern.finditer(cleaned):
            year, month, day = (int(group) for group in match.groups())
            try:
                value = date(year, month, day)
            except ValueError:
                continue
            if EARLIEST_YEAR <= value.year and value <= latest:
                return value
    return None


def normalize_code(text: str) -> str | None:
    """Normalise an engine number or model code: upper-case letters and digits, spaces removed."""
    code = re.sub(r"[^A-Z0-9\-]", "", text.upper()).strip("-")
    return code if len(code) >= 3 else None


def normalize_text(text: str) -> str | None:
    """Tidy a Chinese text value: drop spaces between Chinese characters and stray edge punctuation."""
    value = _SPACE_BETWEEN_CJK.sub("", text).strip(_EDGE_PUNCTUATION)
    return value or None
