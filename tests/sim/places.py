"""The locations and dates the simulator tests use."""

from datetime import date

from expediter.model.location import Location

NEW_YORK = Location(id="L001", name="Copper Kettle Grill Brooklyn", timezone="America/New_York")
LOS_ANGELES = Location(id="L004", name="Copper Kettle Grill Santa Monica", timezone="America/Los_Angeles")
DAY = date(2026, 11, 27)
