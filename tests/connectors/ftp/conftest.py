from tests.servers import ftp_server, ftps_server, vsftpd_ftps_server, vsftpd_server  # noqa: F401  (pytest fixtures)
