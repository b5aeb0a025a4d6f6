"""Documents stage: OCR engines, 行驶证 parsing, odometer reading, classification and the reader."""

import json
import logging
import math
import shutil
import threading
from datetime import date
from pathlib import Path

import cv2
import numpy as np
import pytest

from vision_valuer.decode import decode_image
from vision_valuer.documents.classify import classify_document
from vision_valuer.documents.fields import normalize_plate, normalize_vin, parse_date
from vision_valuer.documents.ocr_engines import (
    DEFAULT_ENGINE,
    OcrLine,
    RapidOcrEngine,
    TesseractEngine,
    get_engine,
)
from vision_valuer.documents.odometer import parse_odometer
from vision_valuer.documents.reader import read_document
from vision_valuer.documents.registration_certificate import parse_registration_certificate
from vision_valuer.documents.vehicle_license import parse_vehicle_license
from vision_valuer.errors import ValuerError

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
LICENSE_PNG = DATA / "documents" / "xsz_jing_AA5599.png"
ODOMETER = DATA / "odometer"
PLATES = DATA / "plates"

# Measured with `python benchmarks/ocr_engines.py --threads 1` (RapidOCR, one inference thread).
ODOMETER_MIN_CORRECT = 47
PLATES_MIN_CORRECT = 58


def load_rgb(path: Path) -> np.ndarray:
    return decode_image(path.read_bytes(), name=path.name).rgb


def make_line(text: str, x0: float, y0: float, x1: float, y1: float) -> OcrLine:
    return OcrLine(text=text, box=((x0, y0), (x1, y0), (x1, y1), (x0, y1)), score=0.99)


def rotate_line(line: OcrLine, degrees: float, center: tuple[float, float]) -> OcrLine:
    angle = math.radians(degrees)
    cos, sin = math.cos(angle), math.sin(angle)
    cx, cy = center
    corners = tuple(
        (cx + (x - cx) * cos - (y - cy) * sin, cy + (x - cx) * sin + (y - cy) * cos) for x, y in line.box
    )
    return OcrLine(text=line.text, box=corners, score=line.score)


class RecordingHandler(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def engine():
    return get_engine(DEFAULT_ENGINE, threads=1)


@pytest.fixture(scope="module")
def licence_rgb():
    return load_rgb(LICENSE_PNG)


@pytest.fixture(scope="module")
def licence_labels():
    return json.loads((DATA / "documents" / "labels.jsonl").read_text(encoding="utf-8").splitlines()[0])


@pytest.fixture(scope="module")
def licence_lines(engine, licence_rgb):
    return engine.read(licence_rgb)


@pytest.fixture(scope="module")
def licence_reading(engine, licence_rgb):
    return read_document(licence_rgb, engine=engine)


@pytest.fixture(scope="module")
def personal_reading_and_logs(engine, licence_rgb):
    """Read the licence with personal data requested, recording every log record of the documents stage."""
    handler = RecordingHandler()
    logger = logging.getLogger("vision_valuer")
    previous_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        reading = read_document(licence_rgb, engine=engine, include_personal=True)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous_level)
    return reading, handler.records


@pytest.fixture(scope="module")
def odometer_readings(engine):
    """Read every dashboard photo once: file name -> (label, reading, kind)."""
    readings = {}
    for text in (ODOMETER / "labels.jsonl").read_text().splitlines():
        label = json.loads(text)
        lines = engine.read(load_rgb(ODOMETER / label["file"]))
        readings[label["file"]] = (label["odometer"], parse_odometer(lines), classify_document(lines))
    return readings


# 行驶证 with the default engine


def test_licence_kind_and_engine(licence_reading):
    assert licence_reading.kind == "vehicle_license"
    assert licence_reading.engine == DEFAULT_ENGINE == "rapidocr"


@pytest.mark.parametrize(
    "field",
    ["plate", "vehicle_type", "brand_model", "vin", "engine_no", "use_character"],
)
def test_licence_text_field(licence_reading, licence_labels, field):
    assert getattr(licence_reading.vehicle_license, field) == licence_labels[field]


def test_licence_dates(licence_reading):
    assert licence_reading.vehicle_license.register_date == date(2018, 6, 14)
    assert licence_reading.vehicle_license.issue_date == date(2018, 6, 14)


def test_licence_vin_check_digit_fails(licence_reading):
    check = licence_reading.vehicle_license.vin_check

    assert check.text == "HHGHH555778802669"
    assert check.check_digit_expected == "1"
    assert check.check_digit_found == "7"
    assert check.check_digit_ok is False
    assert check.flag_codes() == ["vin_check_digit_mismatch"]
    assert licence_reading.vin_check == check
    assert licence_reading.vehicle_license.vin_corrections == []


def test_licence_hides_personal_data(licence_reading):
    assert licence_reading.vehicle_license.owner is None
    assert licence_reading.vehicle_license.address is None
    assert "王京" not in licence_reading.model_dump_json()
    assert "石景山" not in licence_reading.model_dump_json()


def test_licence_personal_data_on_request(personal_reading_and_logs, licence_labels):
    reading, _ = personal_reading_and_logs

    assert reading.vehicle_license.owner == licence_labels["owner"]
    assert reading.vehicle_license.address == licence_labels["address"]
    assert reading.vehicle_license.plate == "京AA5599"


def test_reader_logs_no_document_text(personal_reading_and_logs):
    _, records = personal_reading_and_logs
    logged = " ".join(f"{record.getMessage()} {vars(record)}" for record in records)

    assert records, "read_document logged nothing"
    assert "王京" not in logged
    assert "石景山" not in logged
    assert "HHGHH555778802669" not in logged
    assert "AA5599" not in logged


def test_licence_parse_survives_tilt(licence_lines):
    upright = parse_vehicle_license(licence_lines, include_personal=True)
    tilted_lines = [rotate_line(line, 8.0, (512.0, 377.0)) for line in licence_lines]
    tilted = parse_vehicle_license(tilted_lines, include_personal=True)

    assert upright.plate == "京AA5599"
    assert tilted == upright


# 行驶证 with Tesseract


@pytest.fixture(scope="module")
def tesseract_reading(licence_rgb):
    if shutil.which("tesseract") is None:
        pytest.skip("tesseract binary not installed (apt-get install tesseract-ocr tesseract-ocr-chi-sim)")
    return read_document(licence_rgb, engine="tesseract")


def test_tesseract_reads_licence_as_vin_plate(tesseract_reading):
    # Tesseract 5.3 (chi_sim+eng) reads neither the title nor three field labels of the specimen, so
    # the page is taken for a VIN plate. The VIN is the one field it reads whole.
    assert tesseract_reading.engine == "tesseract"
    assert tesseract_reading.kind == "vin_plate"
    assert tesseract_reading.vehicle_license is None


def test_tesseract_vin_misread_fails_check(tesseract_reading):
    # G is read as C and the slashed 0 as 6, and the check digit catches the misread VIN as well.
    check = tesseract_reading.vin_check

    assert check.text == "HHCHH555778862669"
    assert check.check_digit_expected == "2"
    assert check.check_digit_found == "7"
    assert check.flag_codes() == ["vin_check_digit_mismatch"]


def test_tesseract_grayscale_reads_plate_only(tesseract_reading, licence_rgb):
    gray = cv2.cvtColor(cv2.cvtColor(licence_rgb, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    licence = parse_vehicle_license(get_engine("tesseract").read(gray))

    assert licence.plate == "京AA5599"
    assert licence.vin is None
    assert licence.register_date is None


# Parsing rules on hand-placed lines


def test_licence_value_in_separate_box():
    lines = [
        make_line("号牌号码", 100, 100, 200, 130),
        make_line("沪B·12345", 220, 98, 360, 132),
        make_line("车辆类型", 450, 100, 550, 130),
        make_line("小型普通客车", 570, 100, 720, 130),
        make_line("Plate No.", 100, 132, 190, 150),
    ]
    licence = parse_vehicle_license(lines)

    assert licence.plate == "沪B12345"
    assert licence.vehicle_type == "小型普通客车"


def test_licence_merged_date_line():
    lines = [make_line("注册日期2020.03.05发证日期2021-7-9", 300, 500, 900, 530)]
    licence = parse_vehicle_license(lines)

    assert licence.register_date == date(2020, 3, 5)
    assert licence.issue_date == date(2021, 7, 9)


def test_licence_vin_letter_o_corrected():
    lines = [make_line("车辆识别代号", 300, 400, 450, 430), make_line("LFV3A23C8J3O43215", 480, 398, 800, 432)]
    licence = parse_vehicle_license(lines)

    assert licence.vin == "LFV3A23C8J3043215"
    assert licence.vin_corrections == ["O->0 at position 12"]
    assert licence.vin_check.valid


def test_licence_label_one_char_misread():
    lines = [make_line("所得人王京", 100, 250, 300, 285), make_line("Owner", 100, 287, 170, 305)]

    assert parse_vehicle_license(lines, include_personal=True).owner == "王京"
    assert parse_vehicle_license(lines).owner is None


def test_licence_value_found_above_english_caption():
    # The Chinese label was not read at all; the caption under it locates the value row.
    lines = [make_line("小型轿车", 580, 190, 725, 227), make_line("Vehicle Type", 442, 224, 549, 250)]

    assert parse_vehicle_license(lines).vehicle_type == "小型轿车"


def test_licence_far_box_is_not_a_value():
    lines = [make_line("发动机号码", 300, 520, 440, 550), make_line("XS2", 1400, 520, 1450, 550)]

    assert parse_vehicle_license(lines).engine_no is None


def test_registration_certificate_fields():
    lines = [
        make_line("机动车登记证书", 300, 50, 600, 90),
        make_line("机动车登记编号", 50, 150, 250, 180),
        make_line("粤B·D12345", 280, 150, 450, 180),
        make_line("车辆识别代号/车架号", 50, 400, 300, 430),
        make_line("LSVAM4187C2184847", 320, 400, 620, 430),
        make_line("登记日期", 50, 600, 160, 630),
        make_line("2019年5月8日", 180, 600, 340, 630),
    ]

    assert classify_document(lines) == "registration_certificate"
    certificate = parse_registration_certificate(lines)
    assert certificate.plate == "粤BD12345"
    assert certificate.vin == "LSVAM4187C2184847"
    assert certificate.vin_check.valid
    assert certificate.register_date == date(2019, 5, 8)


# Field normalisation


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("京AA5599", "京AA5599"),
        ("皖A·818D8", "皖A818D8"),
        ("粤B D12345", "粤BD12345"),
        ("沪AO1I23", "沪A01123"),
        ("浙A1234学", "浙A1234学"),
        ("A-88602", None),
        ("号牌号码", None),
    ],
)
def test_normalize_plate(text, expected):
    assert normalize_plate(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2018-06-14", date(2018, 6, 14)),
        ("2018.6.4", date(2018, 6, 4)),
        ("2018年06月14日", date(2018, 6, 14)),
        ("20180614", date(2018, 6, 14)),
        ("2O18-06-14", date(2018, 6, 14)),
        ("2618-06-14", None),
        ("2018-13-40", None),
        ("1899-01-01", None),
    ],
)
def test_parse_date(text, expected):
    assert parse_date(text) == expected


def test_normalize_vin_keeps_valid_characters():
    # S, 5 and Z are all valid VIN characters, so none of them may be "corrected".
    reading = normalize_vin("HHGHHS55778802669")

    assert reading.text == "HHGHHS55778802669"
    assert reading.corrections == []


def test_normalize_vin_maps_impossible_letters():
    reading = normalize_vin("LFV 3A23C8J3 O4321Q")

    assert reading.text == "LFV3A23C8J3043210"
    assert reading.corrections == ["O->0 at position 12", "Q->0 at position 17"]


def test_normalize_vin_keeps_wrong_length():
    assert normalize_vin("LFV3A23C8J30432").text == "LFV3A23C8J30432"
    assert normalize_vin("12345") is None


# Odometer


def test_odometer_accuracy_floor(odometer_readings):
    correct = sum(expected == read for expected, read, _ in odometer_readings.values())

    assert len(odometer_readings) == 58
    assert correct >= ODOMETER_MIN_CORRECT, f"{correct}/58 exact readings"


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        ("00000003-PHOTO-2020-11-20-11-21-23.jpg", 64750),  # LCD with "km" caption
        ("00000148-PHOTO-2020-12-19-17-40-59.jpg", 318589),  # LCD beside speedometer labels
        ("00000021-PHOTO-2020-11-20-11-24-23.jpg", 490),  # drum "004909": tenths wheel dropped
        ("00000468-PHOTO-2020-12-17-10-47-31.jpg", 1870),  # drum "018704"
    ],
)
def test_odometer_known_reading(odometer_readings, file, expected):
    label, read, kind = odometer_readings[file]

    assert label == expected
    assert read == expected
    assert kind == "odometer"


def test_odometer_ignores_clock_trip_and_scale():
    lines = [
        make_line("100120", 50, 50, 200, 80),
        make_line("12:45", 300, 400, 380, 430),
        make_line("150.8km", 300, 300, 420, 330),
        make_line("Menzil 147 km", 300, 350, 480, 380),
        make_line("236096", 300, 200, 420, 240),
        make_line("km", 430, 210, 460, 235),
    ]

    assert parse_odometer(lines) == 236096


def test_odometer_prefers_attached_unit():
    lines = [make_line("189752", 100, 100, 220, 130), make_line("1i0240696km", 100, 300, 300, 340)]

    assert parse_odometer(lines) == 240696


def test_odometer_drum_drops_rolling_tenths():
    assert parse_odometer([make_line("0090620", 100, 100, 260, 130)]) == 906


def test_odometer_none_without_reading():
    assert parse_odometer([make_line("km/h", 10, 10, 60, 30), make_line("10:38", 100, 100, 160, 130)]) is None


# Plates


def test_plate_crop_accuracy_floor(engine):
    with open(PLATES / "labels.tsv", encoding="utf-8") as handle:
        rows = [line.split("\t") for line in handle.read().splitlines()[1:61]]

    correct = 0
    for file, text, *_ in rows:
        line = engine.read_line(load_rgb(PLATES / file))
        correct += normalize_plate(line.text if line else "") == text

    assert correct >= PLATES_MIN_CORRECT, f"{correct}/60 plates"


# Classification and the reader


def test_blank_page_is_unknown():
    reading = read_document(np.full((200, 300, 3), 255, dtype=np.uint8))

    assert reading.kind == "unknown"
    assert reading.engine == DEFAULT_ENGINE
    assert reading.vehicle_license is None
    assert reading.odometer_km is None


def test_printed_vin_is_vin_plate(engine):
    image = np.full((160, 900, 3), 255, dtype=np.uint8)
    cv2.putText(image, "VIN LSVAM4187C2184847", (20, 100), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (0, 0, 0), 3)

    reading = read_document(image, engine=engine)

    assert reading.kind == "vin_plate"
    assert reading.vin_check.text == "LSVAM4187C2184847"
    assert reading.vin_check.valid


def test_licence_lines_classify_as_licence(licence_lines):
    assert classify_document(licence_lines) == "vehicle_license"
    untitled = [line for line in licence_lines if "行驶证" not in line.text and "License" not in line.text]
    assert classify_document(untitled) == "vehicle_license"


# Engines


def test_get_engine_returns_shared_instance():
    assert get_engine("rapidocr", threads=1) is get_engine("rapidocr", threads=1)
    assert get_engine("rapidocr") is get_engine("rapidocr", threads=None)
    assert get_engine("tesseract") is get_engine("tesseract", threads=2)
    assert isinstance(get_engine("tesseract"), TesseractEngine)


def test_get_engine_rejects_unknown_name():
    with pytest.raises(ValueError, match="Unknown OCR engine 'paddle'"):
        get_engine("paddle")


def test_engine_rejects_non_rgb_array(engine):
    with pytest.raises(ValueError, match="H×W×3 uint8"):
        engine.read(np.zeros((10, 10), dtype=np.uint8))


def test_missing_tesseract_binary_raises(monkeypatch):
    import pytesseract

    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")

    with pytest.raises(ValuerError) as raised:
        TesseractEngine().read(np.full((32, 32, 3), 255, dtype=np.uint8))
    assert "not installed" in raised.value.message
    assert "未安装" in raised.value.message_zh


def test_rapidocr_engine_thread_safe(licence_rgb):
    engine = RapidOcrEngine(threads=1)
    crop = np.ascontiguousarray(licence_rgb[180:260, 100:900])
    expected = engine.read(crop)
    results = [None, None]

    def read(index: int) -> None:
        results[index] = engine.read(crop)

    threads = [threading.Thread(target=read, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert "京AA5599" in [line.text for line in expected]
    assert results == [expected, expected]
