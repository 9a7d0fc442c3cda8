"""The quantiles a forecast gives by default: kept apart from the engine, so that the API and
the CLI can name them without importing statsforecast."""

DEFAULT_QUANTILES: tuple[float, ...] = (0.5, 0.8, 0.9, 0.95, 0.99)
