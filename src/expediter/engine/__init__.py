"""The engine: store first (inbox), route, deliver in order with retries, record every transfer.

The :class:`~expediter.engine.hub.Hub` ties the parts together; see ``docs/internals.md``.
"""
