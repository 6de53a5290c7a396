"""The folder file transport."""
