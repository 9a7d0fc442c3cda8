"""`python -m leanstock.entrypoints.cli` runs the CLI (what the `leanstock` script does)."""

from leanstock.entrypoints.cli import app

app()
