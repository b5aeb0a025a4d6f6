"""Condition score from damage findings, and the discount adjustment it implies.

Condition score (0 to 100, 100 = no visible damage):

    score = 100 - sum over damage classes c of  W[c] * sqrt(min(1, s[c] / 0.05))

where s[c] is the largest share of any one photo's pixels that class c covers (the largest, not
the sum, because the same dent is usually photographed from several angles), and W is the
weight per class below. The square root makes the first percent of damage count most, and a
class stops adding at 5 % of a photo: in a whole-vehicle photo a crushed front end covers only a
few percent of the pixels. The maximum penalty is 80, so the score ranges 20 to 100.

Discount adjustment: the forecaster predicts the discount of a lot in the market's typical
condition, because its training data has no condition column. The score is mapped linearly to
the 1.0 to 5.0 auction condition grade (grade = 1 + 4 * score / 100), and the forecast is shifted
by  effect(grade) - effect(median grade), where effect is the median discount per grade measured
on US auction sales (`weights/condition_effect.json`, written by `models/condition/fit_effect.py`).
"""

import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from .config import settings

CLASS_WEIGHTS = {"Scratched": 10.0, "Separated": 15.0, "Crushed": 25.0, "Breakage": 30.0}
SATURATION_SHARE = 0.05


class ConditionAssessment(BaseModel):
    score: float = Field(description="0-100, 100 = no visible body damage")
    grade: float = Field(description="equivalent auction condition grade, 1.0-5.0")
    worst_share: dict[str, float] = Field(description="largest share of one photo per damage class")
    penalties: dict[str, float]
    discount_adjustment: float = Field(description="added to the forecast discount; negative raises the price")


@lru_cache(maxsize=4)
def _load_effect_curve(path: Path) -> tuple[np.ndarray, np.ndarray, float]:
    effect = json.loads(path.read_text())
    grades = np.array([point["grade"] for point in effect["curve"]])
    discounts = np.array([point["median_discount"] for point in effect["curve"]])
    return grades, discounts, float(effect["median_grade"])


def assess_condition(class_shares_per_photo: list[dict[str, float]], effect_path: Path | None = None) -> ConditionAssessment:
    """Score a lot's condition from the per-photo class shares of its vehicle photos."""
    worst_share = {name: 0.0 for name in CLASS_WEIGHTS}
    for shares in class_shares_per_photo:
        for name, share in shares.items():
            worst_share[name] = max(worst_share[name], share)

    penalties = {
        name: round(CLASS_WEIGHTS[name] * math.sqrt(min(1.0, share / SATURATION_SHARE)), 2)
        for name, share in worst_share.items()
    }
    score = round(100.0 - sum(penalties.values()), 1)
    grade = round(1.0 + 4.0 * score / 100.0, 2)

    grades, discounts, median_grade = _load_effect_curve(effect_path or settings.weights_dir / "condition_effect.json")
    adjustment = float(np.interp(grade, grades, discounts) - np.interp(median_grade, grades, discounts))

    return ConditionAssessment(
        score=score,
        grade=grade,
        worst_share={name: round(share, 5) for name, share in worst_share.items()},
        penalties=penalties,
        discount_adjustment=round(adjustment, 4),
    )
