"""Where the reports run: a local process pool or a Dask cluster."""

from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing
import os

from dxreport import procs
from dxreport.runner.common import RunError


def _require_dask() -> None:
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        raise RunError("chạy trên cụm Dask (--scheduler) cần gói tùy chọn dask: pip install 'dxreport[dask]'") from exc


def pool_size(scheduler: str | None, workers: int | None, tasks: int) -> int | None:
    """How many workers open_executor starts on this machine (None: those of a running cluster)."""
    if scheduler is None:
        return workers or max(1, min(tasks, os.cpu_count() or 1))
    if scheduler == "local":
        return workers or os.cpu_count() or 1
    return None


def open_executor(scheduler: str | None, workers: int | None, tasks: int):
    """The executor for the report tasks and a function that closes what was opened.

    None: a local spawn process pool of `workers` processes (default: the cores, at most one per
    task). 'local': a Dask LocalCluster of `workers` single-threaded worker processes. Any other
    value: the address of a running Dask scheduler (tcp://host:8786); its workers must see the
    same inbox, outputs and project folders as this process.
    """
    size = pool_size(scheduler, workers, tasks)
    if scheduler is None:
        pool = cf.ProcessPoolExecutor(
            max_workers=size, mp_context=multiprocessing.get_context("spawn"), initializer=procs.worker_init
        )
        return pool, pool.shutdown, f"process pool ({size} processes)"
    _require_dask()
    from distributed import Client, LocalCluster

    cluster = None
    if scheduler == "local":
        cluster = LocalCluster(
            n_workers=size, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.WARNING
        )
        client = Client(cluster)
        where = f"Dask LocalCluster ({size} workers)"
    else:
        try:
            client = Client(scheduler, timeout=30)
        except (OSError, TimeoutError) as exc:
            raise RunError(f"không kết nối được bộ lập lịch Dask {scheduler}: {exc}") from exc
        where = f"Dask scheduler {scheduler}"
    # pure=False: a retried task is a new task, not the cached result of the failed one
    executor = client.get_executor(pure=False)

    def close() -> None:
        executor.shutdown(wait=True)
        client.close()
        if cluster is not None:
            cluster.close()

    return executor, close, where
