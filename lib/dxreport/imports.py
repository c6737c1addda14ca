"""Import costs dxreport's own processes do not pay.

jsonschema, which nbformat (and so papermill) imports, loads `rfc3987_syntax` when it is
installed; that package builds about 35 Lark grammars at import (0,7 s on an idle machine of
this project, over 4 s on a busy one; jsonschema issue #1428) only to check the `iri` and
`iri-reference` formats. No notebook schema of nbformat uses those formats, so the processes
dxreport starts (the command line, the report workers) mark the module as absent before anything
imports jsonschema: jsonschema then leaves those two formats unchecked, as it does when the
package is not installed. A process that imports dxreport as a library (a notebook, a user's
script) is left as it is. tests/test_imports.py checks both and that notebooks still validate.
"""

from __future__ import annotations

import sys

#: Modules dxreport's processes never load (None in sys.modules makes `import` raise ImportError).
SKIPPED = ("rfc3987_syntax",)


def skip_costly_imports() -> None:
    """Mark SKIPPED as absent in this process, unless one was already imported."""
    for name in SKIPPED:
        sys.modules.setdefault(name, None)


# The command line and the runner import this module first, so that importing it is enough.
skip_costly_imports()
