"""Xero: the daily journal as a manual-journal import CSV."""
