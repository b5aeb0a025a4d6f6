"""Read the total distance (odometer) from the OCR lines of a dashboard photo.

Every digit run is a candidate unless it is a clock, a decimal (trip meter, consumption, temperature,
radio frequency), a range estimate or a speedometer scale label. Candidates score higher when "km" is
attached or a km / TOTAL / ODO caption is next to them, and when they have 5 or 6 digits.
"""

import re
from dataclasses import dataclass

import numpy as np

from vision_valuer.documents.layout import PlacedLine, place_lines
from vision_valuer.documents.ocr_engines import DEFAULT_ENGINE, OcrEngine, OcrLine, get_engine

# Odometers are assumed to show at most 7 integer digits, so a longer run contains a glued neighbour.
MAX_DIGITS = 7
# Shorter runs without a km unit or caption are mostly scale labels, clocks and gear or fuel displays.
# Drum counters show their leading zeros, so their readings still reach this length.
MIN_UNLABELLED_DIGITS = 4

# Mechanical (drum) counters in the measured photos have 5 integer wheels and a tenths wheel.
DRUM_INTEGER_WHEELS = 5

# Lines that carry another quantity than the total distance.
_EXCLUDED = re.compile(
    r"\d\s*[:：]\s*\d"  # clock
    r"|\d\s*[.,]\s*\d"  # decimal: trip meter, l/100 km, MHz
    r"|[℃°]|'\s*[cC]"  # temperature
    r"|/\s*h\b|/100|mph|rpm|x\s*1000|MHz|FM|AM\b"  # speed, consumption, revs, radio
    r"|menzil|range|avg|trip",  # range and averages ("Menzil" is range on Turkish clusters)
    re.IGNORECASE,
)
# "km" read as km, kn, ko, ka or a bare m at the end of a run.
_UNIT_SUFFIX = re.compile(r"(\d)\s*(k[a-z]?|m)\s*$", re.IGNORECASE)
_CAPTION = re.compile(r"^\s*(km|total|odo|总里程|里程)\s*$", re.IGNORECASE)
_DIGIT_GROUP = re.compile(r"\d+")


@dataclass(frozen=True)
class OdometerCandidate:
    """One possible total-distance reading and why it scored as it did."""

    km: int
    digits: str
    unit_attached: bool
    caption_nearby: bool
    height: float

    @property
    def score(self) -> float:
        """Evidence that this is the total distance: a unit or caption, and a typical digit count."""
        score = 3.0 * self.unit_attached + 2.0 * self.caption_nearby
        if 5 <= len(str(self.km)) <= 6:
            score += 1.0
        return score


def read_odometer(rgb: np.ndarray, *, engine: OcrEngine | str | None = None) -> int | None:
    """Read the total distance in km from a dashboard photo, or return None when none is found."""
    if engine is None or isinstance(engine, str):
        engine = get_engine(engine or DEFAULT_ENGINE)
    return parse_odometer(engine.read(rgb))


def parse_odometer(lines: list[OcrLine]) -> int | None:
    """Pick the total distance in km from OCR lines of a dashboard, or return None."""
    candidates = find_candidates(lines)
    if not candidates:
        return None

    best = max(candidates, key=lambda c: (c.score, len(str(c.km)), c.height))
    return best.km


def find_candidates(lines: list[OcrLine]) -> list[OdometerCandidate]:
    """List every digit run in the lines that could be the total distance."""
    placed = place_lines(lines)
    captions = [item for item in placed if _CAPTION.match(item.line.text)]

    candidates = []
    for item in placed:
        text = item.line.text
        if _EXCLUDED.search(text):
            continue

        unit_attached = _UNIT_SUFFIX.search(text) is not None
        digits = _number_before_unit(text) if unit_attached else _longest_run(text)
        if digits is None or len(digits) < 2 or _is_scale_labels(digits):
            continue

        caption_nearby = any(_is_next_to(caption, item) for caption in captions)
        labelled = unit_attached or caption_nearby
        if not labelled and (len(digits) < MIN_UNLABELLED_DIGITS or _looks_like_clock(digits)):
            continue

        if not labelled and digits.startswith("0"):
            km = _drum_reading(digits)
        else:
            # In the measured photos OCR glued scale labels on the left of a reading ("30115586"), not
            # on the right, so the rightmost digits are kept.
            km = int(digits[-MAX_DIGITS:])
        candidates.append(OdometerCandidate(km, digits, unit_attached, caption_nearby, item.height))
    return candidates


def _number_before_unit(text: str) -> str | None:
    """Join the digit groups that end at the unit, from the right, up to MAX_DIGITS digits.

    Clusters space the digits ("16 1350km") and OCR may glue a scale label on the left
    ("100 162 166km"), so groups are added right to left while the number still fits.
    """
    head = text[: _UNIT_SUFFIX.search(text).start(2)]
    groups = _DIGIT_GROUP.findall(head)
    if not groups:
        return None

    digits = groups[-1][-MAX_DIGITS:]
    for group in reversed(groups[:-1]):
        if len(group) + len(digits) > MAX_DIGITS:
            break
        digits = group + digits
    return digits


def _longest_run(text: str) -> str | None:
    """Return the longest digit run of a line, accepting single spaces inside it."""
    runs = re.findall(r"\d+(?: \d+)*", text)
    if not runs:
        return None
    return max(runs, key=len).replace(" ", "")


def _drum_reading(digits: str) -> int:
    """Drop the tenths wheel of a mechanical counter, recognised by its leading zeros.

    The tenths wheel turns continuously and often shows two half digits, so everything after the
    integer wheels is dropped, not only the last digit.
    """
    # NOTE: assumes 5 integer wheels, as on the scooter and motorcycle counters in the measured
    # photos. A car counter with 6 integer wheels would read 10 times too low.
    if len(digits) > DRUM_INTEGER_WHEELS:
        return int(digits[:DRUM_INTEGER_WHEELS])
    return int(digits)


def _is_scale_labels(digits: str) -> bool:
    """Tell whether the digits are speedometer or tachometer scale labels run together ("100120", "3040").

    Scale labels are multiples of 10 up to 400 with a constant step of at most 40.
    """
    if len(digits) <= 3:
        return int(digits) % 10 == 0 and int(digits) <= 400

    for first_length in (2, 3):
        parts = _split_scale(digits, first_length)
        if parts and len(parts) >= 2:
            steps = {b - a for a, b in zip(parts, parts[1:], strict=False)}
            if len(steps) == 1 and 0 < steps.pop() <= 40:
                return True
    return False


def _split_scale(digits: str, first_length: int) -> list[int] | None:
    """Split the digits into increasing multiples of 10, each one at most 400, or return None."""
    parts = [int(digits[:first_length])]
    rest = digits[first_length:]
    while rest:
        for length in (2, 3):
            value = int(rest[:length]) if len(rest) >= length else -1
            if value > parts[-1] and value % 10 == 0 and value <= 400 and not rest.startswith("0"):
                parts.append(value)
                rest = rest[length:]
                break
        else:
            return None
    if parts[0] % 10 or parts[0] > 400:
        return None
    return parts


def _looks_like_clock(digits: str) -> bool:
    """Tell whether 3 or 4 digits read as a time of day without its colon (1038 for 10:38)."""
    if len(digits) not in (3, 4):
        return False
    hours, minutes = int(digits[:-2]), int(digits[-2:])
    return hours <= 23 and minutes <= 59


def _is_next_to(caption: PlacedLine, item: PlacedLine) -> bool:
    """Tell whether a km / TOTAL caption sits beside, above or below a reading."""
    height = max(item.height, caption.height)
    same_row = abs(caption.cy - item.cy) <= 0.8 * height
    beside = same_row and -height <= caption.x0 - item.x1 <= 3 * height
    before = same_row and -height <= item.x0 - caption.x1 <= 3 * height
    overlaps_horizontally = caption.x0 <= item.x1 + height and item.x0 <= caption.x1 + height
    stacked = overlaps_horizontally and abs(caption.cy - item.cy) <= 2.0 * height
    return beside or before or stacked
