"""Expediter: an integration hub for restaurants."""

__version__ = "0.1.0"
