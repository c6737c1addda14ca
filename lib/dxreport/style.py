"""The house style shared by every HTML the project writes: the font and the CSS files.

The report (dxreport.render) and the standalone pages of dxreport.pages (the index of reports,
the validation page) read their style from lib/dxreport/templates/dxreport/static/ through here.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["FONT_FAMILY", "FONT_PACKAGE", "STATIC_DIR", "TEMPLATES_DIR", "TEMPLATE_NAME", "house_css"]

#: The only font family named by the report's CSS.  "Liberation Serif"
#: (fonts-liberation2) has Times New Roman metrics, customary for Vietnamese
#: administrative documents, and `fc-list :lang=vi` lists it as covering
#: Vietnamese.  No generic fallback is named, so the PDF embeds this family only.
FONT_FAMILY = "Liberation Serif"

#: Debian package that provides FONT_FAMILY with Vietnamese coverage.
FONT_PACKAGE = "fonts-liberation2"

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME = "dxreport"
STATIC_DIR = TEMPLATES_DIR / TEMPLATE_NAME / "static"


def house_css(*, page: bool = False) -> str:
    """The house style's variables (static/house.css), shared by the report, the index and the
    validation page; with `page`, followed by the style of a standalone page (static/page.css)."""
    names = ("house.css", "page.css") if page else ("house.css",)
    return "\n".join((STATIC_DIR / name).read_text(encoding="utf-8") for name in names)
