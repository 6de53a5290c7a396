"""The generic POS: the hub's canonical order API as a POS source, and a REST sink to a POS."""
