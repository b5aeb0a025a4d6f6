"""Parse and validate lot.json, the optional metadata that comes with a lot's photos.

`parse_lot_metadata` turns the raw bytes into a `LotMetadata`, or raises `InvalidLotMetadata` whose
`field` names the offending key ("$" for the document as a whole). The declared VIN is only
normalised here: the pipeline checks it and flags a bad one, and the lot is still accepted.
"""

import json
import math
import re
import unicodedata
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from vision_valuer.errors import InvalidLotMetadata

MAX_LOT_BYTES = 64 * 1024

# The cap must admit a car priced in a currency with a very small unit: an ordinary car costs
# hundreds of millions of Vietnamese dong or billions of Iranian rials. It still rejects an absurd
# amount such as 1e308, which is a finite float and so passes a finiteness check.
REFERENCE_VALUE_MAX = 1e13
# A sanity bound far above the distance any passenger car covers in its life.
MILEAGE_KM_MAX = 10_000_000
REGION_MAX_CHARS = 100
DECLARED_VIN_MAX_CHARS = 32
# For an auction of used cars, a date outside this range is a typing error, such as year 0226 or 2620.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2100, 12, 31)

# Currencies a car can be priced in. These are the active ISO 4217 alphabetic codes as listed in
# pycountry 26.2.16 (pycountry/databases/iso4217.json, taken from Debian's iso-codes), less the
# codes that are not circulating money:
# - fund codes: BOV, CHE, CHW, CLF, COU, MXV, USN, UYI, UYW;
# - precious metals: XAG, XAU, XPD, XPT;
# - bond-market and accounting units: XBA, XBB, XBC, XBD, XAD, XDR, XSU, XUA;
# - XTS (reserved for testing) and XXX (no currency).
CURRENCY_CODES = frozenset(
    {
        "AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BHD",
        "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF",
        "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN",
        "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD",
        "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES",
        "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL",
        "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN",
        "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP",
        "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK",
        "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT",
        "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS", "VED", "VES",
        "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG",
    }
)  # fmt: skip

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)

# Key of the Chinese message in a PydanticCustomError's context.
_ZH = "message_zh"


class LotMetadata(BaseModel):
    """The lot.json fields that the appraisal uses."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    reference_value: float = Field(description="market value of the car in clean condition, in `currency`")
    currency: str = Field(description="ISO 4217 code of reference_value, upper case, such as CNY")
    # first_registration is declared before sale_date so that the sale_date validator can compare them.
    first_registration: date | None = Field(default=None, description="date of first registration")
    sale_date: date | None = Field(default=None, description="auction date; not before first_registration")
    declared_vin: str | None = Field(default=None, description="VIN as declared, stripped and upper-cased")
    mileage_km: int | None = Field(default=None, description="odometer reading in kilometres")
    region: str | None = Field(default=None, description="where the car is sold, such as 北京")

    @field_validator("reference_value", mode="before")
    @classmethod
    def _check_reference_value(cls, value: Any) -> float:
        number = _require_number(value)
        # Compare before converting: float() of a huge JSON integer raises OverflowError.
        if number <= 0:
            raise _error(f"must be greater than 0, got {_show(value)}", f"必须大于 0，当前为 {_show(value)}")
        if number > REFERENCE_VALUE_MAX:
            raise _error(
                f"must be at most {REFERENCE_VALUE_MAX:,.0f}, got {_show(value)}",
                f"不得超过 {REFERENCE_VALUE_MAX:,.0f}，当前为 {_show(value)}",
            )
        return float(number)

    @field_validator("currency", mode="before")
    @classmethod
    def _check_currency(cls, value: Any) -> str:
        if not isinstance(value, str):
            raise _error("must be a string such as \"CNY\"", "必须是字符串，例如 \"CNY\"")
        if value in CURRENCY_CODES:
            return value

        hint, hint_zh = "", ""
        if value.strip().upper() in CURRENCY_CODES:
            hint = f"; write it as \"{value.strip().upper()}\""
            hint_zh = f"；请写作 \"{value.strip().upper()}\""
        raise _error(
            f"must be an ISO 4217 currency code in upper case such as \"CNY\", got {_show(value)}{hint}",
            f"必须是大写的 ISO 4217 货币代码，例如 \"CNY\"，当前为 {_show(value)}{hint_zh}",
        )

    @field_validator("first_registration", mode="before")
    @classmethod
    def _check_first_registration(cls, value: Any) -> date | None:
        return _parse_date(value)

    @field_validator("sale_date", mode="before")
    @classmethod
    def _check_sale_date(cls, value: Any, info: ValidationInfo) -> date | None:
        sale_date = _parse_date(value)

        # first_registration is absent from info.data when it failed its own validation.
        first_registration = info.data.get("first_registration")
        if sale_date is not None and first_registration is not None and sale_date < first_registration:
            raise _error(
                f"{sale_date.isoformat()} is before first_registration {first_registration.isoformat()}",
                f"{sale_date.isoformat()} 早于首次登记日期 first_registration "
                f"{first_registration.isoformat()}",
            )
        return sale_date

    @field_validator("declared_vin", mode="before")
    @classmethod
    def _normalise_vin(cls, value: Any) -> str | None:
        # The VIN is only normalised here, because the pipeline checks its characters and check digit
        # and flags the lot instead of rejecting it. The length cap only keeps absurd text out of
        # flags and stored records; a 17-character check is the pipeline's.
        text = _clean_text(value, max_chars=DECLARED_VIN_MAX_CHARS)
        return text.upper() if text is not None else None

    @field_validator("mileage_km", mode="before")
    @classmethod
    def _check_mileage(cls, value: Any) -> int | None:
        if value is None:
            return None

        number = _require_number(value)
        if isinstance(number, float):
            if not number.is_integer():
                raise _error(
                    f"must be a whole number of kilometres, got {_show(value)}",
                    f"必须是整数公里数，当前为 {_show(value)}",
                )
            number = int(number)
        if not 0 <= number <= MILEAGE_KM_MAX:
            raise _error(
                f"must be between 0 and {MILEAGE_KM_MAX:,} km, got {_show(value)}",
                f"必须在 0 到 {MILEAGE_KM_MAX:,} 公里之间，当前为 {_show(value)}",
            )
        return number

    @field_validator("region", mode="before")
    @classmethod
    def _check_region(cls, value: Any) -> str | None:
        return _clean_text(value, max_chars=REGION_MAX_CHARS)


class ParsedLot(BaseModel):
    """A validated lot.json and the top-level keys in it that the appraisal does not use."""

    model_config = ConfigDict(frozen=True)

    metadata: LotMetadata
    ignored_fields: list[str] = Field(description="unknown top-level keys, in document order")


def parse_lot_metadata(data: bytes) -> ParsedLot:
    """Parse lot.json bytes into validated metadata, ignoring and listing unknown keys.

    Raises `InvalidLotMetadata` with `field` set to the first invalid key, or to "$" when the document
    itself is unusable: too large, not UTF-8, not JSON, or not a JSON object.
    """
    document = _load_json_object(data)

    known = {key: value for key, value in document.items() if key in LotMetadata.model_fields}
    ignored = [key for key in document if key not in LotMetadata.model_fields]

    # The field validators reject NaN and Infinity in known fields. An ignored field must not carry
    # them either, because the document would then not be JSON.
    for key in ignored:
        if _contains_non_finite(document[key]):
            raise InvalidLotMetadata(
                f"lot.json field {_show(key)} contains NaN or Infinity, which JSON does not allow. "
                "Write a number or null instead and upload lot.json again.",
                f"lot.json 字段 {_show(key)} 包含 JSON 不允许的 NaN 或 Infinity。"
                "请改为数字或 null 后重新上传 lot.json。",
                field=key,
            )

    try:
        metadata = LotMetadata.model_validate(known)
    except ValidationError as exc:
        # Only the first problem is reported, so that the error has a single field.
        raise _field_error(exc.errors()[0]) from exc
    return ParsedLot(metadata=metadata, ignored_fields=ignored)


def _load_json_object(data: bytes) -> dict[str, Any]:
    if len(data) > MAX_LOT_BYTES:
        raise _document_error(
            f"is {len(data):,} bytes, over the limit of {MAX_LOT_BYTES:,} bytes. "
            "Send only the lot fields (reference_value, currency, sale_date, declared_vin, mileage_km, "
            "first_registration, region)",
            f"大小为 {len(data):,} 字节，超过 {MAX_LOT_BYTES:,} 字节的上限。"
            "请只包含批次字段（reference_value、currency、sale_date、declared_vin、mileage_km、"
            "first_registration、region）",
        )

    text = _decode_utf8(data)
    if not text.strip():
        raise _document_error(
            "is empty. Write the lot fields as a JSON object",
            "为空。请以 JSON 对象填写批次字段",
        )

    try:
        # NaN and Infinity are not JSON, but Python's parser accepts them. They are parsed to floats
        # here so that the field validators reject them and the error names the field.
        document = json.loads(text, parse_constant=float, object_pairs_hook=_reject_duplicate_keys)
    except _DuplicateKey as exc:
        raise _document_error(
            f"has the key {_show(exc.key)} more than once. Keep one value for each key",
            f"键 {_show(exc.key)} 出现了多次。每个键只保留一个值",
        ) from exc
    except json.JSONDecodeError as exc:
        raise _document_error(
            f"is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}. Fix the syntax",
            f"不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列有语法错误（{exc.msg}）。请修正语法",
        ) from exc
    except ValueError as exc:
        # Python refuses to convert integers of more than 4300 digits (sys.get_int_max_str_digits()).
        raise _document_error(
            "contains a number with too many digits. Write amounts as plain decimal numbers",
            "包含位数过多的数字。请以普通十进制数填写金额",
        ) from exc
    except RecursionError as exc:
        raise _document_error(
            "is nested too deeply. Write the lot fields as one flat JSON object",
            "嵌套层级过深。请以单层 JSON 对象填写批次字段",
        ) from exc

    if not isinstance(document, dict):
        raise _document_error(
            f"must contain a JSON object ({{...}}) at the top level, not {_json_type(document)}",
            f"顶层必须是 JSON 对象（{{...}}），当前为{_json_type_zh(document)}",
        )
    for key in document:
        if not _is_encodable(key):
            raise _document_error(
                "has a key with an invalid Unicode escape (a lone surrogate). Remove or fix that key",
                "包含带有无效 Unicode 转义（孤立代理项）的键。请删除或修正该键",
            )
    return document


def _decode_utf8(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _document_error(
            "is encoded as UTF-16. Save it as UTF-8",
            "采用 UTF-16 编码。请另存为 UTF-8",
        )
    try:
        # utf-8-sig drops a leading byte order mark, which Windows editors add.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _document_error(
            f"is not valid UTF-8 text (invalid byte at offset {exc.start}). Save it as UTF-8",
            f"不是有效的 UTF-8 文本（偏移量 {exc.start} 处字节无效）。请另存为 UTF-8",
        ) from exc


class _DuplicateKey(Exception):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of duplicate keys silently, so two different prices would pass unseen.
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise _DuplicateKey(key)
        document[key] = value
    return document


def _contains_non_finite(value: Any) -> bool:
    # Iterative, because a value may be nested almost as deep as the JSON parser's recursion limit.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return True
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _require_number(value: Any) -> int | float:
    """Return a JSON number unchanged, or raise for anything else, booleans and NaN included."""
    # bool is a subclass of int in Python, and true must not pass as 1.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _error(
            f"must be a number, got {_json_type(value)}",
            f"必须是数字，当前为{_json_type_zh(value)}",
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise _error(f"must be a finite number, got {_show(value)}", f"必须是有限数字，当前为 {_show(value)}")
    return value


def _parse_date(value: Any) -> date | None:
    if value is None:
        return None

    if isinstance(value, datetime):
        parsed = None
    elif isinstance(value, date):
        parsed = value
    elif isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            raise _error(
                f"{_show(value)} is not a calendar date",
                f"{_show(value)} 不是有效的日历日期",
            ) from None
    else:
        parsed = None
    if parsed is None:
        raise _error(
            "must be a date written as \"YYYY-MM-DD\", such as \"2026-11-20\"",
            "必须是 \"YYYY-MM-DD\" 格式的日期，例如 \"2026-11-20\"",
        )

    if not EARLIEST_DATE <= parsed <= LATEST_DATE:
        raise _error(
            f"{parsed.isoformat()} is outside {EARLIEST_DATE.year}-{LATEST_DATE.year}",
            f"{parsed.isoformat()} 不在 {EARLIEST_DATE.year} 至 {LATEST_DATE.year} 年之间",
        )
    return parsed


def _clean_text(value: Any, *, max_chars: int | None) -> str | None:
    """Strip a string field, returning None for an empty one. Reject text that cannot be stored."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise _error(
            f"must be a string, got {_json_type(value)}",
            f"必须是字符串，当前为{_json_type_zh(value)}",
        )

    text = value.strip()
    if not _is_encodable(text) or any(unicodedata.category(char) == "Cc" for char in text):
        raise _error(
            "contains control characters or an invalid Unicode escape",
            "包含控制字符或无效的 Unicode 转义",
        )
    if max_chars is not None and len(text) > max_chars:
        raise _error(
            f"must be at most {max_chars} characters, got {len(text)}",
            f"不得超过 {max_chars} 个字符，当前为 {len(text)} 个",
        )
    return text or None


def _is_encodable(text: str) -> bool:
    # A JSON escape such as "\ud800" decodes to a lone surrogate, which no UTF-8 output can hold.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, (int, float)):
        return "a number"
    return type(value).__name__


def _json_type_zh(value: Any) -> str:
    names = {
        "a boolean": "布尔值",
        "a string": "字符串",
        "an array": "数组",
        "an object": "对象",
        "a number": "数字",
    }
    english = _json_type(value)
    return names.get(english, f" {english}")


def _show(value: Any) -> str:
    """Format a rejected value for a message, shortened so that a huge number cannot flood it.

    Strings are quoted and escaped as JSON, so that control characters and lone surrogates from the
    upload cannot reach a log line or break the JSON of an error response.
    """
    if isinstance(value, float) and not math.isfinite(value):
        # The spelling that Python's json module reads.
        return {math.inf: "Infinity", -math.inf: "-Infinity"}.get(value, "NaN")
    if isinstance(value, str):
        quoted = json.dumps(value[:30])
        return quoted if len(value) <= 30 else f"{quoted[:-1]}...\""
    text = str(value)
    return text if len(text) <= 30 else f"{text[:27]}..."


def _error(message: str, message_zh: str) -> PydanticCustomError:
    """Build a validation error that carries its Chinese message in the context."""
    # Both messages travel in the context, where pydantic keeps them as they are, and _field_error
    # reads them from there. Pydantic fills the template's placeholders into its own `msg` only.
    return PydanticCustomError("invalid_lot_field", "{message}", {"message": message, _ZH: message_zh})


def _field_error(error: dict[str, Any]) -> InvalidLotMetadata:
    field = str(error["loc"][0]) if error["loc"] else "$"

    if error["type"] == "missing":
        return InvalidLotMetadata(
            f"lot.json is missing the required field {field}. Add it and upload lot.json again.",
            f"lot.json 缺少必填字段 {field}。请补充后重新上传 lot.json。",
            field=field,
        )

    context = error.get("ctx") or {}
    message = context.get("message", error["msg"])
    message_zh = context.get(_ZH, f"无效（{error['msg']}）")
    return InvalidLotMetadata(
        f"lot.json field {field} {message}. Correct it and upload lot.json again.",
        f"lot.json 字段 {field} {message_zh}。请修正后重新上传 lot.json。",
        field=field,
    )


def _document_error(problem: str, problem_zh: str) -> InvalidLotMetadata:
    return InvalidLotMetadata(
        f"lot.json {problem}, then upload it again.",
        f"lot.json {problem_zh}，然后重新上传。",
        field="$",
    )
