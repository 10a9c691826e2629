"""The privacy notice's recipients sections ("Disclosure of your information", "International
transfers") at a moment, rendered from one set of Jinja2 templates (server/templates) as Markdown
and as HTML: the record's read of the inventory (`ropa.disclosures_in_use`) and the rules of
`server/domain/notice.py`."""

from __future__ import annotations

import asyncio
import functools
from datetime import datetime
from typing import Any

from server.domain import notice
from server.domain.explain import join_words
from server.domain.taxonomy import default_taxonomy
from server.services import clock
from server.services.ropa import disclosures_in_use


async def notice_section(as_of: datetime | None, *, named: bool) -> notice.NoticeSection:
    found = await disclosures_in_use(as_of)
    # Off the event loop, as the record's rows (it judges the same transfers).
    return await asyncio.to_thread(
        functools.partial(
            notice.notice_section,
            [notice.NoticeDisclosure(d, ground) for d, ground in found.disclosures],
            found.day,
            default_taxonomy(),
            at=found.at,
            generated=clock.now(),
            named=named,
        )
    )


def _escape_markdown(value: Any) -> Any:
    return notice.markdown_text(value) if isinstance(value, str) else value


@functools.cache
def _environment(markdown: bool) -> Any:
    """One environment per format, made once: HTML autoescaped, Markdown escaped by `finalize`.
    Jinja2 keeps its compiled templates in its own bounded cache (400 by default; we have two).
    Imported here, not with the module: the command line lists the exports without it."""
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("server", "templates"),
        autoescape=not markdown,
        finalize=_escape_markdown if markdown else None,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    environment.filters["join_words"] = join_words
    environment.filters["moment"] = notice.moment_words
    return environment


def render(section: notice.NoticeSection, *, markdown: bool) -> str:
    template = _environment(markdown).get_template("notice.md.j2" if markdown else "notice.html.j2")
    return template.render(section=section)
