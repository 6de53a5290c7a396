"""Online ordering (a generic marketplace or web shop) connector."""
