"""An output folder owned by one run at a time: checked before any work, locked, cleared of dead temporary files.

``claim_folder(path)`` makes the folder (or finds it), proves it can be written (a probe file: permission bits
say nothing for root, read-only file systems only answer a real write), takes an exclusive ``flock`` on
``.facealign.lock`` inside it, and removes temporary files that a killed run left behind (only a lock holder
may: no other run can be writing them). The kernel drops the lock when the process ends, however it ends, so
there is never a stale lock to clean by hand.
"""
from __future__ import annotations

import errno
import fcntl
import os
import re
from pathlib import Path

from facealign.jobs.options import OptionsError

LOCK_NAME = ".facealign.lock"
OUTPUT_SUBFOLDERS = ("crops", "overlays", "meshes")  # where the jobs write, besides the folder itself
# the temporary files of io.atomic and io.video: "." + target name + "." + mkstemp's 8 characters + ".tmp[.mp4]"
_TMP = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp(\.mp4)?$")


class OutputError(OptionsError):
    """The output folder cannot be used (not a folder, not writable, or in use by another run)."""


class FolderLock:
    """An exclusive lock on an output folder, held until ``release()`` (or the process ends)."""

    def __init__(self, folder: Path, fd: int) -> None:
        self.folder = folder
        self._fd = fd

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = -1

    def __enter__(self) -> "FolderLock":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def claim_file(path: str | os.PathLike, what: str = "--out") -> FolderLock:
    """An output file's folder checked and a lock for the file (``.NAME.facealign.lock`` beside it): one run at a
    time writes ``path`` and its companions; ``OutputError`` when ``path`` is a folder or cannot be written."""
    p = Path(path)
    if p.is_dir():
        raise OutputError(f"{what} {p}: is a folder; give a file name such as {p / 'merged.png'}")
    return claim_folder(p.parent, what, lock_name=f".{p.name}.facealign.lock")


def check_writable_folder(path: str | os.PathLike, what: str = "--out") -> Path:
    """Make ``path`` (parents too) and prove a file can be created in it; ``OutputError`` with the reason."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{what} {folder}: exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".facealign-probe-{os.getpid()}"
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise OutputError(f"{what} {folder}: cannot write there ({_reason(e)})") from None
    return folder


def claim_folder(path: str | os.PathLike, what: str = "--out", lock_name: str = LOCK_NAME) -> FolderLock:
    """``check_writable_folder``, then the folder's lock ``lock_name`` (``OutputError`` if another run holds it),
    then stale temporary files removed. Release the returned lock when the run ends."""
    folder = check_writable_folder(path, what)
    lock_path = folder / lock_name
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise OutputError(f"{what} {folder}: cannot create {lock_name} ({_reason(e)})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        other = _read_pid(fd)
        os.close(fd)
        if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            who = f" (process {other})" if other else ""
            raise OutputError(f"{what} {folder}: another facealign run is writing there{who}; wait for it or"
                              " choose another folder") from None
        raise OutputError(f"{what} {folder}: cannot lock ({_reason(e)})") from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    remove_stale_temporaries(folder)
    return FolderLock(folder, fd)


def remove_stale_temporaries(folder: Path) -> int:
    """Delete the temporary files a killed run left in ``folder`` and its output sub-folders (only the lock
    holder calls this); returns how many."""
    n = 0
    for d in [folder, *(folder / s for s in OUTPUT_SUBFOLDERS)]:
        try:
            names = os.listdir(d)
        except OSError:
            continue
        for name in names:
            p = d / name
            if _TMP.match(name) and p.is_file() and not p.is_symlink():
                try:
                    p.unlink()
                    n += 1
                except OSError:
                    pass
    return n


def _read_pid(fd: int) -> str:
    try:
        return os.pread(fd, 32, 0).decode(errors="replace").strip()
    except OSError:
        return ""


def _reason(e: OSError) -> str:
    return e.strerror or str(e)


def is_run_folder(folder: str | os.PathLike, marker: str) -> bool:
    """True when ``folder`` holds a facealign run (its ``marker`` file, run.json or the lock file)."""
    f = Path(folder)
    return any((f / n).is_file() for n in (marker, "run.json", LOCK_NAME))


def clear_previous_outputs(folder: str | os.PathLike, patterns: list[str], ours: bool, what: str = "--out") -> int:
    """A fresh run into a used folder: delete the files of an earlier run matching ``patterns`` (globs relative
    to ``folder``, e.g. "crops/*"), so no stale crop sits beside the new results. When ``folder`` is not a run
    folder (``ours`` False) and such files exist, ``OutputError`` instead: they are someone else's."""
    folder = Path(folder)
    found = [p for pat in patterns for p in sorted(folder.glob(pat)) if p.is_file() or p.is_symlink()]
    if found and not ours:
        rel = found[0].relative_to(folder)
        raise OutputError(f"{what} {folder}: holds files facealign did not write ({rel}, ...); choose an empty"
                          " or new folder")
    for p in found:
        try:
            p.unlink()
        except OSError as e:
            raise OutputError(f"{what} {folder}: cannot remove the earlier run's {p.name} ({_reason(e)})") from None
    return len(found)
