"""Replay a demand history under a replenishment policy, period by period, all items at once.

The simulator answers "what service and how much stock would this policy have given on our
own history?" without look-ahead: at every review the forecast and the policy see only the
demand of the periods already played.

- `forecasters`: the demand models re-fitted at every review (exponential, plain history,
  any forecast function);
- `policies`: the item data and the policies that set (s, S) at a review (the planner's
  maths with service feedback, a textbook base-stock baseline);
- `replay`: `simulate`, the period-by-period replay, and its `SimulationResult`;
- `history`: demand and item tables in, the named policies, per-item figures out.
"""

from leanstock.planning.simulate.forecasters import (
    ExponentialForecaster,
    Forecast,
    Forecaster,
    ForecastFunction,
    FunctionForecaster,
    HistoryForecaster,
)
from leanstock.planning.simulate.history import (
    POLICY_CHOICES,
    CatalogComparison,
    PreparedHistory,
    SimulationInputError,
    compare_catalog_target,
    prepare_history,
    results_by_item,
    simulate_history,
)
from leanstock.planning.simulate.policies import (
    BaseStockPolicy,
    Items,
    PlannerPolicy,
    Policy,
    ReviewState,
)
from leanstock.planning.simulate.replay import SimulationResult, Supply, simulate

__all__ = [
    "POLICY_CHOICES",
    "BaseStockPolicy",
    "CatalogComparison",
    "ExponentialForecaster",
    "Forecast",
    "ForecastFunction",
    "Forecaster",
    "FunctionForecaster",
    "HistoryForecaster",
    "Items",
    "PlannerPolicy",
    "Policy",
    "PreparedHistory",
    "ReviewState",
    "SimulationInputError",
    "SimulationResult",
    "Supply",
    "compare_catalog_target",
    "prepare_history",
    "results_by_item",
    "simulate",
    "simulate_history",
]
