"""The command line: example lot, the bad-input corpus through `appraise`, and `batch`."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vision_valuer.cli import EXIT_REJECTED, main

from .helpers import BAD_INPUTS, EXAMPLE_LOT, expected_rows


def run_cli(capsys, *args) -> tuple[int, dict]:
    code = main(["appraise", *map(str, args), "--json", "--no-store"])
    return code, json.loads(capsys.readouterr().out)


def test_appraise_example_lot_json(capsys):
    code, appraisal = run_cli(capsys, EXAMPLE_LOT)
    assert code == 0
    assert appraisal["documents"][0]["reading"]["vehicle_license"]["plate"] == "京AA5599"
    assert appraisal["valuation"]["recommended_reserve_price"] > 0
    assert "vin_check_digit_mismatch" in [flag["code"] for flag in appraisal["flags"]]


def test_console_script_prints_summary(tmp_path):
    script = Path(sys.executable).parent / "vision-valuer"
    completed = subprocess.run(
        [str(script), "appraise", str(EXAMPLE_LOT)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "VISION_VALUER_DATA_DIR": str(tmp_path)},
    )
    assert completed.returncode == 0, completed.stderr
    assert "京AA5599" in completed.stdout
    assert "2018-06-14" in completed.stdout
    assert "Recommended reserve" in completed.stdout
    assert "vin_check_digit_mismatch" in completed.stdout
    # The appraisal was stored in the data directory.
    assert (tmp_path / "appraisals.sqlite3").exists()


@pytest.mark.parametrize("row", expected_rows("images/"), ids=lambda row: row["path"])
def test_bad_image_through_cli(row, tmp_path, capsys):
    photos = tmp_path / "lot" / "photos"
    photos.mkdir(parents=True)
    shutil.copy(BAD_INPUTS / row["path"], photos / row["path"].split("/")[-1])

    code, output = run_cli(capsys, tmp_path / "lot")

    if row["expected"] == "ok":
        assert code == 0, output
        photo = output["photos"][0]
        assert (photo["width"], photo["height"]) == (int(row["width"]), int(row["height"]))
    else:
        assert code == EXIT_REJECTED
        assert output["error"]["code"] == row["expected"]
        assert output["error"]["file"] == row["path"].split("/")[-1]


@pytest.mark.parametrize("row", expected_rows("lots/"), ids=lambda row: row["path"])
def test_bad_lot_json_through_cli(row, tmp_path, capsys):
    lot = tmp_path / "lot"
    (lot / "photos").mkdir(parents=True)
    shutil.copy(BAD_INPUTS / "images" / "baseline.jpg", lot / "photos" / "baseline.jpg")
    shutil.copy(BAD_INPUTS / row["path"], lot / "lot.json")
    checks = dict(token.split("=", 1) for token in row["check"].split(";") if "=" in token)

    code, output = run_cli(capsys, lot)

    if row["expected"] == "ok":
        assert code == 0, output
        flags = [flag["code"] for flag in output["flags"]]
        if "flag" in checks:
            assert checks["flag"] in flags
        if "no_flags" in row["check"]:
            # No flag about the lot's own data; flags about the market model may remain.
            lot_flags = [code for code in flags if code.startswith(("vin_", "mileage_", "registration_"))]
            assert not lot_flags
        if "ignored" in checks:
            assert checks["ignored"] in output["ignored_lot_fields"]
        if "region" in checks:
            assert output["lot"]["region"] == checks["region"]
    else:
        assert code == EXIT_REJECTED
        assert output["error"]["code"] == "invalid_lot_metadata"
        assert output["error"]["field"] in checks["field"].split("|")


def test_batch_continues_past_bad_lot(tmp_path, capsys):
    root = tmp_path / "lots"
    shutil.copytree(EXAMPLE_LOT, root / "a_good")
    (root / "b_bad" / "photos").mkdir(parents=True)
    shutil.copy(BAD_INPUTS / "images" / "truncated.jpg", root / "b_bad" / "photos" / "truncated.jpg")
    (root / "c_no_photos").mkdir()
    out = tmp_path / "results.jsonl"

    code = main(["batch", str(root), "--out", str(out), "--no-store"])

    assert code == 0
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["lot"] for line in lines] == ["a_good", "b_bad", "c_no_photos"]
    assert lines[0]["ok"] is True
    assert lines[0]["appraisal"]["lot_name"] == "a_good"
    assert lines[1]["error"]["code"] == "truncated_image"
    assert lines[2]["error"]["code"] == "invalid_lot"
