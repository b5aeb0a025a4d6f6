"""The appraisal pipeline: decode, segment damage, read documents, cross-check, forecast, value."""

import hashlib
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from .condition import assess_condition
from .config import settings
from .crosscheck import cross_check
from .damage import DamageSegmenter, render_overlay
from .decode import DecodedImage, decode_image
from .documents.reader import DocumentReading, read_document
from .errors import InvalidLot, UnsupportedDimensions, UploadRejected, ValuerError
from .flags import make_flag
from .forecast import DiscountForecaster, LotFeatures
from .lot_metadata import LotMetadata, parse_lot_metadata
from .schema import Appraisal, DocumentAssessment, PhotoAssessment
from .valuation import value_lot

log = logging.getLogger(__name__)

# A forecast older than this is labelled a prior rather than a market quote.
STALE_MARKET_DAYS = 120

# Images past these limits pass the pixel-count check but break the models or the overlay: libpng
# writes no side over 1,000,000 px, and RapidOCR resizes a strip thinner than about 1:125 to zero.
MAX_SIDE_PX = 20_000
MAX_ASPECT_RATIO = 20.0


@dataclass
class UploadedFile:
    name: str
    data: bytes


@dataclass
class LotUpload:
    """Everything one lot brings: vehicle photos, document photos and the optional lot.json."""

    name: str | None
    photos: list[UploadedFile]
    documents: list[UploadedFile] = field(default_factory=list)
    lot_json: bytes | None = None
    include_personal: bool = False


@dataclass
class AppraisalResult:
    appraisal: Appraisal
    overlays: list[bytes]


def _check_dimensions(image: DecodedImage, name: str) -> None:
    long_side = max(image.width, image.height)
    short_side = min(image.width, image.height)
    if long_side > MAX_SIDE_PX or long_side / short_side > MAX_ASPECT_RATIO:
        raise UnsupportedDimensions(
            f"{name} is {image.width}x{image.height} px; photos must have sides of at most {MAX_SIDE_PX} px "
            f"and be at most {MAX_ASPECT_RATIO:.0f} times longer than wide. Upload an ordinary photo.",
            f"{name} 尺寸为 {image.width}x{image.height} 像素；照片边长不得超过 {MAX_SIDE_PX} 像素，长宽比不得超过 "
            f"{MAX_ASPECT_RATIO:.0f}:1，请上传普通照片。",
            file=name,
        )


def _decode_all(files: list[UploadedFile], errors: list[ValuerError]) -> list[DecodedImage | None]:
    decoded: list[DecodedImage | None] = []
    for upload in files:
        try:
            image = decode_image(upload.data, name=upload.name, max_bytes=settings.max_upload_bytes)
            _check_dimensions(image, upload.name)
            decoded.append(image)
        except ValuerError as error:
            errors.append(error)
            decoded.append(None)
    return decoded


def _lot_features(lot: LotMetadata | None, documents: list[DocumentReading], sale_date: date) -> LotFeatures:
    registered = lot.first_registration if lot else None
    if registered is None:
        registered = next(
            (reading.vehicle_license.register_date for reading in documents
             if reading.vehicle_license and reading.vehicle_license.register_date),
            None,
        )
    odometer = lot.mileage_km if lot and lot.mileage_km is not None else None
    if odometer is None:
        odometer = next((reading.odometer_km for reading in documents if reading.odometer_km is not None), None)
    age = (sale_date - registered).days / 365.25 if registered else None
    if age is not None and age < 0:
        # An OCR-read register date after the sale date is a misread, not a car from the future.
        age = None
    return LotFeatures(sale_date=sale_date, age_years=age, odometer_km=odometer, make=None, size=None)


class Appraiser:
    """Holds the loaded models; `appraise` is safe to call from worker threads."""

    def __init__(self) -> None:
        self.segmenter = DamageSegmenter()
        self.forecaster = DiscountForecaster(settings.weights_dir)
        self.model_versions = {
            "damage": _file_digest(settings.weights_dir / "damage_unet.onnx"),
            "forecast": self.forecaster.model_version,
        }

    def appraise(self, upload: LotUpload) -> AppraisalResult:
        """Appraise one lot. Raises a ValuerError, and stores nothing, if any input is rejected."""
        started = time.monotonic()
        appraisal_id = uuid.uuid4().hex

        if len(upload.photos) + len(upload.documents) > settings.max_files_per_lot:
            raise InvalidLot(
                f"The lot has {len(upload.photos) + len(upload.documents)} files; at most "
                f"{settings.max_files_per_lot} are accepted. Split it into several lots.",
                f"本批次共 {len(upload.photos) + len(upload.documents)} 个文件，最多接受 "
                f"{settings.max_files_per_lot} 个，请分批上传。",
            )
        if not upload.photos:
            raise InvalidLot(
                "The lot has no vehicle photos. Add at least one photo of the vehicle.",
                "本批次没有车辆照片，请至少上传一张车辆照片。",
                field="photos",
            )

        # Every input is checked before any is rejected, so the caller learns of all problems at once.
        errors: list[ValuerError] = []
        parsed = None
        if upload.lot_json is not None:
            try:
                parsed = parse_lot_metadata(upload.lot_json)
            except ValuerError as error:
                errors.append(error)
        lot = parsed.metadata if parsed else None

        photos = _decode_all(upload.photos, errors)
        documents = _decode_all(upload.documents, errors)
        if errors:
            raise UploadRejected(errors)

        photo_assessments, overlays, shares = [], [], []
        for index, (upload_file, image) in enumerate(zip(upload.photos, photos)):
            damage, class_map = self.segmenter.analyse(image.rgb)
            overlays.append(render_overlay(image.rgb, class_map, damage.findings))
            shares.append(damage.class_shares)
            photo_assessments.append(
                PhotoAssessment(**_stored_file(index, upload_file, image), damage=damage, overlay=f"overlays/{index}.png")
            )

        document_assessments = []
        for index, (upload_file, image) in enumerate(zip(upload.documents, documents)):
            reading = read_document(image.rgb, engine=settings.ocr_engine, include_personal=upload.include_personal)
            document_assessments.append(DocumentAssessment(**_stored_file(index, upload_file, image), reading=reading))
        readings = [assessment.reading for assessment in document_assessments]

        flags = cross_check(lot, readings)
        condition = assess_condition(shares)
        sale_date = lot.sale_date if lot and lot.sale_date else datetime.now(UTC).date()
        forecast = self.forecaster.forecast(_lot_features(lot, readings, sale_date))
        if forecast.market_data_age_days > STALE_MARKET_DAYS:
            flags.append(
                make_flag("market_data_stale", market_week=forecast.market_week.isoformat(), days=forecast.market_data_age_days)
            )
        if lot is None:
            flags.append(make_flag("reference_value_missing"))
        valuation = value_lot(lot, forecast, condition)
        if valuation.recentre_shift > 0:
            flags.append(make_flag("forecast_above_reference", discount=forecast.discount))

        appraisal = Appraisal(
            id=appraisal_id,
            created_at=datetime.now(UTC),
            lot_name=upload.name,
            lot=lot,
            ignored_lot_fields=parsed.ignored_fields if parsed else [],
            photos=photo_assessments,
            documents=document_assessments,
            condition=condition,
            valuation=valuation,
            flags=flags,
            model_versions={**self.model_versions, "ocr": ",".join(sorted({r.engine for r in readings})) or "none"},
            seconds=round(time.monotonic() - started, 3),
        )
        log.info(
            "appraisal finished",
            extra={
                "appraisal_id": appraisal_id,
                "photos": len(photo_assessments),
                "documents": len(document_assessments),
                "flags": [flag.code for flag in flags],
                "seconds": appraisal.seconds,
            },
        )
        return AppraisalResult(appraisal=appraisal, overlays=overlays)


def _stored_file(index: int, upload: UploadedFile, image: DecodedImage) -> dict:
    return {
        "index": index,
        "file": upload.name,
        "sha256": hashlib.sha256(upload.data).hexdigest(),
        "format": image.format,
        "width": image.width,
        "height": image.height,
    }


def _file_digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


_appraiser: Appraiser | None = None
_appraiser_lock = threading.Lock()


def get_appraiser() -> Appraiser:
    """Return the process-wide Appraiser, loading the models on first use."""
    global _appraiser
    with _appraiser_lock:
        if _appraiser is None:
            _appraiser = Appraiser()
        return _appraiser
