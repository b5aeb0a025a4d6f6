"""Expected hammer price and recommended reserve price from the discount forecast and the condition."""

from .condition import ConditionAssessment
from .forecast import DiscountForecast
from .lot_metadata import LotMetadata
from .schema import Valuation

# The reserve is the lower end of the hammer-price interval: the forecast puts the hammer price
# above it with probability (1 + interval level) / 2, 90 % for an 80 % interval. A higher reserve
# risks a no-sale and another week of storage; a lower one gives the price away.
RESERVE_RULE = (
    "reserve = reference value x (1 - upper bound of the condition-adjusted discount interval), "
    "rounded down to 100; the hammer price is forecast to exceed it with probability (1 + level) / 2"
)

# A discount of 1 or more would mean a price of zero or below.
MAX_DISCOUNT = 0.95

# The reference value is the lot's market value in clean condition, and a repossessed lot is sold
# as is, so the service does not price it above that value. The forecaster can predict a higher
# price: its US training target (dealer cost against the MMR average) is below zero for most lots and far
# below for old cars. When its median is below zero, the whole forecast is shifted up so the median
# sits on the reference value; the spread of the interval is kept, and the pipeline flags the lot.
MIN_DISCOUNT = 0.0


def clip_discount(discount: float) -> float:
    return min(MAX_DISCOUNT, max(MIN_DISCOUNT, discount))


def value_lot(lot: LotMetadata | None, forecast: DiscountForecast, condition: ConditionAssessment) -> Valuation:
    """Shift the forecast by the condition adjustment and price the lot against its reference value."""
    shift = max(0.0, MIN_DISCOUNT - forecast.discount)
    adjustment = condition.discount_adjustment
    discount = clip_discount(forecast.discount + shift + adjustment)
    lower = clip_discount(forecast.lower + shift + adjustment)
    upper = clip_discount(forecast.upper + shift + adjustment)

    reference = float(lot.reference_value) if lot else None
    expected = low_price = high_price = reserve = None
    if reference is not None:
        expected = round(reference * (1 - discount), 2)
        low_price = round(reference * (1 - upper), 2)
        high_price = round(reference * (1 - lower), 2)
        reserve = float(int(low_price // 100) * 100)

    return Valuation(
        currency=lot.currency if lot else None,
        reference_value=reference,
        forecast=forecast,
        condition_adjustment=adjustment,
        discount=round(discount, 4),
        discount_lower=round(lower, 4),
        discount_upper=round(upper, 4),
        expected_hammer_price=expected,
        hammer_price_lower=low_price,
        hammer_price_upper=high_price,
        recommended_reserve_price=reserve,
        reserve_rule=RESERVE_RULE,
        recentre_shift=round(shift, 4),
    )
