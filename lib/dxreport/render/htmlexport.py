"""The report HTML: nbconvert with the ``dxreport`` template, SVG charts inlined."""

from __future__ import annotations

import html
import os
import re
import threading
import unicodedata
from pathlib import Path
from typing import Any

import nbformat
from nbconvert.exporters import HTMLExporter
from traitlets import default
from traitlets.config import Config

from dxreport.fileio import write_atomic
from dxreport.render.errors import RenderError
from dxreport.style import TEMPLATE_NAME, TEMPLATES_DIR

DEFAULT_TITLE = "Báo cáo mức độ sử dụng nền tảng số"
DEFAULT_IMAGE_ALT = "Hình minh họa"

# HTMLExporter adds this English alt text to images that have none.
_NBCONVERT_DEFAULT_ALT = 'alt="No description has been provided for this image"'


class ReportHTMLExporter(HTMLExporter):
    """HTML exporter with the dxreport template and report defaults.

    Code inputs, prompts and anchor links are hidden, images are embedded,
    the document language is Vietnamese and the output is NFC-normalised.
    Cells tagged ``remove-cell`` and outputs of cells tagged ``remove-output``
    are left out of the report.
    """

    @property
    def default_config(self) -> Config:
        config = Config(
            {
                # The template inlines no syntax-highlighting CSS: skip building it.
                "CSSHTMLHeaderPreprocessor": {"enabled": False},
                "TagRemovePreprocessor": {
                    "enabled": True,
                    "remove_cell_tags": {"remove-cell", "remove_cell"},
                    "remove_all_outputs_tags": {"remove-output", "remove_output"},
                },
            }
        )
        merged = super().default_config.copy()
        merged.merge(config)
        return merged

    def default_filters(self):
        yield from super().default_filters()
        yield ("dx_inline_svg", inline_svg)

    @default("template_name")
    def _template_name_default(self) -> str:
        return TEMPLATE_NAME

    @default("template_extension")
    def _template_extension_default(self) -> str:
        return ".html.j2"

    @default("extra_template_basedirs")
    def _extra_template_basedirs_default(self) -> list[str]:
        return [str(TEMPLATES_DIR)]

    @default("raw_mimetypes")
    def _raw_mimetypes_default(self) -> list[str]:
        return ["text/html", ""]

    @default("exclude_input")
    def _exclude_input_default(self) -> bool:
        return True

    @default("exclude_input_prompt")
    def _exclude_input_prompt_default(self) -> bool:
        return True

    @default("exclude_output_prompt")
    def _exclude_output_prompt_default(self) -> bool:
        return True

    @default("exclude_anchor_links")
    def _exclude_anchor_links_default(self) -> bool:
        return True

    @default("embed_images")
    def _embed_images_default(self) -> bool:
        return True

    @default("language_code")
    def _language_code_default(self) -> str:
        return "vi"

    def __init__(self, config=None, **kw: Any) -> None:
        super().__init__(config=config, **kw)
        # Keep the dxreport template reachable even when the user configures
        # other template directories.
        if str(TEMPLATES_DIR) not in self.extra_template_basedirs:
            self.extra_template_basedirs = [*self.extra_template_basedirs, str(TEMPLATES_DIR)]

    def from_notebook_node(  # type: ignore[override]
        self, nb: nbformat.NotebookNode, resources: dict[str, Any] | None = None, **kw: Any
    ) -> tuple[str, dict[str, Any]]:
        html, resources = super().from_notebook_node(nb, resources=resources, **kw)
        html = html.replace(_NBCONVERT_DEFAULT_ALT, f'alt="{DEFAULT_IMAGE_ALT}"')
        return unicodedata.normalize("NFC", html), resources


_SVG_START = re.compile(r"<svg\b", re.IGNORECASE)


def inline_svg(svg: str, alt: str = "") -> str:
    """An SVG document made fit to be inlined in HTML: without its XML declaration and doctype,
    marked as an image named `alt` (role, aria-label and a <title> for readers who cannot see it).

    Inlined, its text stays text: it can be found and copied in the HTML and in the PDF.
    """
    found = _SVG_START.search(svg)
    if found is None:
        return ""
    body = svg[found.start() :]
    alt = alt or DEFAULT_IMAGE_ALT
    label = html.escape(alt, quote=True)
    open_end = body.index(">") + 1
    tag = body[:open_end]
    tag = tag[:-1].rstrip("/") + f' role="img" aria-label="{label}" class="dx-chart">'
    if body[:open_end].endswith("/>"):
        return tag + f"<title>{html.escape(alt)}</title></svg>"
    return tag + f"\n<title>{html.escape(alt)}</title>" + body[open_end:]


_SHARED: dict[str, ReportHTMLExporter] = {}
_SHARED_LOCK = threading.Lock()


def shared_exporter() -> ReportHTMLExporter:
    """This process's ReportHTMLExporter, made on first use: its Jinja environment compiles the
    templates once for all the reports a worker renders (the template files are still checked
    for changes on every use)."""
    exporter = _SHARED.get("html")
    if exporter is None:
        exporter = _SHARED["html"] = ReportHTMLExporter()
    return exporter


def _notebook_resources(notebook_path: Path, title: str | None) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "metadata": {"name": notebook_path.stem, "path": str(notebook_path.parent)},
    }
    if title:
        resources["dxreport_title"] = unicodedata.normalize("NFC", title)
    return resources


def render_html(
    notebook_path: str | os.PathLike[str],
    html_path: str | os.PathLike[str],
    *,
    title: str | None = None,
) -> Path:
    """Render an executed notebook to a standalone report HTML file.

    ``title`` sets the document ``<title>`` (default: the notebook's
    ``metadata.title``, else a generic report title).  Returns the HTML path.
    """
    notebook_path = Path(notebook_path)
    html_path = Path(html_path)
    try:
        nb = nbformat.read(notebook_path, as_version=4)
    except (OSError, ValueError) as exc:
        raise RenderError(f"Không đọc được notebook {notebook_path}: {exc}") from exc

    with _SHARED_LOCK:
        body, _ = shared_exporter().from_notebook_node(nb, resources=_notebook_resources(notebook_path, title))
    write_atomic(html_path, body.encode("utf-8"))
    return html_path
