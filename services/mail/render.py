"""Email bodies from Jinja2 templates (autoescaped HTML, plain text alongside)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.mail.outbox import Attachment, Mail

TEMPLATES = Path(__file__).parent / "templates" / "mail"


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        auto_reload=False,  # templates ship with the code: no stat() of each file at every mail
    )


def render_mail(
    template: str, *, to: str, subject: str, attachments: list[Attachment] | None = None, **context: Any
) -> Mail:
    """``template``.txt and ``template``.html rendered with ``context``."""
    env = environment()
    return Mail(
        to=to,
        subject=subject,
        text=env.get_template(f"{template}.txt").render(**context),
        html=env.get_template(f"{template}.html").render(**context),
        attachments=attachments or [],
    )
