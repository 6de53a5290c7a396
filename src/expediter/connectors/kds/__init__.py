"""The built-in kitchen display system: orders become tickets on the hub's own screens."""
