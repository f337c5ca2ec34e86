"""``[NAME=]KIND:PATH`` data set specs for the command line.

A relative PATH is taken from the working folder when it exists there, else under the data root
(facealign.paths.data_path): ``pts:300w/afw`` works from any folder.

Kinds: ``pts`` (a folder of .pts + images, recursive), ``mtfl`` (an MTFL/CelebA table; paths relative to its
folder), ``wflw`` (a list_98pt_rect_attr table, or mmpose's WFLW .json), ``coco`` (COCO keypoint JSON),
``dlib`` (imglab XML), ``ljson`` (a menpo .ljson file or a folder of them), ``profiled`` (a folder of synthetic
large-pose views, facealign.data.profiled: per-yaw-bin results).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from facealign.data.coco import read_coco
from facealign.data.dlib_xml import read_dlib_xml
from facealign.data.ljson import read_ljson
from facealign.data.mtfl import read_mtfl
from facealign.data.profiled import read_profiled
from facealign.data.pts import read_pts_folder
from facealign.data.sample import Sample
from facealign.data.wflw import read_wflw
from facealign.paths import data_path


def _read_wflw_any(path: str | Path) -> list[Sample]:
    return read_coco(path) if str(path).lower().endswith(".json") else read_wflw(path)


READERS: dict[str, Callable[[Path], list[Sample]]] = {
    "pts": read_pts_folder,
    "mtfl": read_mtfl,
    "wflw": _read_wflw_any,
    "coco": read_coco,
    "dlib": read_dlib_xml,
    "ljson": read_ljson,
    "profiled": read_profiled,
}


@dataclass(frozen=True)
class DatasetSpec:
    """A parsed ``[NAME=]KIND:PATH``."""

    name: str
    kind: str
    path: Path

    def load(self) -> list[Sample]:
        """Read the samples (raises FileNotFoundError / ValueError with the spec in the message)."""
        if not self.path.exists():
            raise FileNotFoundError(f"{self.kind}:{self.path}: no such file or folder")
        return READERS[self.kind](self.path)


def default_name(path: Path) -> str:
    """A short display name: the last two path parts (``ytf68/val``, ``mtfl/val.txt``)."""
    parts = path.resolve().parts
    return "/".join(parts[-2:]) if len(parts) >= 2 else str(path)


def parse_spec(spec: str) -> DatasetSpec:
    """Parse ``[NAME=]KIND:PATH`` (raises ValueError naming the known kinds)."""
    name = ""
    if "=" in spec.split(":", 1)[0]:
        name, spec = spec.split("=", 1)
    kind, sep, path = spec.partition(":")
    kind = kind.strip().lower()
    if not sep or not path:
        raise ValueError(f"data set spec {spec!r}: expected KIND:PATH with KIND one of {', '.join(READERS)}")
    if kind not in READERS:
        raise ValueError(f"data set spec {spec!r}: unknown kind {kind!r}; one of {', '.join(READERS)}")
    p = data_path(path)  # absolute, or found from the working folder, or under the data root
    return DatasetSpec(name=name or default_name(p), kind=kind, path=p)


def load_spec(spec: str) -> tuple[str, list[Sample]]:
    """(display name, samples) of a ``[NAME=]KIND:PATH`` spec."""
    s = parse_spec(spec)
    return s.name, s.load()
