"""The sample business behind `leanstock demo`: generated from a seed, no database needed."""

from leanstock.demo.generate import DemoBom, DemoBusiness, generate

__all__ = ["DemoBom", "DemoBusiness", "generate"]
