"""The sftp file transport."""
