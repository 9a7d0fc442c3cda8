"""Leanstock: open-source just-in-time inventory management."""

__version__ = "0.1.0"
