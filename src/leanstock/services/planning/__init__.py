"""The plan run (`run`) and its review into orders (`review`)."""

from leanstock.services.planning.review import (
    PlanLine,
    PlanRun,
    approve_plan,
    drop_plan_line,
    edit_plan_line,
    get_plan,
    list_plans,
    release_plan,
)
from leanstock.services.planning.run import run_plan

__all__ = [
    "PlanLine",
    "PlanRun",
    "approve_plan",
    "drop_plan_line",
    "edit_plan_line",
    "get_plan",
    "list_plans",
    "release_plan",
    "run_plan",
]
