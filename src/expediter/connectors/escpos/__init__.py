"""Kitchen printers speaking ESC/POS over raw TCP (port 9100): the fallback when a screen is down."""
