"""The journal and payroll file exporters render what the request carries and nothing else."""

from __future__ import annotations

from datetime import date

import pytest

from expediter.formats.csv import ExportFile
from expediter.formats.journal import JournalFileExporter, journal_file_name
from expediter.formats.payroll import PayrollFileExporter
from expediter.model.journal import JournalEntry
from expediter.model.location import Location
from expediter.model.payroll import PayrollPeriod
from expediter.plugin import ExportRequest, OutputFile, TerminalError

DAY = date(2026, 11, 27)


def _request(**given: object) -> ExportRequest:
    return ExportRequest(
        catalog=None,  # type: ignore[arg-type]  # the exporters read only what the request carries
        location=Location(id="main-st", name="Main St", timezone="UTC"),
        start_date=DAY,
        end_date=DAY,
        orders=lambda: (),
        punches=lambda: (),
        **given,  # type: ignore[arg-type]
    )


def _entry(location_id: str) -> JournalEntry:
    return JournalEntry(
        location_id=location_id,
        business_date=DAY,
        document_number=f"{location_id}-1",
        currency="USD",
        lines=[],
    )


def _file(entry: JournalEntry, request: ExportRequest) -> OutputFile:
    return OutputFile(
        name=journal_file_name(entry.location_id, entry.business_date, "txt"), data=b"", records=0
    )


def test_journal_exporter_writes_one_file_per_entry_it_is_handed() -> None:
    request = _request(journal=lambda: [_entry("main st"), _entry("dock")])
    files = JournalFileExporter("books", _file).export("journal", request)
    assert [f.name for f in files] == ["journal_main_st_20261127.txt", "journal_dock_20261127.txt"]


def test_journal_exporter_without_a_journal_says_so() -> None:
    with pytest.raises(TerminalError, match="no journal"):
        JournalFileExporter("books", _file).export("journal", _request())
    with pytest.raises(TerminalError, match="writes the journal, not 'payroll'"):
        JournalFileExporter("books", _file).export("payroll", _request())


def test_payroll_exporter_writes_the_period_it_is_handed() -> None:
    period = PayrollPeriod(start=DAY, end=DAY, currency="USD", employees=[], open_punches=[])
    seen: list[PayrollPeriod] = []

    def write(given: PayrollPeriod) -> ExportFile:
        seen.append(given)
        return ExportFile(name="pay.csv", content=b"a,b\r\n", layout="pay", version=1, records=1, sha256="")

    [out] = PayrollFileExporter("pay", write).export("payroll", _request(payroll=lambda: period))
    assert seen == [period] and (out.name, out.records) == ("pay.csv", 1)
    with pytest.raises(TerminalError, match="no pay period"):
        PayrollFileExporter("pay", write).export("payroll", _request())
