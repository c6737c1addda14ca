"""Kernels judged by their process and their answer, never by an early heartbeat."""

from __future__ import annotations

import json
import sys
import time

import pytest

from busy import saturated
from dxreport import kernels

pytestmark = pytest.mark.slow

LAUNCH = (
    "import time, sys, runpy; time.sleep({delay}); sys.argv = ['ipykernel_launcher'] + sys.argv[1:]; "
    "runpy.run_module('ipykernel_launcher', run_name='__main__')"
)


def _kernelspec(root, name, argv):
    folder = root / "kernels" / name
    folder.mkdir(parents=True)
    (folder / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": name, "language": "python"}), encoding="utf-8"
    )


@pytest.fixture
def specs(tmp_path, monkeypatch):
    """Kernelspecs: one that waits 4 s before starting, one that exits at once, one that never answers."""
    _kernelspec(tmp_path, "slow", [sys.executable, "-c", LAUNCH.format(delay=4), "-f", "{connection_file}"])
    _kernelspec(tmp_path, "exits", [sys.executable, "-c", "import sys; sys.exit(3)", "-f", "{connection_file}"])
    _kernelspec(tmp_path, "silent", [sys.executable, "-c", "import time; time.sleep(60)", "-f", "{connection_file}"])
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    return tmp_path


def test_a_kernel_slower_than_the_first_heartbeat_is_not_declared_dead(specs):
    # its heartbeat only starts after 4 s: a check by heartbeat gives up after about one second
    warm = kernels.WarmKernel(start_timeout=60, kernel_name="slow")
    try:
        started = time.monotonic()
        km = warm.acquire()
        assert time.monotonic() - started >= 4
        assert warm.acquire() is km and warm.uses == 2  # the same kernel, reset and reused
    finally:
        warm.discard()


def test_a_kernel_whose_process_exits_is_reported_in_vietnamese_with_its_exit_code(specs):
    warm = kernels.WarmKernel(start_timeout=60, kernel_name="exits")
    started = time.monotonic()
    with pytest.raises(kernels.KernelStartError) as caught:
        warm.acquire()
    assert time.monotonic() - started < 30  # judged by the process, not the timeout
    message = str(caught.value)
    assert "đã dừng khi đang khởi động (mã thoát 3)" in message
    assert "--workers 1" in message and "run.kernel_start_timeout" in message
    assert warm.km is None


def test_a_kernel_that_never_answers_fails_at_the_start_timeout(specs):
    warm = kernels.WarmKernel(start_timeout=3, kernel_name="silent")
    started = time.monotonic()
    with pytest.raises(kernels.KernelStartError, match="không trả lời trong 3 giây"):
        warm.acquire()
    assert 3 <= time.monotonic() - started < 30
    assert warm.km is None


def test_kernels_start_and_run_while_every_core_is_saturated():
    """4 spinning processes per core for the whole test: a warm kernel starts, runs and is reused."""
    with saturated():
        warm = kernels.WarmKernel(start_timeout=120)
        try:
            for _ in range(3):
                km = warm.acquire()
            assert warm.uses == 3 and km is warm.km
        finally:
            warm.discard()


def test_notebooks_on_a_warm_kernel_share_its_client_and_each_starts_clean(tmp_path):
    import nbformat
    import papermill
    from nbformat.v4 import new_code_cell, new_notebook

    first, second = tmp_path / "first.ipynb", tmp_path / "second.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("x = 41\nx + 1")]), first)
    nbformat.write(new_notebook(cells=[new_code_cell("'x' in dir()")]), second)
    warm = kernels.WarmKernel(start_timeout=120)
    try:
        outputs = []
        for source in (first, second):
            km = warm.acquire()
            client = warm.kc
            out = tmp_path / f"out-{source.name}"
            papermill.execute_notebook(
                str(source),
                str(out),
                engine_name=kernels.warm_engine_name(),
                km=km,
                kc=client,
                reset=warm.reset,
                kernel_name=kernels.KERNEL,
                progress_bar=False,
            )
            assert warm.kc is client and client.channels_running  # kept for the next notebook
            cell = nbformat.read(out, as_version=4).cells[-1]
            outputs.append((cell.execution_count, cell.outputs[0]["data"]["text/plain"]))
        assert outputs == [(1, "42"), (1, "False")]  # the second sees nothing of the first, counted from 1
    finally:
        warm.discard()
    assert warm.kc is None and warm.km is None
