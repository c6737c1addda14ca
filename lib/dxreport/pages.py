"""The standalone HTML pages (the index of reports, a month's validation page) from Jinja2 templates.

The templates live in lib/dxreport/templates/pages/; base.html.j2 holds the head (charset,
viewport, title, the house style) and a block for the body. Autoescaping is on for every
template, so each text taken from data is escaped by the template; only the house style's CSS
is passed through as it is.

The report's HTML fragments (its header, closing and tables, the paragraphs and notes of its
sections) come from lib/dxreport/templates/report/ through `render_fragment`, with the same
autoescaping; a fragment ends without a newline, so fragments join as the sections need.
"""

from __future__ import annotations

import functools
from typing import Any

import jinja2
from markupsafe import Markup

from dxreport.style import FONT_FAMILY, TEMPLATES_DIR, house_css

__all__ = ["PAGES_DIR", "REPORT_DIR", "environment", "fragment_environment", "render", "render_fragment"]

PAGES_DIR = TEMPLATES_DIR / "pages"
REPORT_DIR = TEMPLATES_DIR / "report"


def _house_css(*, page: bool = False) -> Markup:
    """The house style as CSS for a <style> element (never escaped)."""
    return Markup(house_css(page=page))


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The Jinja2 environment of the pages: templates from PAGES_DIR, autoescape on, strict undefined."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(PAGES_DIR),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "j2"), default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["house_css"] = _house_css
    env.globals["font_family"] = FONT_FAMILY
    return env


def render(name: str, **context: Any) -> str:
    """The template `name` of PAGES_DIR rendered with `context`."""
    return environment().get_template(name).render(**context)


@functools.lru_cache(maxsize=1)
def fragment_environment() -> jinja2.Environment:
    """The Jinja2 environment of the report's fragments: templates from REPORT_DIR, autoescape on,
    strict undefined, no trailing newline."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(REPORT_DIR),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "j2"), default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def render_fragment(name: str, /, **context: Any) -> str:
    """The template `name` of REPORT_DIR rendered with `context`, as a plain string of HTML.

    A value of `context` that is already HTML (a fragment rendered before) is passed as
    markupsafe.Markup, so that the template does not escape it again.
    """
    return str(fragment_environment().get_template(name).render(**context))
