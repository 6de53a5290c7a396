from tests.servers import sftp_server  # noqa: F401  (pytest fixture)
