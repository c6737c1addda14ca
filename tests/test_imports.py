"""dxreport's own processes do not load rfc3987_syntax; notebooks still validate without it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat

from dxreport.paths import NOTEBOOKS_DIR


def _modules_after(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_command_line_and_the_runner_never_load_rfc3987_syntax():
    for first in ("dxreport.cli", "dxreport.runner"):
        code = f"import sys, {first}, papermill, nbformat; print(sys.modules['rfc3987_syntax'] is None)"
        assert _modules_after(code) == "True", first


def test_a_library_user_keeps_the_package():
    # importing dxreport itself (a notebook, a user's script) changes nothing
    code = "import sys, dxreport, papermill; print(type(sys.modules.get('rfc3987_syntax')).__name__)"
    assert _modules_after(code) == "module"


def test_no_notebook_schema_uses_the_formats_that_need_it():
    schemas = list(Path(nbformat.__file__).parent.rglob("*.schema.json"))
    assert schemas
    formats = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("format"), str):
                formats.add(node["format"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in schemas:
        walk(json.loads(path.read_text(encoding="utf-8")))
    assert not formats & {"iri", "iri-reference"}


def test_notebooks_still_validate_without_it():
    code = (
        "import dxreport.cli, nbformat, sys; "
        f"[nbformat.validate(nbformat.read(p, as_version=4)) for p in sorted(__import__('pathlib').Path({str(NOTEBOOKS_DIR)!r}).glob('*.ipynb'))]; "
        "print(sys.modules['rfc3987_syntax'] is None)"
    )
    assert _modules_after(code) == "True"
