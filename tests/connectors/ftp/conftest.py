from tests.servers import ftp_server, ftps_server  # noqa: F401  (pytest fixtures)
