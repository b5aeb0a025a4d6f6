"""The appraisal record: one Pydantic model for CLI output, API responses and stored records."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from .condition import ConditionAssessment
from .damage import PhotoDamage
from .documents.reader import DocumentReading
from .forecast import DiscountForecast
from .lot_metadata import LotMetadata

SCHEMA_VERSION = "1"


class Flag(BaseModel):
    """Something an appraiser must look at: an inconsistency, a failed check or a data limitation."""

    code: str = Field(description="stable identifier, e.g. vin_check_digit_mismatch")
    severity: Literal["info", "warning", "critical"]
    message: str
    message_zh: str
    evidence: dict[str, str | float | int | None] = Field(default_factory=dict)


class StoredFile(BaseModel):
    index: int
    file: str = Field(description="file name as uploaded, for display only")
    sha256: str
    format: str
    width: int
    height: int


class PhotoAssessment(StoredFile):
    damage: PhotoDamage
    overlay: str = Field(description="path of the overlay PNG relative to the appraisal, e.g. overlays/0.png")


class DocumentAssessment(StoredFile):
    reading: DocumentReading


class Valuation(BaseModel):
    currency: str | None
    reference_value: float | None = Field(description="market value of the lot in clean condition, from lot.json")
    forecast: DiscountForecast = Field(description="discount forecast for a lot in the market's typical condition")
    condition_adjustment: float
    discount: float = Field(description="forecast discount after the condition adjustment")
    discount_lower: float
    discount_upper: float
    expected_hammer_price: float | None
    hammer_price_lower: float | None
    hammer_price_upper: float | None
    recommended_reserve_price: float | None
    reserve_rule: str
    recentre_shift: float = Field(
        default=0.0,
        description="added to the forecast and its interval because the forecast median was below zero "
        "(a price above the reference value); 0 when no shift was needed",
    )


class Appraisal(BaseModel):
    schema_version: str = SCHEMA_VERSION
    id: str
    created_at: datetime
    lot_name: str | None
    lot: LotMetadata | None
    ignored_lot_fields: list[str] = Field(default_factory=list)
    photos: list[PhotoAssessment]
    documents: list[DocumentAssessment]
    condition: ConditionAssessment
    valuation: Valuation
    flags: list[Flag]
    model_versions: dict[str, str]
    seconds: float
