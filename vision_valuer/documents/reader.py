"""The documents stage: OCR one document photo, classify it and parse the fields of its kind."""

import logging
import time

import cv2
import numpy as np
from pydantic import BaseModel

from vision_valuer.documents import fields
from vision_valuer.documents.classify import DocumentKind, classify_document
from vision_valuer.documents.ocr_engines import DEFAULT_ENGINE, OcrEngine, OcrLine, get_engine
from vision_valuer.documents.odometer import parse_odometer
from vision_valuer.documents.registration_certificate import (
    RegistrationCertificate,
    parse_registration_certificate,
)
from vision_valuer.documents.vehicle_license import (
    VehicleLicense,
    fill_missing,
    missing_fields,
    parse_vehicle_license,
)
from vision_valuer.vin import VinCheck, check_vin

logger = logging.getLogger(__name__)


class DocumentReading(BaseModel):
    """Kind and fields of one document photo, as read by OCR."""

    kind: DocumentKind
    engine: str
    vehicle_license: VehicleLicense | None = None
    registration_certificate: RegistrationCertificate | None = None
    # Check of the VIN read from the photo, whatever its kind (VIN plate, 行驶证 or 登记证书).
    vin_check: VinCheck | None = None
    # Substitutions applied to that VIN as read, such as "O->0 at position 12".
    vin_corrections: list[str] = []
    odometer_km: int | None = None
    # Wall-clock time of OCR and parsing.
    seconds: float


def read_document(
    rgb: np.ndarray,
    *,
    engine: OcrEngine | str | None = None,
    include_personal: bool = False,
) -> DocumentReading:
    """OCR an RGB document photo, classify it and parse the fields of its kind.

    `engine` is an engine instance or name, and None uses DEFAULT_ENGINE. Owner name and address are
    returned only with `include_personal`, and no read text is ever logged.
    """
    started = time.perf_counter()
    engine = _resolve_engine(engine)

    lines = engine.read(rgb)
    kind = classify_document(lines)

    vehicle_license = None
    certificate = None
    vin_check = None
    vin_corrections: list[str] = []
    odometer_km = None

    if kind == "vehicle_license":
        vehicle_license = read_vehicle_license(
            rgb, engine=engine, include_personal=include_personal, lines=lines
        )
        vin_check, vin_corrections = vehicle_license.vin_check, vehicle_license.vin_corrections
    elif kind == "registration_certificate":
        certificate = parse_registration_certificate(lines)
        vin_check, vin_corrections = certificate.vin_check, certificate.vin_corrections
    elif kind == "vin_plate":
        vin_reading = _find_plate_vin(lines)
        if vin_reading is not None:
            vin_check, vin_corrections = check_vin(vin_reading.text), vin_reading.corrections
    elif kind == "odometer":
        odometer_km = parse_odometer(lines)

    reading = DocumentReading(
        kind=kind,
        engine=engine.name,
        vehicle_license=vehicle_license,
        registration_certificate=certificate,
        vin_check=vin_check,
        vin_corrections=vin_corrections,
        odometer_km=odometer_km,
        seconds=time.perf_counter() - started,
    )
    _log_reading(reading, line_count=len(lines))
    return reading


def read_vehicle_license(
    rgb: np.ndarray,
    *,
    engine: OcrEngine | str | None = None,
    include_personal: bool = False,
    lines: list[OcrLine] | None = None,
) -> VehicleLicense:
    """Read a photo known to show a 行驶证 main page, reading it again in grayscale if a field is missing.

    Holograms and the tinted security print can hide a whole row from the text detector in colour
    (the owner row of the specimen page was lost that way) while the grayscale page shows it. `lines`
    are the engine's lines of `rgb` when the caller already has them.
    """
    engine = _resolve_engine(engine)
    if lines is None:
        lines = engine.read(rgb)

    parsed = parse_vehicle_license(lines, include_personal=include_personal)
    if not missing_fields(parsed, include_personal=include_personal):
        return parsed

    gray = cv2.cvtColor(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    retry = parse_vehicle_license(engine.read(gray), include_personal=include_personal)
    return fill_missing(parsed, retry)


def _resolve_engine(engine: OcrEngine | str | None) -> OcrEngine:
    if engine is None or isinstance(engine, str):
        return get_engine(engine or DEFAULT_ENGINE)
    return engine


def _find_plate_vin(lines: list[OcrLine]) -> fields.VinReading | None:
    """Return the first 17-character VIN-like run on a VIN plate or sticker."""
    for line in lines:
        vin_reading = fields.normalize_vin(line.text)
        if vin_reading is not None and len(vin_reading.text) == 17:
            return vin_reading
    return None


def _log_reading(reading: DocumentReading, *, line_count: int) -> None:
    """Log what kind of document was read and which fields were found, never their values."""
    parsed = reading.vehicle_license or reading.registration_certificate
    found_fields = []
    if parsed is not None:
        found_fields = [name for name, value in parsed if value not in (None, []) and name != "vin_check"]
    if reading.odometer_km is not None:
        found_fields.append("odometer_km")

    logger.info(
        "document read",
        extra={
            "kind": reading.kind,
            "engine": reading.engine,
            "seconds": round(reading.seconds, 3),
            "ocr_lines": line_count,
            "fields_found": found_fields,
            "vin_flags": reading.vin_check.flag_codes() if reading.vin_check else [],
        },
    )
