"""Expanding command-line inputs (files, folders, globs) into a list of image paths, keeping the user's spelling."""
from __future__ import annotations

import glob
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from facealign.io.images import is_image_path


@dataclass
class InputItem:
    """One input: the path as the user gave it (or as found under a folder), or an error for that argument."""

    path: str
    error: str | None = None


def expand_inputs(args: list[str], recursive: bool = True) -> list[InputItem]:
    """Files stay as given (any extension: the loader decides); folders give their images, sorted; globs expand.

    A folder with no images and a glob matching nothing become error items so the batch can report them.
    """
    items: list[InputItem] = []
    seen: set[str] = set()

    def add(p: str, error: str | None = None) -> None:
        if p not in seen:
            seen.add(p)
            items.append(InputItem(p, error))

    for arg in args:
        if os.path.isdir(arg):
            root = Path(arg)
            entries = root.rglob("*") if recursive else root.glob("*")
            found = sorted(str(p) for p in entries if p.is_file() and is_image_path(p))
            if not found:
                add(arg, "folder contains no images")
            for f in found:
                add(f)
        elif not os.path.exists(arg) and glob.has_magic(arg):
            found = sorted(glob.glob(arg, recursive=True))
            found = [f for f in found if os.path.isfile(f)]
            if not found:
                add(arg, "no files match this pattern")
            for f in found:
                add(f)
        else:
            add(arg)  # a file, or a missing path (reported when loaded)
    return items


def output_names(paths: list[str]) -> dict[str, str]:
    """A short, unique, filesystem-safe name per input for its crops and overlay (stem, plus a hash on clashes)."""
    stems: dict[str, int] = {}
    for p in paths:
        s = _safe(Path(p).stem)
        stems[s] = stems.get(s, 0) + 1
    out = {}
    for p in paths:
        s = _safe(Path(p).stem)
        out[p] = s if stems[s] == 1 else f"{s}_{hashlib.sha1(p.encode('utf-8')).hexdigest()[:8]}"
    return out


def _safe(name: str) -> str:
    keep = "".join(c if (c.isalnum() or c in "-_.") else "_" for c in name)
    return keep.strip(".") or "image"
