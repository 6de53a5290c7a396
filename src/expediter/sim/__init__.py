"""The restaurant simulator: a realistic casual grill's checks and time punches, reproducibly.

Start with :func:`expediter.sim.day.simulate_day` (or ``iter_orders`` for long runs),
:func:`expediter.sim.locations.sim_locations` for a group of locations, and
:func:`expediter.sim.post.post_orders` to stream checks to a running hub.
"""
