"""The nbconvert exporter ``dxpdf``."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import nbformat
from traitlets import Int, default

from dxreport.render.chromium import render_pdf
from dxreport.render.htmlexport import ReportHTMLExporter


class ChromiumPDFExporter(ReportHTMLExporter):
    """nbconvert exporter ``dxpdf``: the report HTML printed to PDF by Chromium.

    Registered as the ``nbconvert.exporters`` entry point ``dxpdf``, so
    ``jupyter nbconvert --to dxpdf report.ipynb`` and JupyterLab's
    "Save and Export Notebook As" menu produce the same PDF as render_pdf.
    """

    export_from_notebook = "PDF (Chromium, dxreport)"
    output_mimetype = "application/pdf"

    timeout = Int(120, help="Seconds to wait for Chromium to print the PDF.").tag(config=True)

    @default("file_extension")
    def _file_extension_default(self) -> str:
        return ".pdf"

    def from_notebook_node(  # type: ignore[override]
        self, nb: nbformat.NotebookNode, resources: dict[str, Any] | None = None, **kw: Any
    ) -> tuple[bytes, dict[str, Any]]:
        html, resources = super().from_notebook_node(nb, resources=resources, **kw)
        with tempfile.TemporaryDirectory(prefix="dxreport-pdf-") as tmp:
            html_file = Path(tmp) / "report.html"
            html_file.write_text(html, encoding="utf-8")
            pdf_file = render_pdf(html_file, Path(tmp) / "report.pdf", timeout=self.timeout)
            pdf_data = pdf_file.read_bytes()
        resources["output_extension"] = ".pdf"
        return pdf_data, resources
