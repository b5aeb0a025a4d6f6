"""Compare the OCR engines on the shared document, plate and odometer test data.

For each engine this prints the field accuracy on the 行驶证 specimen (field by field), the exact-match
plate accuracy on the first plate crops, the exact-match odometer accuracy on the dashboard photos,
and the seconds per image of each. Owner and address are compared but never printed.

Usage, from the repository root:

    python benchmarks/ocr_engines.py [--engines rapidocr tesseract] [--threads 1] [--plates 60]
"""

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from vision_valuer.decode import decode_image  # noqa: E402
from vision_valuer.documents.classify import classify_document  # noqa: E402
from vision_valuer.documents.fields import normalize_plate  # noqa: E402
from vision_valuer.documents.ocr_engines import ENGINES, OcrEngine, get_engine  # noqa: E402
from vision_valuer.documents.odometer import parse_odometer  # noqa: E402
from vision_valuer.documents.reader import read_document, read_vehicle_license  # noqa: E402
from vision_valuer.documents.vehicle_license import PERSONAL_FIELDS  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data"
LICENSE_FIELDS = (
    "plate", "vehicle_type", "owner", "address", "use_character", "brand_model",
    "vin", "engine_no", "register_date", "issue_date",
)  # fmt: skip


def load_rgb(path: Path):
    return decode_image(path.read_bytes(), name=path.name).rgb


def benchmark_license(engine: OcrEngine, data: Path) -> None:
    """Print which 行驶证 fields the engine reads correctly, and the check-digit verdict.

    Column "reader" is read_document, which must first classify the page. Column "as licence" is
    read_vehicle_license, which is told the page is a 行驶证, so it measures the OCR alone.
    """
    folder = data / "documents"
    for label_line in (folder / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        labels = json.loads(label_line)
        rgb = load_rgb(folder / labels["file"])

        started = time.perf_counter()
        reading = read_document(rgb, engine=engine, include_personal=True)
        seconds = time.perf_counter() - started
        known_licence = read_vehicle_license(rgb, engine=engine, include_personal=True)

        print(f"  行驶证 {labels['file']}: classified as {reading.kind}, {seconds:.2f} s")
        print(f"    {'field':<14} reader as licence  value read as licence")
        correct = {"reader": 0, "as licence": 0}
        for field in LICENSE_FIELDS:
            by_reader = getattr(reading.vehicle_license, field) if reading.vehicle_license else None
            by_parser = getattr(known_licence, field)
            reader_ok = _as_text(by_reader) == labels[field]
            parser_ok = _as_text(by_parser) == labels[field]
            correct["reader"] += reader_ok
            correct["as licence"] += parser_ok

            text = _as_text(by_parser)
            if field in PERSONAL_FIELDS and by_parser is not None:
                text = "(read, not printed)"
            print(f"    {field:<14} {_mark(reader_ok):<6} {_mark(parser_ok):<10} {text}")

        check = reading.vin_check
        verdict = "no VIN read"
        if check is not None:
            verdict = f"VIN {check.text} check_digit_ok={check.check_digit_ok}"
        total = len(LICENSE_FIELDS)
        print(
            f"    field accuracy: reader {correct['reader']}/{total}, "
            f"as licence {correct['as licence']}/{total}; reader {verdict}"
        )


def _as_text(value) -> str:
    return "" if value is None else str(value)


def _mark(ok: bool) -> str:
    return "ok" if ok else "MISS"


def benchmark_plates(engine: OcrEngine, data: Path, count: int) -> None:
    """Print the exact-match accuracy of one-line reads of the first `count` plate crops."""
    folder = data / "plates"
    with open(folder / "labels.tsv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))[:count]

    correct = 0
    started = time.perf_counter()
    for row in rows:
        line = engine.read_line(load_rgb(folder / row["file"]))
        correct += normalize_plate(line.text if line else "") == row["text"]
    seconds = (time.perf_counter() - started) / len(rows)
    print(f"  plates: {correct}/{len(rows)} exact ({correct / len(rows):.1%}), {seconds:.2f} s per crop")


def benchmark_odometer(engine: OcrEngine, data: Path) -> None:
    """Print the exact-match odometer accuracy and how many photos classify as odometers."""
    folder = data / "odometer"
    labels = [json.loads(line) for line in (folder / "labels.jsonl").read_text().splitlines()]

    correct = 0
    classified = 0
    started = time.perf_counter()
    for label in labels:
        lines = engine.read(load_rgb(folder / label["file"]))
        correct += parse_odometer(lines) == label["odometer"]
        classified += classify_document(lines) == "odometer"
    seconds = (time.perf_counter() - started) / len(labels)
    print(
        f"  odometer: {correct}/{len(labels)} exact ({correct / len(labels):.1%}), "
        f"{classified}/{len(labels)} classified as odometer, {seconds:.2f} s per photo"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", nargs="+", default=sorted(ENGINES), choices=sorted(ENGINES))
    parser.add_argument(
        "--threads", type=int, default=None, help="inference threads for RapidOCR (default: onnxruntime's choice)"
    )
    parser.add_argument("--plates", type=int, default=60, help="number of plate crops to read (default: 60)")
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        help="folder with the documents/, plates/ and odometer/ test data (default: ../shared/data)",
    )
    args = parser.parse_args()

    for name in args.engines:
        engine = get_engine(name, threads=args.threads)
        # Load the models before any timing starts.
        engine.read(np.full((64, 64, 3), 255, dtype=np.uint8))
        print(f"engine {name}")
        benchmark_license(engine, args.data)
        benchmark_plates(engine, args.data, args.plates)
        benchmark_odometer(engine, args.data)


if __name__ == "__main__":
    main()
