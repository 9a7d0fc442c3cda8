"""The sample business behind `leanstock demo`: generated from a seed, no database needed."""

from leanstock.demo.generate import DemoBusiness, generate

__all__ = ["DemoBusiness", "generate"]
