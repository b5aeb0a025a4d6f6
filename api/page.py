"""The inspector's page: a phone-friendly form that uploads a lot and shows its appraisal."""

INSPECTOR_PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vision-valuer 车辆评估 / Appraisal</title>
<style>
  body { font-family: system-ui, -apple-system, "PingFang SC", "Noto Sans CJK SC", sans-serif; margin: 0; padding: 12px; background: #f4f5f7; color: #1d2330; }
  h1 { font-size: 1.25rem; margin: 4px 0 12px; }
  fieldset { border: 1px solid #d5d9e0; border-radius: 8px; background: #fff; margin: 0 0 12px; padding: 10px; }
  legend { font-weight: 600; }
  label { display: block; margin: 8px 0 2px; font-size: .9rem; }
  input { width: 100%; box-sizing: border-box; padding: 10px; font-size: 1rem; border: 1px solid #c3c8d1; border-radius: 6px; }
  button { width: 100%; padding: 14px; font-size: 1.05rem; border: 0; border-radius: 8px; background: #1565c0; color: #fff; }
  button:disabled { background: #8aa9cf; }
  .card { background: #fff; border-radius: 8px; padding: 10px; margin: 0 0 12px; border: 1px solid #d5d9e0; }
  .big { font-size: 1.4rem; font-weight: 700; }
  .flag-critical { color: #b71c1c; } .flag-warning { color: #e65100; } .flag-info { color: #455a64; }
  .error { background: #ffebee; border-color: #e57373; }
  img { width: 100%; border-radius: 6px; margin-top: 6px; }
  small { color: #5f6b7a; }
</style>
</head>
<body>
<h1>车辆评估 <small>Vehicle appraisal</small></h1>
<form id="lot-form">
  <fieldset>
    <legend>照片 Photos</legend>
    <label for="photos">车辆照片 Vehicle photos *</label>
    <input id="photos" name="photos" type="file" accept="image/*" capture="environment" multiple required>
    <label for="documents">证件照片（行驶证、登记证书、车架号、里程表） Document photos</label>
    <input id="documents" name="documents" type="file" accept="image/*" multiple>
  </fieldset>
  <fieldset>
    <legend>批次信息 Lot details</legend>
    <label for="reference_value">参考价值 Reference value</label>
    <input id="reference_value" type="number" min="1" step="any" inputmode="decimal">
    <label for="currency">币种 Currency</label>
    <input id="currency" value="CNY" maxlength="3">
    <label for="sale_date">拍卖日期 Sale date</label>
    <input id="sale_date" type="date">
    <label for="declared_vin">申报车辆识别代号 Declared VIN</label>
    <input id="declared_vin" maxlength="17" autocapitalize="characters">
    <label for="mileage_km">申报里程（公里） Declared mileage (km)</label>
    <input id="mileage_km" type="number" min="0" step="1" inputmode="numeric">
    <label for="first_registration">初次登记日期 First registration</label>
    <input id="first_registration" type="date">
  </fieldset>
  <button id="submit" type="submit">评估 Appraise</button>
</form>
<div id="result"></div>
<script>
const form = document.getElementById("lot-form");
const result = document.getElementById("result");
const text = (value) => String(value ?? "-").replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]));
const money = (value, currency) => value == null ? "-" : Math.round(value).toLocaleString("zh-CN") + " " + text(currency);
const pct = (value) => (value * 100).toFixed(1) + "%";

function lotJson() {
  const lot = {};
  const value = document.getElementById("reference_value").value;
  if (!value) return null;
  lot.reference_value = Number(value);
  lot.currency = document.getElementById("currency").value.trim().toUpperCase();
  for (const key of ["sale_date", "declared_vin", "first_registration"]) {
    const field = document.getElementById(key).value.trim();
    if (field) lot[key] = field;
  }
  const mileage = document.getElementById("mileage_km").value;
  if (mileage) lot.mileage_km = Number(mileage);
  return lot;
}

function render(appraisal) {
  const v = appraisal.valuation;
  let html = `<div class="card"><div>成交价预计 Expected hammer price</div><div class="big">${money(v.expected_hammer_price, v.currency)}</div>
    <div>建议保留价 Recommended reserve: <b>${money(v.recommended_reserve_price, v.currency)}</b></div>
    <div>折价 Discount ${pct(v.discount)} (${pct(v.discount_lower)} – ${pct(v.discount_upper)})</div>
    <div>车况评分 Condition ${appraisal.condition.score.toFixed(1)}/100</div></div>`;
  for (const flag of appraisal.flags) {
    html += `<div class="card flag-${text(flag.severity)}">${text(flag.message_zh)}<br><small>${text(flag.message)}</small></div>`;
  }
  appraisal.photos.forEach((photo) => {
    const items = photo.damage.findings.map((f) => `${text(f.gbt_term)} ${text(f.damage_class)} ${pct(f.area_share)}`).join("，") || "未见损伤 No damage found";
    html += `<div class="card">${text(photo.file)}：${items}<img alt="overlay" src="/v1/appraisals/${appraisal.id}/overlays/${photo.index}.png"></div>`;
  });
  for (const doc of appraisal.documents) {
    const licence = doc.reading.vehicle_license;
    if (licence) {
      html += `<div class="card">行驶证 Vehicle licence：号牌 Plate ${text(licence.plate)}，VIN ${text(licence.vin)}，注册日期 Register date ${text(licence.register_date)}</div>`;
    }
  }
  result.innerHTML = html;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = document.getElementById("submit");
  const body = new FormData();
  for (const file of document.getElementById("photos").files) body.append("photos", file);
  for (const file of document.getElementById("documents").files) body.append("documents", file);
  const lot = lotJson();
  if (lot) body.append("lot", new Blob([JSON.stringify(lot)], {type: "application/json"}), "lot.json");
  button.disabled = true;
  result.innerHTML = '<div class="card">评估中… Appraising…</div>';
  try {
    const response = await fetch("/v1/appraisals", {method: "POST", body});
    const payload = await response.json();
    if (!response.ok) {
      const e = payload.error || {};
      result.innerHTML = `<div class="card error">${text(e.message_zh)}<br><small>${text(e.message)} [${text(e.code)}]</small></div>`;
    } else {
      render(payload);
    }
  } catch (error) {
    result.innerHTML = `<div class="card error">网络错误，请重试。<br><small>Network error, try again: ${text(error)}</small></div>`;
  } finally {
    button.disabled = false;
  }
});
</script>
</body>
</html>
"""
