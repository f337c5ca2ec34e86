"""Output files get the mode a plain open() gives (0644 under umask 022), not mkstemp's 0600."""
from __future__ import annotations

import stat
import subprocess
import sys

import numpy as np


def _mode(p) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_atomic_outputs_honour_the_umask(tmp_path):
    from facealign.io.atomic import write_bytes_atomic, write_image_atomic

    write_bytes_atomic(tmp_path / "a.txt", b"x")
    write_image_atomic(tmp_path / "c.png", np.zeros((4, 4, 3), np.uint8))
    plain = tmp_path / "plain.txt"
    plain.write_bytes(b"x")
    assert _mode(tmp_path / "a.txt") == _mode(tmp_path / "c.png") == _mode(plain)


def test_another_umask_is_followed(tmp_path):
    code = ("import os; os.umask(0o027)\n"
            "from facealign.io.atomic import write_bytes_atomic\n"
            f"write_bytes_atomic({str(tmp_path / 'a.txt')!r}, b'x')\n")
    subprocess.run([sys.executable, "-c", code], check=True)
    assert _mode(tmp_path / "a.txt") == 0o640
    code = code.replace("0o027", "0o022").replace("a.txt", "b.txt")
    subprocess.run([sys.executable, "-c", code], check=True)
    assert _mode(tmp_path / "b.txt") == 0o644
