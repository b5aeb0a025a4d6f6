"""Build the ForecastSpec (vocabularies, normalisation, weekly table) from the Carvana purchases."""

import pandas as pd

from vision_valuer.forecast_features import (
    MARKET_SEGMENT,
    WEEK_STAT_NAMES,
    ForecastSpec,
    NetworkShape,
    sequence_feature_names,
)

from . import data

QUANTILES = [0.1, 0.5, 0.9]
MODEL_VERSION = "discount-lstm-1.0.0"


def build_spec(purchases: pd.DataFrame, sequence_length: int, network: NetworkShape) -> ForecastSpec:
    """Derive every run-time constant.

    The weekly table covers all weeks. Vocabularies, normalisation and imputation use only the train split.
    """
    sizes = data.size_vocabulary(purchases)
    makes = data.make_vocabulary(purchases)
    segments = [MARKET_SEGMENT] + sizes[:-1]

    table = data.weekly_table(purchases, segments)
    sequence_mean, sequence_std = data.sequence_normalisation(table, data.train_week_limit(purchases))
    train = purchases[purchases["split"] == "train"]

    static_names = ["age_years", "age_years_missing", "odometer_km", "odometer_km_missing"]
    static_names += [f"size={size}" for size in sizes] + [f"make={make}" for make in makes]

    return ForecastSpec(
        model_version=MODEL_VERSION,
        quantiles=QUANTILES,
        interval_level=round(QUANTILES[-1] - QUANTILES[0], 6),
        sequence_length=sequence_length,
        first_week=data.first_monday(purchases),
        data_end=data.data_end(purchases),
        segments=segments,
        sizes=sizes,
        makes=makes,
        week_stat_names=list(WEEK_STAT_NAMES),
        weekly_table=table.round(6).tolist(),
        sequence_feature_names=sequence_feature_names(),
        sequence_mean=sequence_mean,
        sequence_std=sequence_std,
        static_feature_names=static_names,
        age_years=data.numeric_feature(train["age_years"]),
        odometer_km=data.numeric_feature(train["odometer_km"]),
        network=network,
    )
