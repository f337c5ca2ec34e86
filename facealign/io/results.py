"""results.jsonl: one JSON object per input image, appended line by line, resumable.

Each line is written with a single ``write`` of the complete line followed by fsync, after the crops and the
overlay of that image are in place, so a line means "this input is done". On resume a trailing partial line
(a crash mid-write) and the lines of inputs that failed (they are retried) are dropped, the inputs named in the
remaining lines are skipped, and when the run completes the file is rewritten in input order: one line per input.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from facealign.io.atomic import write_bytes_atomic


class ResultsWriter:
    """Appends result lines to ``path``; ``done`` holds the inputs already recorded (for --resume)."""

    def __init__(self, path: str | os.PathLike, resume: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.done: dict[str, dict[str, Any]] = {}  # inputs read successfully: skipped on resume
        self.records: dict[str, dict[str, Any]] = {}  # every input's latest record
        if resume and self.path.exists():
            self.done = _read_complete_lines(self.path)
            self.records = dict(self.done)
            write_bytes_atomic(self.path, b"".join(json_line(r) for r in self.records.values()))
        elif self.path.exists():
            self.path.unlink()
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def write(self, record: dict[str, Any]) -> None:
        os.write(self._fd, json_line(record))
        os.fsync(self._fd)
        self.records[record["image"]] = record
        if record.get("error") is None:
            self.done[record["image"]] = record

    def reorder(self, order: list[str]) -> None:
        """Rewrite the file atomically with one line per input, in ``order`` (after a resumed run)."""
        lines = [json_line(self.records[p]) for p in order if p in self.records]
        os.close(self._fd)
        write_bytes_atomic(self.path, b"".join(lines))
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> "ResultsWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def json_line(record: dict[str, Any]) -> bytes:
    """One record as one compact JSON line (UTF-8): the line format of results.jsonl and landmarks.jsonl.

    A file name that is not valid UTF-8 holds lone surrogates (os.fsdecode); they are written as JSON escapes
    (\\udce9), which json.loads turns back into the same string (os.fsencode then gives the name's bytes)."""
    return (json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8", "backslashreplace")


class JsonLinesWriter:
    """Writes a fresh JSON-lines file, one ``write`` per complete line: a reader (or a crash) never sees half a
    line. ``close`` makes the file durable (fsync)."""

    def __init__(self, path: str | os.PathLike, append: bool = False) -> None:
        """``append``: continue an existing file after its last complete line (a partial one is cut off)."""
        self.path = Path(path)
        if append and self.path.exists():
            self._fd = os.open(self.path, os.O_RDWR)
            os.ftruncate(self._fd, _complete_length(self._fd))
            os.lseek(self._fd, 0, os.SEEK_END)
        else:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)

    def write(self, record: dict[str, Any]) -> None:
        os.write(self._fd, json_line(record))

    def close(self) -> None:
        if self._fd >= 0:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> "JsonLinesWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _complete_length(fd: int, block: int = 1 << 16) -> int:
    """Bytes of the file up to and including its last newline (read from the end: the file may be long)."""
    pos = os.fstat(fd).st_size
    while pos > 0:
        n = min(block, pos)
        pos -= n
        i = os.pread(fd, n, pos).rfind(b"\n")
        if i >= 0:
            return pos + i + 1
    return 0


def _read_complete_lines(path: Path) -> dict[str, dict[str, Any]]:
    raw = path.read_bytes()
    end = raw.rfind(b"\n") + 1  # a partial last line left by a crash is ignored (and dropped by the rewrite)
    done: dict[str, dict[str, Any]] = {}
    for line in raw[:end].splitlines():
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        # an input that failed to read is retried on resume; one that was read is done
        if rec.get("error") is None and "image" in rec:
            done[rec["image"]] = rec
    return done


def read_results(path: str | os.PathLike) -> list[dict[str, Any]]:
    """All complete records of a results.jsonl file, in file order."""
    out = []
    with open(path, "rb") as f:
        for line in f:
            if line.endswith(b"\n") and line.strip():
                out.append(json.loads(line))
    return out
