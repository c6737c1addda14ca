"""Turn an executed report notebook into the finished report (HTML and PDF).

The HTML is produced in-process by nbconvert with the ``dxreport`` template
(``templates/dxreport``): code cells and prompts are hidden, images stay
embedded as base64, SVG charts are inlined so that their text stays text, and
the house style (A4, Vietnamese administrative layout, a single pinned font)
is inlined.  The PDF is printed from that HTML
by a headless Chromium, so that the screen and print versions are identical.

The package: `htmlexport` (the HTML), `chromium` (Chromium and the font found, the one-process
PDF), `printer` (the long-lived DevTools printer), `exporter` (the nbconvert exporter ``dxpdf``)
and `errors`.
"""

from __future__ import annotations

from dxreport.render.chromium import CHROMIUM_NAMES, find_chromium, font_covers_vietnamese, render_pdf
from dxreport.render.errors import PdfProtocolError, RenderError
from dxreport.render.exporter import ChromiumPDFExporter
from dxreport.render.htmlexport import (
    DEFAULT_IMAGE_ALT,
    DEFAULT_TITLE,
    ReportHTMLExporter,
    inline_svg,
    render_html,
    shared_exporter,
)
from dxreport.render.printer import PRINT_OPTIONS, PdfPrinter, shared_printer
from dxreport.style import (  # noqa: F401 - the style's names are also read as render.X
    FONT_FAMILY,
    FONT_PACKAGE,
    STATIC_DIR,
    TEMPLATE_NAME,
    TEMPLATES_DIR,
    house_css,
)

__all__ = [
    "CHROMIUM_NAMES",
    "DEFAULT_IMAGE_ALT",
    "DEFAULT_TITLE",
    "FONT_FAMILY",
    "PRINT_OPTIONS",
    "TEMPLATES_DIR",
    "TEMPLATE_NAME",
    "ChromiumPDFExporter",
    "PdfPrinter",
    "PdfProtocolError",
    "RenderError",
    "ReportHTMLExporter",
    "find_chromium",
    "font_covers_vietnamese",
    "house_css",
    "inline_svg",
    "render_html",
    "render_pdf",
    "shared_exporter",
    "shared_printer",
]
