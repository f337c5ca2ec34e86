"""The run log every trainer writes in its run folder: ``log.txt`` (one timestamped text line per message) and
``metrics.jsonl`` (one JSON object per record, e.g. per epoch), both appended so a resumed run continues them."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable


class RunLog:
    """Text and JSON-lines log of a run; ``echo`` also gets every text line (print by default, None for quiet)."""

    def __init__(self, folder: str | Path, echo: Callable[[str], None] | None = print) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.text_path = self.folder / "log.txt"
        self.metrics_path = self.folder / "metrics.jsonl"
        self.echo = echo

    def __call__(self, message: str) -> None:
        """One text line (several for a message with line breaks), UTC time first."""
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        with self.text_path.open("a", encoding="utf-8") as f:
            for line in str(message).splitlines() or [""]:
                f.write(f"{stamp} {line}\n")
        if self.echo is not None:
            self.echo(message)

    def metrics(self, record: dict) -> None:
        """One JSON object (numbers, strings, lists and dicts of them) on its own line of metrics.jsonl."""
        with self.metrics_path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record, default=_plain) + "\n")


def _plain(value):
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def read_metrics(folder: str | Path) -> list[dict]:
    """The records of a run's metrics.jsonl (empty when there is none)."""
    path = Path(folder) / "metrics.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
