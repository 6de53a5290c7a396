"""The ftp file transport."""
