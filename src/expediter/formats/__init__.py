"""Generic file kits shared by connectors (``csv``: versioned CSV layouts, safe in a spreadsheet;
``x12``: X12 envelopes and transaction sets) and the hub's own imports (``tabular``: delimited text
as spreadsheets save it).

A ground-floor package: it imports only :mod:`expediter.model` and :mod:`expediter.errors`.
"""
