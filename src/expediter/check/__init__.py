"""``expediter check``: the catalog held against the installed connectors, every problem with its
file, flow and fix (``catalog``: the whole check; ``settings``, ``labor``, ``people``: its parts;
``installed``: which connectors this installation has). The catalog itself only declares.
"""
