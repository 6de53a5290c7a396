"""``/imports``: a manager uploads a file, sees every problem by row and column, and commits.

- ``GET /imports``: the upload form (the flows a person imports into, the location, the business
  date) and the recent imports;
- ``PUT /imports/upload?flow=&location=&date=&name=``: the file as the request body (the page's
  script sends it with a progress bar; no multipart parsing), streamed to a file in the hub's data
  folder and read in the background; answers ``{"id", "url"}`` at once;
- ``GET /imports/{id}``: while reading, how far it got (the page refreshes); then the preview: the
  file's encoding and delimiter, the first good rows, every problem by row and column, and the
  Commit and Discard buttons; ``GET /imports/{id}/quarantine.csv`` downloads the bad rows;
- ``POST /imports/{id}/commit`` and ``/discard``.

Every write needs the operator role (:func:`expediter.web.roles.needs`) and the session's CSRF
token (the form's field, or the upload's ``X-CSRF-Token`` header), checked by the door; a person
limited to some locations imports into, sees and commits only their locations' imports.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from datetime import date
from pathlib import Path

import msgspec
import structlog
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import BaseRoute, Route

from expediter.catalog.paths import data_dir
from expediter.catalog.schema import Flow
from expediter.engine import imports
from expediter.engine.hub import Hub
from expediter.engine.imports.quarantine import quarantine_chunks
from expediter.errors import ExpediterError, RejectedInput
from expediter.model import clock
from expediter.operations.imports import KINDS
from expediter.web.dashboard import _templates
from expediter.web.people import note_for_audit, sees
from expediter.web.roles import Role, needs

MAX_UPLOAD_BYTES = 1 << 30
"""The largest file the page takes (1 GiB: a distributor's million-item price list is ~100 MB)."""
UPLOAD_PATH = "/imports/upload"
READING_REFRESH_SECONDS = 2
log = structlog.get_logger("expediter.imports")


class UploadAccepted(msgspec.Struct, kw_only=True):
    """The answer to an upload: the import, read in the background, and its page."""

    id: int
    url: str


class ImportsPage:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._readings: set[asyncio.Task[None]] = set()

    @property
    def flows(self) -> list[Flow]:
        return [f for f in self.hub.catalog.flows if f.data in KINDS]

    async def index(self, request: Request) -> Response:
        today = {loc.id: loc.business_date_for(clock.now()).isoformat() for loc in self.hub.catalog.locations}
        html = _templates.get_template("imports.html").render(
            flows=self.flows,
            kinds=KINDS,
            locations=[loc for loc in self.hub.catalog.locations if sees(request, loc.id)],
            today=today,
            recent=[r for r in await imports.recent(self.hub.storage) if sees(request, r.location_id)],
            max_bytes=MAX_UPLOAD_BYTES,
            page="imports",
        )
        return HTMLResponse(html)

    @needs(Role.OPERATOR)
    async def upload(self, request: Request) -> Response:
        try:
            import_request = self._request(request)
        except RejectedInput as exc:
            return JSONResponse({"error": exc.message, "where": exc.where, "fix": exc.fix}, status_code=422)
        if not sees(request, import_request.location.id):
            refusal = {"error": f"you do not import for {import_request.location.id}", "where": "location"}
            return JSONResponse({**refusal, "fix": "choose one of your own locations"}, status_code=403)
        import_id = await imports.create(self.hub.storage, import_request)
        path = _upload_path(self.hub, import_id)
        try:
            size = await _save_body(request, path)
        except RejectedInput as exc:
            path.unlink(missing_ok=True)
            await imports.discard(self.hub.storage, import_id)
            return JSONResponse({"error": exc.message, "where": exc.where, "fix": exc.fix}, status_code=413)
        task = asyncio.create_task(
            self._read(import_request, import_id, path, size), name=f"import {import_id}"
        )
        self._readings.add(task)
        task.add_done_callback(self._readings.discard)
        note_for_audit(
            request,
            f"import {import_id} of {import_request.file_name} into {import_request.flow.id}",
            import_request.location.id,
        )
        accepted = UploadAccepted(id=import_id, url=f"/imports/{import_id}")
        return Response(msgspec.json.encode(accepted), status_code=202, media_type="application/json")

    def _request(self, request: Request) -> imports.ImportRequest:
        query = request.query_params
        flow = next((f for f in self.flows if f.id == query.get("flow")), None)
        if flow is None:
            raise RejectedInput("choose a flow to import into", where="flow", fix="pick one from the list")
        location = self.hub.catalog.location(query.get("location", ""))
        if location is None:
            raise RejectedInput("choose a location", where="location", fix="pick one from the list")
        try:
            day = date.fromisoformat(query.get("date", "")) if query.get("date") else None
        except ValueError:
            raise RejectedInput("the date is not a date", where="date", fix="YYYY-MM-DD") from None
        name = os.path.basename(query.get("name", "") or "upload.csv")
        return imports.ImportRequest(
            flow=flow,
            location=location,
            business_date=day or location.business_date_for(clock.now()),
            file_name=name,
            endpoint="dashboard",
        )

    async def _read(self, request: imports.ImportRequest, import_id: int, path: Path, size: int) -> None:
        try:
            with path.open("rb") as stream:
                await imports.read_file(self.hub, request, stream, size=size, import_id=import_id)
        except Exception:
            log.exception("import_read_failed", import_id=import_id)
        finally:
            with contextlib.suppress(OSError):
                path.unlink()

    async def show(self, request: Request) -> Response:
        try:
            found = await imports.preview(self.hub, await self._seen_id(request))
        except RejectedInput as exc:
            return PlainTextResponse(exc.message, status_code=404)
        reading = found.record.state is imports.ImportState.READING
        html = _templates.get_template("import.html").render(
            preview=found,
            record=found.record,
            State=imports.ImportState,
            title=KINDS[found.record.kind].title if found.record.kind in KINDS else found.record.kind,
            flash=request.query_params.get("done", ""),
            refresh=READING_REFRESH_SECONDS if reading else 0,
            page="imports",
        )
        return HTMLResponse(html)

    async def quarantine(self, request: Request) -> Response:
        try:
            import_id = await self._seen_id(request)
            record = await imports.get(self.hub.storage, import_id)
        except RejectedInput as exc:
            return PlainTextResponse(exc.message, status_code=404)
        stem = Path(record.file_name).stem or "import"
        return StreamingResponse(
            quarantine_chunks(self.hub.storage, import_id),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{stem}-quarantine.csv"'},
        )

    @needs(Role.OPERATOR)
    async def commit(self, request: Request) -> Response:
        try:
            import_id = await self._seen_id(request)
        except RejectedInput as exc:
            return PlainTextResponse(exc.message, status_code=404)
        try:
            done = await imports.commit(self.hub, import_id, endpoint="dashboard")
        except ExpediterError as exc:
            return PlainTextResponse(f"not committed: {exc}", status_code=409)
        note_for_audit(
            request, f"import {import_id} committed: {done.record.outcome}", done.record.location_id
        )
        return RedirectResponse(f"/imports/{import_id}?done={done.record.outcome}", status_code=303)

    @needs(Role.OPERATOR)
    async def discard(self, request: Request) -> Response:
        try:
            import_id = await self._seen_id(request)
        except RejectedInput as exc:
            return PlainTextResponse(exc.message, status_code=404)
        await imports.discard(self.hub.storage, import_id)
        note_for_audit(request, f"import {import_id} discarded")
        return RedirectResponse(f"/imports/{import_id}?done=discarded", status_code=303)

    async def _seen_id(self, request: Request) -> int:
        """The import of the path, if it is one of the person's locations (else as if none)."""
        import_id = import_id_of(request)
        record = await imports.get(self.hub.storage, import_id)
        if not sees(request, record.location_id):
            raise RejectedInput(f"no import {import_id}", where="the import id", fix="list them at /imports")
        return import_id

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/imports", self.index, methods=["GET"]),
            Route(UPLOAD_PATH, self.upload, methods=["PUT"]),
            Route("/imports/{import_id}", self.show, methods=["GET"]),
            Route("/imports/{import_id}/quarantine.csv", self.quarantine, methods=["GET"]),
            Route("/imports/{import_id}/commit", self.commit, methods=["POST"]),
            Route("/imports/{import_id}/discard", self.discard, methods=["POST"]),
        ]


def import_id_of(request: Request) -> int:
    """The import the path names; :class:`RejectedInput` for what cannot be an import's id."""
    text = str(request.path_params["import_id"])
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise RejectedInput(f"no import {text[:40]!r}", where="the import id", fix="list them at /imports")
    return int(text)


def _upload_path(hub: Hub, import_id: int) -> Path:
    folder = data_dir(hub.catalog) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"import-{import_id}.upload"


async def _save_body(request: Request, path: Path) -> int:
    """The request body into ``path`` as it arrives (never whole in memory), at most
    :data:`MAX_UPLOAD_BYTES`."""
    size = 0
    with path.open("wb") as out:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                raise RejectedInput(
                    f"the file is larger than {MAX_UPLOAD_BYTES >> 20} MiB",
                    where="the file",
                    fix="split it, or import it with `expediter import` on the hub's machine",
                )
            await asyncio.to_thread(out.write, chunk)
    return size


def routes(hub: Hub) -> list[BaseRoute]:
    return ImportsPage(hub).routes()
