"""Human-readable summary of an appraisal for the terminal."""

from .schema import Appraisal


def _money(value: float | None, currency: str | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} {currency or ''}".strip()


def format_summary(appraisal: Appraisal) -> str:
    """Render the appraisal as a short plain-text report."""
    valuation = appraisal.valuation
    condition = appraisal.condition
    lines = [
        f"Appraisal {appraisal.id}  lot {appraisal.lot_name or '-'}",
        "",
        f"Condition score {condition.score:.1f}/100 (auction grade {condition.grade:.1f})",
    ]

    for photo in appraisal.photos:
        if not photo.damage.findings:
            lines.append(f"  photo {photo.index} {photo.file}: no damage found")
            continue
        lines.append(f"  photo {photo.index} {photo.file}:")
        for finding in photo.damage.findings:
            lines.append(
                f"    {finding.damage_class:<9} {finding.gbt_code} {finding.gbt_term:<6} "
                f"{finding.area_share:6.1%} of photo  box {finding.bbox}  confidence {finding.mean_confidence:.2f}"
            )

    for document in appraisal.documents:
        reading = document.reading
        lines.append(f"  document {document.index} {document.file}: {reading.kind} (OCR {reading.engine})")
        licence = reading.vehicle_license
        if licence:
            for label, value in (
                ("plate 号牌号码", licence.plate),
                ("vehicle type 车辆类型", licence.vehicle_type),
                ("brand/model 品牌型号", licence.brand_model),
                ("VIN 车辆识别代号", licence.vin),
                ("engine no. 发动机号码", licence.engine_no),
                ("register date 注册日期", licence.register_date),
                ("issue date 发证日期", licence.issue_date),
            ):
                lines.append(f"    {label}: {value if value is not None else '-'}")
        if reading.odometer_km is not None:
            lines.append(f"    odometer 里程: {reading.odometer_km} km")

    forecast = valuation.forecast
    lines += [
        "",
        f"Market forecast (LSTM, typical condition) {forecast.discount:.1%} "
        f"({forecast.interval_level:.0%} interval {forecast.lower:.1%} to {forecast.upper:.1%})",
        f"Discount after condition{' and recentring on the reference value' if valuation.recentre_shift else ''} "
        f"{valuation.discount:.1%} "
        f"({forecast.interval_level:.0%} interval {valuation.discount_lower:.1%} to {valuation.discount_upper:.1%}), "
        f"of which condition {valuation.condition_adjustment:+.1%}",
        f"Reference value      {_money(valuation.reference_value, valuation.currency)}",
        f"Expected hammer price {_money(valuation.expected_hammer_price, valuation.currency)}"
        f" ({_money(valuation.hammer_price_lower, valuation.currency)} to "
        f"{_money(valuation.hammer_price_upper, valuation.currency)})",
        f"Recommended reserve  {_money(valuation.recommended_reserve_price, valuation.currency)}",
    ]

    if appraisal.flags:
        lines += ["", "Flags:"]
        lines += [f"  [{flag.severity}] {flag.code}: {flag.message}" for flag in appraisal.flags]
    return "\n".join(lines)
