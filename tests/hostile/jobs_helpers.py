"""Shared pieces of the hostile job tests: generated photos, fake models, a CLI run in a child process."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
from helpers import squares_image

TESTS = Path(__file__).resolve().parents[1]

# a `facealign` command whose batch workers use the stand-in models of tests/worker_fakes.py (FACTORY)
CLI_WITH_FAKES = """
import os, sys
sys.path[:0] = [{tests!r}]
from facealign.cli import common
_orig = common.options_from_args
def _patched(args, fit3d):
    o = _orig(args, fit3d)
    o.extra["aligner_factory"] = os.environ["FACTORY"]
    return o
common.options_from_args = _patched
from facealign.cli import video
_vorig = video.options_from_args
def _vpatched(args):
    o = _vorig(args)
    o.extra["aligner_factory"] = os.environ["FACTORY"]
    return o
video.options_from_args = _vpatched
from facealign.cli.main import main
raise SystemExit(main(sys.argv[1:]))
"""


def photos(folder: Path, n: int, odd: int | None = None) -> Path:
    """``n`` PNGs with one or two white squares (faces for the stand-in detector); photo ``odd`` is 77 px wide."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        img = squares_image([(10 + 5 * i, 20, 40), (150, 60, 50)][: 1 + i % 2])
        if i == odd:
            img = img[:, :77]
        cv2.imwrite(str(folder / f"p{i:02d}.png"), img)
    return folder


def start_cli(args: list[str], factory: str = "worker_fakes:fake_aligner", env: dict | None = None, **kw) -> subprocess.Popen:
    """`facealign ARGS` in a child process (own process group) whose models come from ``factory``."""
    env = {**os.environ, **(env or {}), "FACTORY": factory,
           "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-c", CLI_WITH_FAKES.format(tests=str(TESTS)), *map(str, args)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, **kw)


def group_alive(pgid: int) -> bool:
    """True while any process of the process group is alive (zombies of our own children aside)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
