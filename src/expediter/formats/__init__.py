"""Generic file kits shared by connectors (X12 envelopes and transaction sets).

A ground-floor package: it imports only :mod:`expediter.model` and :mod:`expediter.errors`.
"""
