"""Helpers for the London violence analysis: data layer, statistics, narrative, charts and runner.

Notebooks stay thin: they call into this package, which holds every computation.
"""

__all__ = ["__version__"]
__version__ = "0.1.0"
