"""Replenishment-policy maths: textbook models, service levels, rules and the planner.

- `classic`: EOQ (with price breaks), newsvendor, (r, Q) under EIL, optimal (s, S).
- `distributions`: lead-time demand, loss functions, fill-rate and cycle-service levels.
- `rules`: MOQ/pack rounding with a maximum, kanban sizing, shelf-life cap, MTO check.
- `lead_time`: lead-time mean and spread from supplier receipts.
- `plan`: `plan_policies` and `suggest_orders`, the frame contracts the plan service uses;
  `explain` words each plan row's reason; `kinds` names the policies.
"""

from leanstock.planning.policy.classic import (
    eoq,
    eoq_price_breaks,
    newsvendor_normal,
    rq_eil,
    zheng_federgruen,
)
from leanstock.planning.policy.distributions import (
    buffer_levels,
    count_levels,
    negative_binomial_parameters,
    normal_levels,
    normal_loss,
    poisson_loss,
    protection_moments,
)
from leanstock.planning.policy.kinds import POLICIES
from leanstock.planning.policy.lead_time import lead_time_from_receipts
from leanstock.planning.policy.plan import (
    SERVICE_BY_CLASS,
    PlanInputError,
    plan_policies,
    suggest_orders,
)
from leanstock.planning.policy.rules import (
    kanban_cards,
    lead_time_fits,
    round_order_quantity,
    shelf_life_level,
)

__all__ = [
    "POLICIES",
    "SERVICE_BY_CLASS",
    "PlanInputError",
    "buffer_levels",
    "count_levels",
    "eoq",
    "eoq_price_breaks",
    "kanban_cards",
    "lead_time_fits",
    "lead_time_from_receipts",
    "negative_binomial_parameters",
    "newsvendor_normal",
    "normal_levels",
    "normal_loss",
    "plan_policies",
    "poisson_loss",
    "protection_moments",
    "round_order_quantity",
    "rq_eil",
    "shelf_life_level",
    "suggest_orders",
    "zheng_federgruen",
]
