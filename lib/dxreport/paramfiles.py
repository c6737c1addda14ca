"""Every params/ file checked at once, before a run or an ingest does anything.

The rules of each file are written once, in the loader that reads it (see dxreport.paramcheck);
`check_params` calls every loader and turns what it refuses into a ParamError of one sentence
naming the file, the line and the key. It sits above the loaders it calls (catalog, kpis, units),
so that none of them has to know about the others.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from dxreport import catalog, contacts, kpis, params, units
from dxreport.catalog import CatalogError
from dxreport.kpis import RulesError
from dxreport.paramcheck import check_aliases, read_yaml
from dxreport.params import PARAMS_DIR, ParamError
from dxreport.contacts import ContactsError
from dxreport.units import RegistryError


def _one_sentence(exc: Exception) -> str:
    return " ".join(line.strip() for line in str(exc).splitlines() if line.strip())


def _settings_catalog(params_dir: Path) -> None:
    """settings.yaml, section catalog: catalog.thresholds's rule, with the line of the key."""
    try:
        catalog.thresholds(params_dir)
    except catalog.CatalogError as exc:
        doc = read_yaml(Path(params_dir) / "settings.yaml")
        message = str(exc).split(": ", 1)[-1]
        section = doc.data.get("catalog") or {}
        keys = [k for k in section if message.startswith(f"catalog.{k} ")]
        raise ParamError(f"{doc.where('catalog', *keys[:1])}: {message}") from None


def checks(params_dir: Path = PARAMS_DIR, sources: Path | str | None = None) -> list[tuple[str, Callable[[], object]]]:
    """(file name, check) for every params/ file, in the order check_params runs them."""
    params_dir = Path(params_dir)
    sources = Path(sources) if sources else params_dir / "sources.yaml"
    return [
        ("settings.yaml", lambda: params.load_settings(params_dir)),
        ("settings.yaml", lambda: _settings_catalog(params_dir)),
        ("units.csv", lambda: units.read_registry(params_dir / "units.csv")),
        (
            "crosswalk.csv",
            lambda: units.read_changes(params_dir / "crosswalk.csv", units.read_registry(params_dir / "units.csv")),
        ),
        ("levels.yaml", lambda: units.check_words(units.read_registry(params_dir / "units.csv"), params_dir)),
        ("contacts.csv", lambda: contacts.load_contacts(params_dir, units.read_registry(params_dir / "units.csv"))),
        ("targets.yaml", lambda: kpis.load_targets(params_dir / "targets.yaml")),
        ("lagging.yaml", lambda: kpis.load_rules(params_dir / "lagging.yaml")),
        ("platform_aliases.yaml", lambda: check_aliases(params_dir)),
        (sources.name, lambda: catalog.load_sources(sources)),
    ]


def check_params(params_dir: Path = PARAMS_DIR, sources: Path | str | None = None) -> None:
    """Check every params/ file completely; ParamError of one sentence for the first problem.

    The files: settings.yaml, units.csv, crosswalk.csv, levels.yaml, contacts.csv, targets.yaml, lagging.yaml, platform_aliases.yaml and
    the sources file (`sources`, default params/sources.yaml). The message names the file, the
    line and the key (or the CSV row), in Vietnamese, e.g. "params/settings.yaml, dòng 10:
    thiếu khóa submission.deadline_day (số nguyên 1–28)".
    """
    for _, check in checks(params_dir, sources):
        try:
            check()
        except (ParamError, CatalogError, RulesError, RegistryError, ContactsError) as exc:
            raise ParamError(_one_sentence(exc)) from None
