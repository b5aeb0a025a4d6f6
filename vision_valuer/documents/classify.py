"""Tell which kind of document a photo shows from keywords in its OCR text."""

import re
from typing import Literal

from vision_valuer.documents.ocr_engines import OcrLine
from vision_valuer.documents.odometer import find_candidates
from vision_valuer.documents.vehicle_license import MIN_LABELS_FOR_LICENSE, count_labels

DocumentKind = Literal["vehicle_license", "registration_certificate", "vin_plate", "odometer", "unknown"]

_LICENSE_TITLE = re.compile(r"行驶证|vehiclelicense", re.IGNORECASE)
_CERTIFICATE_TITLE = re.compile(r"登记证书|机动车登记|registrationcertificate", re.IGNORECASE)
# 17 letters and digits with at least one of each. I, O and Q are allowed because OCR confuses them
# with 1 and 0; the VIN check reports them later.
_VIN_TOKEN = re.compile(r"(?<![A-Z0-9])(?=[A-Z0-9]*[A-Z])(?=[A-Z0-9]*\d)[A-Z0-9]{17}(?![A-Z0-9])")
_DASHBOARD_CUE = re.compile(r"km|mph|odo|total|rpm|里程|\d{1,2}:\d{2}", re.IGNORECASE)


def classify_document(lines: list[OcrLine]) -> DocumentKind:
    """Classify a photo as 行驶证, 登记证书, VIN plate, odometer or unknown from its OCR lines.

    Title keywords win; a 行驶证 whose title was not read is still recognised by its field labels.
    A VIN plate is a photo with a 17-character VIN-like token and no licence labels. An odometer is a
    photo with a plausible total-distance reading and a dashboard cue (km, mph, ODO, TOTAL, rpm or a
    clock).
    """
    compact = "".join(re.sub(r"\s+", "", line.text) for line in lines)

    if _LICENSE_TITLE.search(compact):
        return "vehicle_license"
    if _CERTIFICATE_TITLE.search(compact):
        return "registration_certificate"
    if count_labels(lines) >= MIN_LABELS_FOR_LICENSE:
        return "vehicle_license"

    if any(_has_vin_token(line.text) for line in lines):
        return "vin_plate"

    if find_candidates(lines) and _DASHBOARD_CUE.search(" ".join(line.text for line in lines)):
        return "odometer"
    return "unknown"


def _has_vin_token(text: str) -> bool:
    """Tell whether a line contains a VIN-like token, as spaced by OCR or with its spaces removed."""
    upper = text.upper()
    return bool(_VIN_TOKEN.search(upper) or _VIN_TOKEN.search(re.sub(r"[\s\-·.]", "", upper)))
