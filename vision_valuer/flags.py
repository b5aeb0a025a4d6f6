"""The catalogue of appraisal flags: stable codes with their severity and bilingual messages."""

from .schema import Flag

# code: (severity, English template, Chinese template). Templates use str.format fields from the evidence.
CATALOGUE: dict[str, tuple[str, str, str]] = {
    "vin_invalid_length": (
        "critical",
        "The {source} VIN {vin} has {length} characters; a VIN has 17.",
        "{source_zh}车辆识别代号 {vin} 共 {length} 位，应为 17 位。",
    ),
    "vin_invalid_charset": (
        "critical",
        "The {source} VIN {vin} contains {characters}, which never occur in a VIN (I, O, Q and non-alphanumerics).",
        "{source_zh}车辆识别代号 {vin} 含有 {characters}，VIN 中不会出现这些字符（I、O、Q 及非字母数字）。",
    ),
    "vin_check_digit_mismatch": (
        "critical",
        "The {source} VIN {vin} fails its ISO 3779 check digit: position 9 is {found}, the computed digit is {expected}.",
        "{source_zh}车辆识别代号 {vin} 校验位不符（ISO 3779）：第 9 位为 {found}，计算值为 {expected}。",
    ),
    "vin_mismatch": (
        "critical",
        "The declared VIN {declared} differs from the VIN {read} read from the {document}.",
        "申报的车辆识别代号 {declared} 与从{document_zh}识别的 {read} 不一致。",
    ),
    "vin_not_read": (
        "warning",
        "No VIN could be read from the documents, so the declared VIN is unconfirmed.",
        "未能从证件中识别车辆识别代号，申报的 VIN 未经核实。",
    ),
    "mileage_mismatch": (
        "warning",
        "The declared mileage {declared} km differs from the odometer reading {read} km by {difference} km.",
        "申报里程 {declared} 公里与仪表读数 {read} 公里相差 {difference} 公里。",
    ),
    "mileage_rollback_suspected": (
        "critical",
        "The odometer shows {read} km, below the declared {declared} km: the odometer may have been rolled back.",
        "仪表显示 {read} 公里，低于申报的 {declared} 公里，可能存在调表。",
    ),
    "registration_date_mismatch": (
        "warning",
        "The declared first registration {declared} differs from the register date {read} on the vehicle licence.",
        "申报的初次登记日期 {declared} 与行驶证注册日期 {read} 不一致。",
    ),
    "reference_value_missing": (
        "warning",
        "lot.json gives no reference value, so no hammer or reserve price can be computed.",
        "lot.json 未提供参考价值，无法计算预计成交价和建议保留价。",
    ),
    "market_data_stale": (
        "info",
        "The market statistics end on {market_week}, {days} days before the sale date: the forecast is a prior, not a current quote.",
        "市场统计数据截至 {market_week}，早于拍卖日 {days} 天：预测仅作参考先验，而非当前行情。",
    ),
    "forecast_above_reference": (
        "warning",
        "The market forecast put the hammer price above the reference value (discount {discount:.1%}), so it was "
        "recentred on the reference value with its spread kept. The US-trained forecaster overrates old or cheap "
        "cars: check the reserve by hand.",
        "市场预测的成交价高于参考价值（折价率 {discount:.1%}），已将预测中心移至参考价值并保留其区间宽度。该预测模型"
        "基于美国数据，对车龄长或低价车辆估价偏高，请人工复核保留价。",
    ),
    "no_documents": (
        "info",
        "The lot has no document photos, so nothing declared could be checked.",
        "本批次没有证件照片，申报信息无法核验。",
    ),
}


def make_flag(code: str, **evidence: str | float | int | None) -> Flag:
    """Build a flag from the catalogue, filling its messages from the evidence."""
    severity, message, message_zh = CATALOGUE[code]
    fields = {key: "" if value is None else value for key, value in evidence.items()}
    return Flag(
        code=code,
        severity=severity,
        message=message.format(**fields),
        message_zh=message_zh.format(**fields),
        evidence={key: value for key, value in evidence.items() if not key.endswith("_zh")},
    )
