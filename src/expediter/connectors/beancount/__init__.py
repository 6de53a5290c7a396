"""Beancount: the daily journal as plain-text double-entry transactions."""
