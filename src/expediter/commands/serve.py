"""``expediter serve [CONFIG]``: run the hub for real (HTTP API, deliveries, every web module)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated

import structlog
import typer

DEFAULT_CONFIG = "expediter.toml"


def configure_logging(level: str = "info") -> None:
    """JSON lines on stderr. Payloads are never passed to the logger, so they never reach a log."""
    logging.basicConfig(format="%(message)s", level=level.upper())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=True,
    )


def serve(
    config: Annotated[Path, typer.Argument(help="The catalog file.", envvar="EXPEDITER_CONFIG")] = Path(
        DEFAULT_CONFIG
    ),
    host: Annotated[
        str | None, typer.Option(help="Listen address (default: the catalog's hub.host).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (default: the catalog's hub.port).")] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Processes sharing the database; one of them runs deliveries.")
    ] = 1,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Run the hub: the HTTP API, the delivery worker and every web module, on one port."""
    import uvicorn

    from expediter.runtime import Runtime
    from expediter.web.app import CONFIG_ENV, create_app, read_catalog

    configure_logging(log_level)
    catalog = read_catalog(config)
    options = {
        "host": host or catalog.hub.host,
        "port": port or catalog.hub.port,
        "access_log": False,
        "log_level": log_level,
        "http": "httptools",
        "loop": "uvloop",
    }
    typer.echo(f"expediter: serving {config} on http://{options['host']}:{options['port']}/", err=True)
    if workers > 1 and any(system.connector == "kds" for system in catalog.systems):
        raise typer.BadParameter(
            "the kitchen screens live in one process (their live feed and bump calls must reach the"
            " same kitchen); run with --workers 1, or serve the screens from a catalog without them",
            param_hint="--workers",
        )
    if workers == 1:
        runtime = Runtime(catalog)
        uvicorn.run(create_app(runtime.hub, runtime=runtime), **options)  # type: ignore[arg-type]
    else:
        os.environ[CONFIG_ENV] = str(config.resolve())
        uvicorn.run("expediter.web.app:app_from_env", factory=True, workers=workers, **options)  # type: ignore[arg-type]


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
