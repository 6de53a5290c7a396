"""The PostgreSQL test server itself: a port taken between its choice and the start is replaced."""

from __future__ import annotations

import shutil
import socket
import tempfile
from pathlib import Path

import pytest

from tests.postgres import LOOPBACK, PORT_IN_USE, PostgresServer, postgres_binaries

pytestmark = pytest.mark.service


def test_a_server_whose_port_was_taken_starts_on_a_new_one() -> None:
    binaries = postgres_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL is not installed here (apt-get install postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="expediter-postgres-"))  # the postgres user must reach it
    server = PostgresServer(folder, binaries)
    try:
        with socket.socket() as squatter:  # another process took the port meanwhile
            squatter.bind((LOOPBACK, server.port))
            squatter.listen()
            taken = server.port
            server.start()
            assert server.port != taken
            assert PORT_IN_USE in (folder / "server.log").read_text()
            import psycopg

            with psycopg.connect(server.url()) as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
