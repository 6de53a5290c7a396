"""Settings of the built-in KDS system (the ``kds`` system's ``settings`` table in the catalog).

Example::

    [[systems]]
    id = "kds"
    kind = "kds"
    connector = "kds"
    owner = "Chef"
    settings = { default_station = "kitchen", course_mode = "hold",
                 timing = { yellow_seconds = 300, red_seconds = 600 },
                 stations = { bar = { yellow_seconds = 120, red_seconds = 240 } } }

Category → station routing is in ``[mappings.stations]``.
"""

from expediter.model.kitchen import KitchenSettings

KdsSettings = KitchenSettings

__all__ = ["KdsSettings"]
