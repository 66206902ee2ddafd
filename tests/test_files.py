"""Outputs written atomically: all or nothing, and readable like any file the user's umask allows."""

from __future__ import annotations

import os
import stat

from monoculture.files import write_atomically


def test_an_atomic_write_replaces_the_file_whole_with_ordinary_permissions(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    target = tmp_path / "report.html"
    target.write_text("old")
    write_atomically(target, b"new report")
    assert target.read_bytes() == b"new report"
    # The same mode as a file open() creates (0666 less the umask), not mkstemp's private 0600.
    assert stat.S_IMODE(target.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".part")]
