"""environment.yml and pyproject.toml list the same dependencies with the same ranges."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from the PyPI name
CONDA_NAMES = {"duckdb": "python-duckdb"}


def _split(requirement: str) -> tuple[str, str]:
    # extras are dropped: conda-forge's `dask` is what pip calls `dask[distributed]`
    match = re.match(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*(.*)$", requirement.strip())
    return match.group(1).lower(), match.group(2).replace(" ", "")


def _pyproject() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    reqs = list(data["project"]["dependencies"])
    for extra in data["project"]["optional-dependencies"].values():  # dev, dask, ...
        reqs += extra
    return dict(_split(r) for r in reqs)


def _conda() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    deps = [d for d in env["dependencies"] if isinstance(d, str)]
    return {name: spec for name, spec in map(_split, deps) if name not in ("python", "pip")}


def test_every_pyproject_dependency_is_in_environment_yml_with_the_same_range():
    conda = _conda()
    for name, spec in _pyproject().items():
        conda_name = CONDA_NAMES.get(name, name)
        assert conda_name in conda, f"{name} missing from environment.yml"
        assert conda[conda_name] == spec, f"{name}: pyproject {spec!r} but environment.yml {conda[conda_name]!r}"


def test_environment_yml_has_nothing_pyproject_lacks():
    pyproject = {CONDA_NAMES.get(n, n) for n in _pyproject()}
    assert set(_conda()) <= pyproject


def test_every_dependency_has_an_upper_bound():
    for name, spec in _pyproject().items():
        assert "<" in spec, f"{name} has no upper bound: {spec!r}"


def test_python_versions_agree():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert data["project"]["requires-python"].replace(" ", "") in python


def test_split_drops_extras_and_keeps_the_range():
    assert _split("dask[distributed] >= 2024.8, <2027") == ("dask", ">=2024.8,<2027")
    assert _split("duckdb>=1.1,<3") == ("duckdb", ">=1.1,<3")


def test_the_dask_extra_is_installed_by_make():
    # the test suite runs the Dask path on a LocalCluster: `make` installs the extra
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "'.[dev,dask]'" in makefile
