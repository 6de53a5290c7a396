"""The demo restaurant: every system connected, on the embedded SQLite default, on one port."""
