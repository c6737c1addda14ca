"""The errors of rendering."""

from __future__ import annotations


class RenderError(RuntimeError):
    """The report could not be rendered (missing tool, failed conversion)."""


class PdfProtocolError(RenderError):
    """The persistent Chromium did not answer as the DevTools protocol says (callers fall back)."""
