"""Parse the OCR lines of a 机动车登记证书 (registration certificate) for plate, VIN and registration date.

NOTE: no registration certificate sample was available, so this parser is written from the printed
layout (机动车登记编号, 车辆识别代号/车架号, 登记日期) and has not been run on a real page. It reads the
first plate-like text, the VIN next to its label (else the first VIN-like run) and the date after
登记日期 (else the first date). Owner name and ID number are never extracted.
"""

import re
from datetime import date

from pydantic import BaseModel

from vision_valuer.documents import fields
from vision_valuer.documents.layout import group_rows
from vision_valuer.documents.ocr_engines import OcrLine
from vision_valuer.vin import VinCheck, check_vin

_VIN_LABEL = re.compile(r"车辆识别代号|车架号|\bVIN\b", re.IGNORECASE)
_DATE_LABEL = re.compile(r"登记日期")


class RegistrationCertificate(BaseModel):
    """Vehicle fields of a 机动车登记证书 page."""

    plate: str | None
    vin: str | None
    register_date: date | None
    vin_check: VinCheck | None
    # Substitutions applied to the VIN as read, such as "O->0 at position 12".
    vin_corrections: list[str] = []


def parse_registration_certificate(lines: list[OcrLine]) -> RegistrationCertificate:
    """Parse plate, VIN and registration date from the OCR lines of a registration certificate."""
    row_texts = [" ".join(placed.line.text for placed in row) for row in group_rows(lines)]

    plate = next((p for p in map(fields.normalize_plate, row_texts) if p is not None), None)
    vin_reading = _find_vin(row_texts)
    register_date = _find_register_date(row_texts)

    return RegistrationCertificate(
        plate=plate,
        vin=vin_reading.text if vin_reading else None,
        register_date=register_date,
        vin_check=check_vin(vin_reading.text) if vin_reading else None,
        vin_corrections=vin_reading.corrections if vin_reading else [],
    )


def _find_vin(row_texts: list[str]) -> fields.VinReading | None:
    labelled = [text[match.end():] for text in row_texts if (match := _VIN_LABEL.search(text))]
    for text in labelled + row_texts:
        reading = fields.normalize_vin(text)
        if reading is not None and len(reading.text) == 17:
            return reading
    return None


def _find_register_date(row_texts: list[str]) -> date | None:
    labelled = [text[match.end():] for text in row_texts if (match := _DATE_LABEL.search(text))]
    for text in labelled + row_texts:
        value = fields.parse_date(text)
        if value is not None:
            return value
    return None
