"""A report is published whole from its staging folder; an interrupted run's leftovers are removed."""

from __future__ import annotations

from dxreport import publish


def test_a_staged_report_replaces_the_published_one_whole(tmp_path):
    unit_dir = tmp_path / "2022-12" / "474"
    unit_dir.mkdir(parents=True)
    for name in ("report.html", "report.pdf", "kpis.csv"):
        (unit_dir / name).write_text("old", encoding="utf-8")
    stage = publish.staging_dir(tmp_path, "2022-12", "474")
    for name in publish.REPORT_FILES:
        (stage / name).write_text("new", encoding="utf-8")
    moved = publish.publish(stage, unit_dir)
    assert moved == {
        "pdf": "report.pdf",
        "html": "report.html",
        "kpis": "kpis.csv",
        "annex": "annex.xlsx",
        "notebook": "04_report.ipynb",
    }
    assert {p.name: p.read_text(encoding="utf-8") for p in unit_dir.iterdir()} == {
        n: "new" for n in publish.REPORT_FILES
    }
    assert not stage.exists()


def test_a_discarded_stage_leaves_the_published_report_as_it_was(tmp_path):
    unit_dir = tmp_path / "2022-12" / "474"
    unit_dir.mkdir(parents=True)
    (unit_dir / "report.html").write_text("old", encoding="utf-8")
    stage = publish.staging_dir(tmp_path, "2022-12", "474")
    (stage / "report.html").write_text("new", encoding="utf-8")
    publish.discard(stage)
    assert (unit_dir / "report.html").read_text(encoding="utf-8") == "old" and not stage.exists()


def test_the_staging_area_is_where_a_notebook_may_be_told_to_write(tmp_path):
    stage = publish.staging_dir(tmp_path, "2022-12", "474")
    assert publish.is_staging(tmp_path, "2022-12", stage)
    assert not publish.is_staging(tmp_path, "2022-12", tmp_path / "2022-12" / "474")
    assert not publish.is_staging(tmp_path, "2022-12", stage / ".." / ".." / ".." / "etc")


def test_leftovers_of_an_interrupted_run_are_removed_and_nothing_else(tmp_path):
    month = tmp_path / "2022-12"
    (month / "474").mkdir(parents=True)
    publish.staging_dir(tmp_path, "2022-12", "478")
    leftovers = [
        month / ".manifest.json.abc.tmp",
        month / "474" / ".kpis.csv.x1.tmp",
        month / "474" / ".report.123.tmp.pdf",
        month / "notebooks" / ".02_clean.running.ipynb",
    ]
    kept = [month / "manifest.json", month / "474" / "report.html", month / "474" / "kpis.csv"]
    for path in leftovers + kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x", encoding="utf-8")
    removed = publish.clean_leftovers(month)
    assert sorted(removed) == sorted([month / publish.STAGING] + leftovers)
    assert all(p.exists() for p in kept) and not any(p.exists() for p in leftovers)
