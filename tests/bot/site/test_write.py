"""Writing a board: only changed files are written, and only files of earlier builds are removed."""

from bot.site.write import write_site


def test_a_second_write_of_the_same_files_writes_nothing(tmp_path):
    files = {"index.html": b"<p>home</p>", "models/a/index.html": b"a"}
    assert write_site(files, tmp_path).written == 2
    again = write_site(files, tmp_path)
    assert (again.written, again.unchanged, again.removed) == (0, 2, 0)


def test_a_changed_file_is_rewritten_and_a_gone_model_removed_but_other_files_stay(tmp_path):
    write_site({"index.html": b"1", "models/a/index.html": b"a", "models/b/index.html": b"b"}, tmp_path)
    (tmp_path / "CNAME").write_text("sunset.example.org")  # the host's own file, never ours to remove
    report = write_site({"index.html": b"2", "models/a/index.html": b"a"}, tmp_path)
    assert (report.written, report.unchanged, report.removed) == (1, 1, 1)
    assert (tmp_path / "index.html").read_bytes() == b"2"
    assert not (tmp_path / "models/b/index.html").exists()
    assert (tmp_path / "CNAME").read_text() == "sunset.example.org"
    assert not list(tmp_path.rglob("*.tmp"))
