"""Baseline discount forecasts that the LSTM must beat: zero discount and trailing medians over past weeks."""

from datetime import date

import numpy as np
import pandas as pd

from vision_valuer.forecast_features import UNKNOWN_CATEGORY

# Candidate trailing windows in weeks. Evaluation picks one per baseline on the val split.
WINDOW_CHOICES = (1, 2, 4, 8, 12)

# A segment window with fewer purchases than this falls back to the whole market's window.
MIN_WINDOW_ROWS = 5


class TrailingQuantiles:
    """Discount quantiles over the N weeks strictly before a sale week, per segment or for the whole market.

    Built from all purchases; a forecast for week w reads only weeks w-N .. w-1, so it never reads its own
    week or later ones.
    """

    def __init__(self, purchases: pd.DataFrame, first_week: date):
        week_ids = np.array([(w - first_week).days // 7 for w in purchases["week_start"]])
        discounts = purchases["discount"].to_numpy()
        sizes = purchases["size"].to_numpy()
        self._market: dict[int, np.ndarray] = {}
        self._segment: dict[tuple[str, int], np.ndarray] = {}
        for week in np.unique(week_ids):
            in_week = week_ids == week
            self._market[int(week)] = discounts[in_week]
            for size in np.unique(sizes[in_week]):
                self._segment[(str(size), int(week))] = discounts[in_week & (sizes == size)]

    def _window(self, week: int, window: int, size: str | None) -> np.ndarray:
        empty = np.empty(0)
        if size is None:
            parts = [self._market.get(w, empty) for w in range(week - window, week)]
        else:
            parts = [self._segment.get((size, w), empty) for w in range(week - window, week)]
        return np.concatenate(parts)

    def predict(self, weeks: np.ndarray, sizes: list[str], window: int, by_segment: bool, levels: list[float]) -> np.ndarray:
        """Return float [N, len(levels)] quantiles for sale weeks `weeks` over the trailing `window` weeks.

        With `by_segment`, a lot uses its size's purchases, or the market's when its size is UNKNOWN or
        its segment window has fewer than MIN_WINDOW_ROWS purchases.
        """
        cache: dict[tuple[int, str | None], np.ndarray] = {}
        result = np.empty((len(weeks), len(levels)))
        for i, (week, size) in enumerate(zip(weeks, sizes)):
            key_size = size if by_segment and size != UNKNOWN_CATEGORY else None
            key = (int(week), key_size)
            if key not in cache:
                values = self._window(int(week), window, key_size)
                if len(values) < MIN_WINDOW_ROWS:
                    values = self._window(int(week), window, None)
                cache[key] = np.quantile(values, levels)
            result[i] = cache[key]
        return result


def mean_absolute_error(forecast: np.ndarray, target: np.ndarray) -> float:
    return float(np.abs(np.asarray(target) - np.asarray(forecast)).mean())


def select_window(history: TrailingQuantiles, val: pd.DataFrame, val_weeks: np.ndarray, by_segment: bool) -> int:
    """Return the trailing window (weeks) with the lowest val MAE of the median; ties go to the shorter window."""
    sizes = val["size"].tolist()
    target = val["discount"].to_numpy()
    errors = {
        window: mean_absolute_error(history.predict(val_weeks, sizes, window, by_segment, [0.5])[:, 0], target)
        for window in WINDOW_CHOICES
    }
    return min(WINDOW_CHOICES, key=lambda window: (errors[window], window))
