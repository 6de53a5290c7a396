"""The canonical model: the one shape every connector maps to and from."""
