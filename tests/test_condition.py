"""Condition score and its discount adjustment, on hand-made class shares."""

import pytest

from vision_valuer.condition import assess_condition


def test_undamaged_lot_scores_full_marks():
    condition = assess_condition([{"Scratched": 0.0, "Separated": 0.0, "Crushed": 0.0, "Breakage": 0.0}])
    assert condition.score == 100.0
    assert condition.grade == 5.0
    # A clean grade-5 car sells above the market's typical (grade 3.5) lot.
    assert condition.discount_adjustment < 0


def test_worst_photo_counts_not_the_sum():
    single = assess_condition([{"Crushed": 0.05}])
    repeated = assess_condition([{"Crushed": 0.05}, {"Crushed": 0.05}, {"Crushed": 0.02}])
    assert single.score == repeated.score


def test_penalty_formula():
    condition = assess_condition([{"Crushed": 0.05, "Scratched": 0.0125}])
    assert condition.penalties["Crushed"] == pytest.approx(25.0)
    assert condition.penalties["Scratched"] == pytest.approx(5.0)
    assert condition.score == pytest.approx(70.0)


def test_heavy_damage_raises_discount():
    light = assess_condition([{"Scratched": 0.01}])
    heavy = assess_condition([{"Crushed": 0.1, "Breakage": 0.08, "Separated": 0.06, "Scratched": 0.05}])
    assert heavy.score == pytest.approx(20.0)
    assert heavy.discount_adjustment > light.discount_adjustment
    assert heavy.discount_adjustment > 0.1
