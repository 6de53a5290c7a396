"""The templates of the sign-in layer's own pages (sign-in, first run, refusals, pairing, devices,
audit), with the globals every hub page may use: ``csrf_field()`` (the hidden field every form
must carry) and ``signed_in()`` (who is asking, or ``None``)."""

from __future__ import annotations

from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.responses import HTMLResponse

if TYPE_CHECKING:
    from expediter.web.guard import Actor

WEB = Path(__file__).parent
CSRF_FIELD = "csrf"
CURRENT: ContextVar[Actor | None] = ContextVar("expediter_actor", default=None)
"""Who the request being answered comes from (set by :mod:`expediter.web.guard`)."""


def signed_in() -> Actor | None:
    return CURRENT.get()


def csrf_token() -> str:
    actor = CURRENT.get()
    return actor.csrf if actor is not None else ""


def csrf_field() -> Markup:
    """``<input type="hidden" name="csrf" value="...">``: put it in every form that posts."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, escape(csrf_token()))


GLOBALS: dict[str, Any] = {"csrf_field": csrf_field, "csrf_token": csrf_token, "signed_in": signed_in}
templates = Environment(loader=FileSystemLoader(WEB / "templates"), autoescape=select_autoescape())
templates.globals.update(GLOBALS)


def page(template: str, status: int = 200, /, **context: Any) -> HTMLResponse:
    return HTMLResponse(templates.get_template(template).render(**context), status_code=status)
