"""The `leanstock` command line: each module registers its commands on the one app."""

from leanstock.entrypoints.cli import accounts as accounts
from leanstock.entrypoints.cli import backup as backup
from leanstock.entrypoints.cli import bench as bench
from leanstock.entrypoints.cli import customers as customers
from leanstock.entrypoints.cli import data as data
from leanstock.entrypoints.cli import forecast as forecast
from leanstock.entrypoints.cli import insight as insight
from leanstock.entrypoints.cli import kpis as kpis
from leanstock.entrypoints.cli import orders as orders
from leanstock.entrypoints.cli import plan as plan
from leanstock.entrypoints.cli import post as post
from leanstock.entrypoints.cli import quarantine as quarantine
from leanstock.entrypoints.cli import scorecards as scorecards
from leanstock.entrypoints.cli import serve as serve
from leanstock.entrypoints.cli import simulate as simulate
from leanstock.entrypoints.cli import stock as stock
from leanstock.entrypoints.cli import stocktake as stocktake
from leanstock.entrypoints.cli import supply as supply
from leanstock.entrypoints.cli import trace as trace
from leanstock.entrypoints.cli import valuation as valuation
from leanstock.entrypoints.cli import worker as worker
from leanstock.entrypoints.cli.app import app

__all__ = ["app"]
