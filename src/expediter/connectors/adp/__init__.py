"""ADP Workforce Now: the paydata import file (EPI) of a pay period."""
