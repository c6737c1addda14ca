"""Notebooks run by hand write to outputs/_scratch/, never over what a run published."""

from __future__ import annotations

import pytest

from dxreport import report, steps
from dxreport.params import OUTPUTS_DIR, SCRATCH_DIR, ParamError


def test_a_notebook_run_by_hand_works_in_the_scratch_folder():
    assert SCRATCH_DIR == OUTPUTS_DIR / "_scratch"
    assert steps.run_params("2022-12", "tinh").outputs == SCRATCH_DIR
    assert steps.run_params("2022-12", "tinh", outputs=str(OUTPUTS_DIR)).outputs == OUTPUTS_DIR


def test_a_report_told_to_write_outside_the_staging_area_is_refused(tmp_path):
    with pytest.raises(ParamError, match="không thuộc"):
        report.load("2022-12", "tinh", outputs=str(tmp_path), stage=str(tmp_path / "2022-12" / "tinh"))
    with pytest.raises(ParamError, match="không thuộc"):
        report.load(
            "2022-12",
            "tinh",
            outputs=str(tmp_path),
            stage=str(tmp_path / "2022-12" / ".staging" / ".." / ".." / "elsewhere"),
        )
    with pytest.raises(ParamError, match="không thuộc"):  # a stage needs the outputs it belongs to
        report.load("2022-12", "tinh", stage=str(OUTPUTS_DIR / "2022-12" / ".staging" / "tinh-1"))
