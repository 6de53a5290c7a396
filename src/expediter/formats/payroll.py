"""The payroll file exporter shared by the payroll connectors (ADP, Paychex).

The engine computes the request's pay period (:attr:`~expediter.plugin.ExportRequest.payroll`);
each connector only writes it in its provider's layout.
"""

from __future__ import annotations

from collections.abc import Callable

from expediter.errors import TerminalError
from expediter.formats.csv import ExportFile
from expediter.model.payroll import PayrollPeriod
from expediter.plugin.base import ExportRequest, OutputFile

PAYROLL_DATA = "payroll"

WritePayroll = Callable[[PayrollPeriod], ExportFile]


class PayrollFileExporter:
    """``payroll`` → the pay period's file, written by the provider's ``write`` (ADP, Paychex)."""

    def __init__(self, connector: str, write: WritePayroll) -> None:
        self.connector = connector
        self.write = write

    def export(self, data: str, request: ExportRequest) -> list[OutputFile]:
        if data != PAYROLL_DATA:
            raise TerminalError(f"the {self.connector} connector writes payroll files, not {data!r}")
        if request.payroll is None:
            raise TerminalError(f"the {self.connector} connector was given no pay period to write")
        written = self.write(request.payroll())
        return [OutputFile(name=written.name, data=written.content, records=written.records)]


__all__ = ["PAYROLL_DATA", "PayrollFileExporter", "WritePayroll"]
