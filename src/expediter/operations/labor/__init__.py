"""Labor: hours from punches, overtime rule sets, wages, tips and tip pools.

- :mod:`.hours`: punches → worked shifts (breaks, business date of the start);
- :mod:`.overtime`: ``federal`` and ``california`` rule sets, chronological allocation;
- :mod:`.pay`: hours and wages by employee and job, per day or per pay period;
- :mod:`.tips`: card tips, declared cash tips, service-charge wages, tip pools.
"""
