"""run.json: the settings a run's outputs depend on, so ``--resume`` can refuse to mix two different runs."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from facealign.io.atomic import write_bytes_atomic
from facealign.jobs.options import OptionsError

RUN_FILE = "run.json"


def check_run_settings(folder: Path, job: str, settings: dict[str, Any], resume: bool) -> None:
    """On resume, ``OptionsError`` when ``folder``'s run.json records other settings (a folder without one, from an
    older version, is accepted); then run.json holds ``settings``."""
    path = Path(folder) / RUN_FILE
    settings = json.loads(json.dumps(settings))  # as it will read back (tuples -> lists)
    if resume and path.is_file():
        try:
            before = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            before = None
        if not isinstance(before, dict) or before.get("job") != job:
            raise OptionsError(f"--resume: {path} is not from a `{job}` run; start over without --resume")
        old = before.get("settings", {})
        diff = [f"{k} {old.get(k)!r} -> {settings.get(k)!r}" for k in sorted(set(old) | set(settings))
                if old.get(k) != settings.get(k)]
        if diff:
            raise OptionsError("--resume with other options than the run it continues (" + "; ".join(diff)
                               + "): use the same options, or start over without --resume")
    write_bytes_atomic(path, json.dumps({"job": job, "settings": settings}, indent=1).encode())
