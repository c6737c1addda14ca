"""Before a run: a writable outputs folder, a sound warehouse (a damaged one set aside), sizes in words."""

from __future__ import annotations

import errno
import os

import duckdb
import pytest

from dxreport import preflight


def _warehouse(path):
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE facts AS SELECT range AS i, md5(range::VARCHAR) AS s FROM range(200000)")
    con.execute("CREATE TABLE units AS SELECT range AS i FROM range(30)")
    con.close()
    return path


def test_a_sound_warehouse_is_left_alone(tmp_path):
    path = _warehouse(tmp_path / "warehouse.duckdb")
    before = path.read_bytes()
    assert preflight.check_warehouse(path) is None
    assert path.read_bytes() == before
    assert preflight.check_warehouse(tmp_path / "none.duckdb") is None


@pytest.mark.parametrize("damage", ["garbled", "truncated", "emptied"])
def test_a_damaged_warehouse_is_set_aside_with_one_sentence(tmp_path, damage):
    path = _warehouse(tmp_path / "warehouse.duckdb")
    data = path.read_bytes()
    middle = len(data) // 2
    damaged = {
        "garbled": data[:middle] + bytes(4096) + data[middle + 4096 :],
        "truncated": data[: len(data) // 3],
        "emptied": b"",
    }[damage]
    path.write_bytes(damaged)
    message = preflight.check_warehouse(path)
    assert not path.exists()
    kept = list(tmp_path.glob("warehouse.hong-*.duckdb"))
    assert len(kept) == 1 and kept[0].read_bytes() == damaged  # kept as it was, for inspection
    assert message.startswith("Kho dữ liệu warehouse.duckdb bị hỏng nên không đọc được;")
    assert kept[0].name in message and "được lập lại" in message
    assert "Error" not in message and "\n" not in message


def test_sizes_are_written_the_vietnamese_way():
    assert preflight.human_bytes(512) == "512 byte"
    assert preflight.human_bytes(5 * 1024 * 1024) == "5,0 MB"
    assert preflight.human_bytes(1536) == "1,5 KB"


def test_an_outputs_folder_that_cannot_be_written_is_refused_before_any_work(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(preflight.tempfile, "mkstemp", refuse)
    with pytest.raises(preflight.PreflightError) as caught:
        preflight.check_outputs(tmp_path / "out")
    assert str(caught.value) == (
        f"Không ghi được vào thư mục {tmp_path / 'out'}: thư mục chỉ đọc hoặc không có quyền "
        f"ghi. Hãy cấp quyền ghi hoặc chọn thư mục khác bằng --outputs."
    )


def test_a_read_only_file_system_is_refused_in_one_sentence(read_only_dir):
    with pytest.raises(preflight.PreflightError) as caught:
        preflight.check_outputs(read_only_dir)
    assert str(caught.value).startswith(f"Không ghi được vào thư mục {read_only_dir}: thư mục chỉ đọc")
    assert os.listdir(read_only_dir) == []


def test_a_full_disk_names_the_folder_and_the_free_space(tmp_path):
    message = preflight.explain_os_error(OSError(errno.ENOSPC, "No space left on device"), tmp_path)
    assert message.startswith(f"Hết chỗ trống trên đĩa khi ghi vào {tmp_path} (còn trống ")
    assert "các kết quả đã công bố trước đó được giữ nguyên" in message
    assert preflight.explain_os_error(OSError(errno.ENOENT, "No such file"), tmp_path) is None
