"""Watching the flows: health, alert rules and channels, metrics."""
