"""Parse the OCR lines of a 行驶证 (PRC vehicle licence) main page into typed fields.

Each field is found by its printed label (号牌号码, 车辆类型, …). Its value is the text to the right of
the label on the same row, whether OCR returned both in one box or in separate boxes. Where the
Chinese label was not read, the English caption under it (Plate No., Vehicle Type, …) locates the value
in the row above it. No coordinates of any particular specimen are used.
"""

import re
from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel

from vision_valuer.documents import fields
from vision_valuer.documents.layout import PlacedLine, group_rows, place_lines
from vision_valuer.documents.ocr_engines import OcrLine
from vision_valuer.vin import VinCheck, check_vin

PERSONAL_FIELDS = ("owner", "address")

# A value may continue into the next box of its row if the gap is at most this many text heights, and
# the first value box may start at most FIRST_GAP heights after its label.
CONTINUATION_GAP = 2.0
FIRST_GAP = 5.0
# The centre of a value row lies within this many caption heights above its English caption.
CAPTION_ROW_DISTANCE = 1.5


class VehicleLicense(BaseModel):
    """Fields of a 行驶证 main page. Owner and address are personal data, filled only on request."""

    plate: str | None
    vehicle_type: str | None
    brand_model: str | None
    vin: str | None
    engine_no: str | None
    register_date: date | None
    issue_date: date | None
    use_character: str | None
    owner: str | None = None
    address: str | None = None
    vin_check: VinCheck | None
    # Substitutions applied to the VIN as read, such as "O->0 at position 12".
    vin_corrections: list[str] = []


@dataclass(frozen=True)
class FieldLabel:
    field: str
    chinese: str
    english: str


LABELS = (
    FieldLabel("plate", "号牌号码", r"plate\s*no\.?"),
    FieldLabel("vehicle_type", "车辆类型", r"vehicle\s*type"),
    FieldLabel("owner", "所有人", r"owner"),
    FieldLabel("address", "住址", r"add?re?s*e?s*"),
    FieldLabel("use_character", "使用性质", r"use\s*character"),
    FieldLabel("brand_model", "品牌型号", r"model"),
    FieldLabel("vin", "车辆识别代号", r"vin"),
    FieldLabel("engine_no", "发动机号码", r"engine\s*no\.?"),
    FieldLabel("register_date", "注册日期", r"regist\w*\s*date"),
    FieldLabel("issue_date", "发证日期", r"issue\s*date"),
)

# Number of Chinese labels that must be read before a page is treated as a 行驶证.
MIN_LABELS_FOR_LICENSE = 3


@dataclass(frozen=True)
class LabelMatch:
    field: str
    start: int
    end: int
    exact: bool


def _label_patterns(label: str) -> list[re.Pattern]:
    """Build the exact pattern for a label and, for labels of 3+ characters, one per misread character.

    OCR often misreads one character of a label printed over a hologram (所得人 for 所有人), so one
    wrong character is tolerated. Two-character labels must match exactly.
    """
    spaced = r"\s*".join(re.escape(char) for char in label)
    patterns = [re.compile(spaced)]
    if len(label) >= 3:
        for position in range(len(label)):
            chars = [re.escape(char) for char in label]
            chars[position] = r"[^\s\dA-Za-z]"
            patterns.append(re.compile(r"\s*".join(chars)))
    return patterns


_PATTERNS = {label.field: _label_patterns(label.chinese) for label in LABELS}
_ENGLISH_CAPTION = re.compile(
    r"^\s*(" + "|".join(label.english for label in LABELS) + r")\s*$", re.IGNORECASE
)
_ENGLISH_BY_FIELD = {label.field: re.compile(rf"^\s*{label.english}\s*$", re.IGNORECASE) for label in LABELS}


def find_labels(text: str) -> list[LabelMatch]:
    """Find non-overlapping label occurrences in a text, exact matches first, in text order."""
    candidates = []
    for field, patterns in _PATTERNS.items():
        for index, pattern in enumerate(patterns):
            for match in pattern.finditer(text):
                candidates.append(LabelMatch(field, match.start(), match.end(), exact=index == 0))

    chosen: list[LabelMatch] = []
    for candidate in sorted(candidates, key=lambda m: (not m.exact, -(m.end - m.start), m.start)):
        overlaps = any(candidate.start < other.end and other.start < candidate.end for other in chosen)
        already_found = any(candidate.field == other.field for other in chosen)
        if not overlaps and not already_found:
            chosen.append(candidate)
    return sorted(chosen, key=lambda m: m.start)


def count_labels(lines: list[OcrLine]) -> int:
    """Count the distinct 行驶证 field labels present in the OCR text."""
    text = "".join(line.text for line in lines)
    return len({match.field for match in find_labels(text)})


def parse_vehicle_license(lines: list[OcrLine], *, include_personal: bool = False) -> VehicleLicense:
    """Parse the OCR lines of a 行驶证 main page. Owner and address are filled only with `include_personal`."""
    raw = _values_by_chinese_label(lines)
    for field, value in _values_by_english_caption(lines, missing=set(_PATTERNS) - set(raw)).items():
        raw[field] = value

    vin_reading = fields.normalize_vin(raw["vin"]) if "vin" in raw else None
    brand_model = re.sub(r"\s+", "", raw.get("brand_model", ""))

    license_fields = {
        "plate": fields.normalize_plate(raw["plate"]) if "plate" in raw else None,
        "vehicle_type": fields.normalize_text(raw.get("vehicle_type", "")),
        "brand_model": brand_model or None,
        "vin": vin_reading.text if vin_reading else None,
        "engine_no": fields.normalize_code(raw["engine_no"]) if "engine_no" in raw else None,
        "register_date": fields.parse_date(raw["register_date"]) if "register_date" in raw else None,
        "issue_date": fields.parse_date(raw["issue_date"]) if "issue_date" in raw else None,
        "use_character": fields.normalize_text(raw.get("use_character", "")),
        "vin_check": check_vin(vin_reading.text) if vin_reading else None,
        "vin_corrections": vin_reading.corrections if vin_reading else [],
    }

    if include_personal:
        license_fields["owner"] = fields.normalize_text(raw.get("owner", ""))
        license_fields["address"] = fields.normalize_text(raw.get("address", ""))

    return VehicleLicense(**license_fields)


def missing_fields(license: VehicleLicense, *, include_personal: bool) -> list[str]:
    """List the fields that were not read. Personal fields count only when they were requested."""
    names = [label.field for label in LABELS]
    if not include_personal:
        names = [name for name in names if name not in PERSONAL_FIELDS]
    return [name for name in names if getattr(license, name) is None]


def fill_missing(first: VehicleLicense, second: VehicleLicense) -> VehicleLicense:
    """Fill the fields that `first` lacks from `second`. A VIN moves with its check and corrections."""
    update = {}
    for label in LABELS:
        if getattr(first, label.field) is None and getattr(second, label.field) is not None:
            update[label.field] = getattr(second, label.field)

    if "vin" in update:
        update["vin_check"] = second.vin_check
        update["vin_corrections"] = second.vin_corrections
    return first.model_copy(update=update)


def _values_by_chinese_label(lines: list[OcrLine]) -> dict[str, str]:
    """Collect, per field, the raw text right of its Chinese label on the same row."""
    values: dict[str, str] = {}
    content = [line for line in lines if not _ENGLISH_CAPTION.match(line.text)]

    for row in group_rows(content):
        # Join the row's boxes with one space and remember where each box sits in the joined text.
        spans = []
        text = ""
        for placed in row:
            if text:
                text += " "
            spans.append((placed, len(text), len(text) + len(placed.line.text)))
            text += placed.line.text

        labels = find_labels(text)
        for index, label in enumerate(labels):
            if label.field in values:
                continue
            value_end = labels[index + 1].start if index + 1 < len(labels) else len(text)
            value = _value_after(label.end, value_end, spans, text)
            if value:
                values[label.field] = value
    return values


def _value_after(start: int, end: int, spans: list[tuple[PlacedLine, int, int]], text: str) -> str:
    """Return the row text between a label and the next label, stopping at a wide gap between boxes."""
    pieces = []
    previous: PlacedLine | None = None
    label_box: PlacedLine | None = None

    for placed, box_start, box_end in spans:
        if box_end <= start:
            label_box = placed
            continue
        if box_start >= end:
            break

        if box_start < start:
            # The label and the first part of the value are in the same OCR box.
            previous = placed
            pieces.append(text[start:min(box_end, end)])
            continue

        reference = previous or label_box
        if reference is not None:
            limit = (CONTINUATION_GAP if previous else FIRST_GAP) * reference.height
            if placed.x0 - reference.x1 > limit:
                break
        pieces.append(text[box_start:min(box_end, end)])
        previous = placed

    return " ".join(piece.strip() for piece in pieces if piece.strip())


def _values_by_english_caption(lines: list[OcrLine], missing: set[str]) -> dict[str, str]:
    """Find values of missing fields in the row just above their English caption.

    On a 行驶证 the English caption is printed under the Chinese label, so the value sits above the
    caption and to the right of where the caption ends.
    """
    placed_lines = place_lines(lines)
    values: dict[str, str] = {}

    for field in sorted(missing):
        caption_pattern = _ENGLISH_BY_FIELD[field]
        captions = [placed for placed in placed_lines if caption_pattern.match(placed.line.text)]
        if len(captions) != 1:
            continue
        caption = captions[0]

        candidates = [
            placed
            for placed in placed_lines
            if caption.y0 - CAPTION_ROW_DISTANCE * caption.height <= placed.cy < caption.y0
            and caption.x1 - caption.height <= placed.x0 <= caption.x1 + FIRST_GAP * caption.height
            and not _ENGLISH_CAPTION.match(placed.line.text)
            and not find_labels(placed.line.text)
        ]
        if candidates:
            values[field] = min(candidates, key=lambda placed: placed.x0).line.text
    return values
