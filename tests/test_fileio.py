from dxreport.fileio import write_atomic


def test_text_and_bytes_replace_the_file_whole_and_leave_no_temporary_file(tmp_path):
    target = tmp_path / "sub" / "index.html"
    write_atomic(target, "Báo cáo tháng 12/2022")
    assert target.read_text(encoding="utf-8") == "Báo cáo tháng 12/2022"
    write_atomic(target, b"%PDF-1.7")
    assert target.read_bytes() == b"%PDF-1.7"
    assert [p.name for p in target.parent.iterdir()] == ["index.html"]
