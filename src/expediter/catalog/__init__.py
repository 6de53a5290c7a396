"""The catalog: declared locations, systems and flows; loaded, checked, documented and drawn."""
