"""Square POS connector."""
