"""Cross-checks of what the lot declares against what the documents show, turned into flags."""

from datetime import date

from .documents.reader import DocumentReading
from .flags import make_flag
from .lot_metadata import LotMetadata
from .schema import Flag
from .vin import VinCheck, check_vin

# An odometer photo and a declaration a few days apart differ by the kilometres driven in
# between. Below this difference the two are taken to agree.
MILEAGE_TOLERANCE_KM = 1000
MILEAGE_TOLERANCE_SHARE = 0.05

DOCUMENT_NAMES = {
    "vehicle_license": ("vehicle licence", "行驶证"),
    "registration_certificate": ("registration certificate", "机动车登记证书"),
    "vin_plate": ("VIN plate", "车架号铭牌"),
    "odometer": ("odometer", "里程表"),
    "unknown": ("document", "证件"),
}


def vin_flags(check: VinCheck, source: str, source_zh: str) -> list[Flag]:
    """Flag every way a VIN fails validation, quoting the text as read."""
    flags = []
    for code in check.flag_codes():
        flags.append(
            make_flag(
                code,
                source=source,
                source_zh=source_zh,
                vin=check.text,
                length=len(check.text),
                characters=", ".join(check.invalid_characters),
                found=check.check_digit_found,
                expected=check.check_digit_expected,
            )
        )
    return flags


def read_vins(documents: list[DocumentReading]) -> list[tuple[str, VinCheck]]:
    """Return (document kind, VIN check) for each VIN read from the documents."""
    found = []
    for reading in documents:
        if reading.vehicle_license and reading.vehicle_license.vin_check:
            found.append((reading.kind, reading.vehicle_license.vin_check))
        elif reading.vin_check:
            found.append((reading.kind, reading.vin_check))
    return found


def cross_check(lot: LotMetadata | None, documents: list[DocumentReading]) -> list[Flag]:
    """Validate declared and read VINs, and compare VIN, mileage and registration date."""
    flags: list[Flag] = []
    if not documents:
        flags.append(make_flag("no_documents"))

    vins = read_vins(documents)
    for kind, check in vins:
        name, name_zh = DOCUMENT_NAMES[kind]
        flags += vin_flags(check, name, name_zh)

    if lot is None:
        return flags

    if lot.declared_vin:
        flags += vin_flags(check_vin(lot.declared_vin), "declared", "申报的")
        # Without any documents, the no_documents flag already reports that nothing could be checked.
        if documents and not vins:
            flags.append(make_flag("vin_not_read"))
        for kind, check in vins:
            if check.text != lot.declared_vin:
                name, name_zh = DOCUMENT_NAMES[kind]
                flags.append(
                    make_flag("vin_mismatch", declared=lot.declared_vin, read=check.text, document=name, document_zh=name_zh)
                )

    odometer_readings = [reading.odometer_km for reading in documents if reading.odometer_km is not None]
    if lot.mileage_km is not None and odometer_readings:
        read_km = max(odometer_readings)
        difference = abs(read_km - lot.mileage_km)
        tolerance = max(MILEAGE_TOLERANCE_KM, MILEAGE_TOLERANCE_SHARE * lot.mileage_km)
        if read_km + tolerance < lot.mileage_km:
            flags.append(make_flag("mileage_rollback_suspected", declared=lot.mileage_km, read=read_km))
        elif difference > tolerance:
            flags.append(make_flag("mileage_mismatch", declared=lot.mileage_km, read=read_km, difference=difference))

    register_dates = [
        reading.vehicle_license.register_date
        for reading in documents
        if reading.vehicle_license and reading.vehicle_license.register_date
    ]
    if lot.first_registration and register_dates:
        read_date: date = register_dates[0]
        if read_date != lot.first_registration:
            flags.append(
                make_flag(
                    "registration_date_mismatch",
                    declared=lot.first_registration.isoformat(),
                    read=read_date.isoformat(),
                )
            )

    return flags
