"""Paths and small utilities shared by the tests."""

import csv
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
BAD_INPUTS = SHARED / "bad-inputs"
EXAMPLE_LOT = REPO / "examples" / "lot"


def expected_rows(prefix: str) -> list[dict]:
    """Rows of the bad-input corpus's EXPECTED.tsv whose path starts with prefix."""
    with open(BAD_INPUTS / "EXPECTED.tsv", newline="", encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle, delimiter="\t") if row["path"].startswith(prefix)]
