"""Connectors: one package per product, each a declaration the engine plugs in."""
