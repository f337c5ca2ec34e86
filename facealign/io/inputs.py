"""Expanding command-line inputs (files, folders, globs) into a list of image paths, keeping the user's spelling.

Paths are ``str`` as the OS gives them: bytes of a file name that are not valid UTF-8 are kept as lone
surrogates (Python's ``surrogateescape``, what ``os.fsdecode`` does), so every name can be opened again and
``os.fsencode`` restores its bytes. ``printable`` makes such a name safe for one line of text output.
"""
from __future__ import annotations

import glob
import hashlib
import os
from dataclasses import dataclass
from typing import Iterable

from facealign.io.images import is_image_path


@dataclass
class InputItem:
    """One input: the path as the user gave it (or as found under a folder), or an error for that argument."""

    path: str
    error: str | None = None


def expand_inputs(
    args: list[str], recursive: bool = True, exclude: Iterable[str | os.PathLike] = ()
) -> list[InputItem]:
    """Files stay as given (any extension: the loader decides); folders give their images, sorted; globs expand.

    Folders are searched through symbolic links to folders too; a folder reached a second time (a link loop, or
    two links to one folder) is searched once. What ``exclude`` names (a job's own output folder and everything
    under it, or its output file), under any spelling, is never taken from a folder or a glob; a file named
    explicitly always is. A folder with no images and a glob matching nothing become error items so the batch
    can report them.
    """
    skip = {k for k in (_key(p) for p in exclude) if k is not None}
    items: list[InputItem] = []
    seen: set[str] = set()

    def add(p: str, error: str | None = None) -> None:
        if p not in seen:
            seen.add(p)
            items.append(InputItem(p, error))

    for arg in args:
        arg = os.fspath(arg)
        if os.path.isdir(arg):
            found = sorted(_walk(arg, recursive, skip))
            if not found:
                add(arg, "folder contains no images")
            for f, error in found:
                add(f, error)
        elif not os.path.lexists(arg) and glob.has_magic(arg):
            # everything matched but folders: a broken link or a FIFO is reported by the loader, not dropped
            found = sorted(f for f in glob.glob(arg, recursive=True)
                           if not os.path.isdir(f) and _key(f) not in skip and not _under(f, skip))
            if not found:
                add(arg, "no files match this pattern")
            for f in found:
                add(f)
        else:
            add(arg)  # a file, or a missing path (reported when loaded)
    return items


def _key(path: str | os.PathLike) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _under(path: str, skip: set[tuple[int, int]]) -> bool:
    """True when ``path`` lies in one of the ``skip`` folders (checked on each parent, so links count)."""
    if not skip:
        return False
    d = os.path.dirname(os.path.abspath(path))
    while True:
        if _key(d) in skip:
            return True
        parent = os.path.dirname(d)
        if parent == d:
            return False
        d = parent


def _walk(root: str, recursive: bool, skip: set[tuple[int, int]]) -> Iterable[tuple[str, str | None]]:
    """(path, None) for the image files under ``root`` and (folder, error) for a sub-folder that cannot be read;
    links to folders are followed, each folder (by device and inode) visited once."""
    visited: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        key = _key(folder)
        if key is None or key in visited or key in skip:
            continue
        visited.add(key)
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError as e:
            yield folder, f"cannot read folder: {e.strerror or e}"
            continue
        for e in entries:
            try:
                is_dir = e.is_dir()  # follows links
            except OSError:
                is_dir = False
            if is_dir:
                if recursive:
                    stack.append(e.path)
            elif is_image_path(e.name) and not (skip and _key(e.path) in skip):
                # regular files, and also broken links or special files with an image name: the loader reports
                # them with a clear error instead of the folder skipping them silently
                yield e.path, None


NAME_STEM_MAX = 80  # characters of the file stem kept in an output name


def output_name(path: str) -> str:
    """The output file stem for one input: its stem (made file-name safe) and a short hash of its absolute path.

    Unique per input path and the same in every run, whatever the other inputs are (a --resume with another
    input list never reuses a name for a different photo): a/x.jpg -> x_1a2b3c4d, b/x.jpg -> x_5e6f7a8b.
    """
    stem = os.path.splitext(os.path.basename(os.path.normpath(path)))[0]
    return f"{_safe(stem)[:NAME_STEM_MAX]}_{_path_hash(path, 8)}"


def output_names(paths: list[str]) -> dict[str, str]:
    """``output_name`` for each input (names that would still clash get a longer hash)."""
    out = {p: output_name(p) for p in paths}
    owners: dict[str, set[str]] = {}  # name -> the absolute paths that got it (two spellings of one file share)
    for p, n in out.items():
        owners.setdefault(n, set()).add(os.path.abspath(p))
    for p, n in out.items():
        if len(owners[n]) > 1:  # same stem and same 32-bit hash: astronomically rare, but names must stay unique
            out[p] = f"{n}{_path_hash(p, 24)[8:]}"
    return out


def _path_hash(path: str, n: int) -> str:
    return hashlib.sha1(os.fsencode(os.path.abspath(path))).hexdigest()[:n]


def _safe(name: str) -> str:
    keep = "".join(c if (c.isalnum() and c.isprintable() and not 0xD800 <= ord(c) <= 0xDFFF) or c in "-_."
                   else "_" for c in name)
    return keep.strip(".") or "image"


def printable(text: str) -> str:
    """``text`` (a path, say) safe for one line of terminal or log output: control characters such as a newline
    are escaped (\\n, \\x1b), and bytes that were not valid UTF-8 appear as \\xNN, so a file name can
    neither forge a line of the error output nor make the output's encoding fail."""
    out = []
    for c in text:
        o = ord(c)
        if 0xDC80 <= o <= 0xDCFF:  # surrogateescape: the original byte
            out.append(f"\\x{o - 0xDC00:02x}")
        elif 0xD800 <= o <= 0xDFFF:
            out.append(f"\\u{o:04x}")
        elif c == "\\":
            out.append("\\\\")
        elif not c.isprintable() and c != " ":
            out.append(c.encode("unicode_escape").decode("ascii"))
        else:
            out.append(c)
    return "".join(out)
