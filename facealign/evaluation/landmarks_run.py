"""`facealign eval landmarks` as an API: score a landmark model on labelled data sets, one table of metrics.

The command (facealign/cli/eval_landmarks.py) parses its arguments into ``LandmarksEvalOptions`` and prints what
``evaluate_landmarks`` returns; files (metrics.json, results.txt, predictions_*.json, ced*.png) go to ``out``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from facealign.alignment.templates import TEMPLATES


@dataclass
class LandmarksEvalOptions:
    """What to evaluate: data sets ``[NAME=]KIND:PATH``, boxes "gt" or "detector", other methods' predictions."""

    data: list[str]
    boxes: str = "gt"
    out: Path | None = None
    limit: int = 0
    closed_loop: bool = False
    template: str = "arcface112"
    compare: list[str] = field(default_factory=list)  # LABEL=FILE
    method: str = "facealign"
    tta: bool = True
    landmarks_model: str | None = None  # registered name or ONNX file (None: the default model)
    progress: bool = True

    def check(self) -> "LandmarksEvalOptions":
        """Raise ValueError with a one-line reason for a bad option, before any work."""
        from facealign.stages import check_model

        if self.boxes not in ("gt", "detector"):
            raise ValueError(f"boxes must be gt or detector, got {self.boxes!r}")
        if self.template not in TEMPLATES:
            raise ValueError(f"unknown template {self.template!r}")
        if self.limit < 0:
            raise ValueError(f"limit must be >= 0, got {self.limit}")
        if self.landmarks_model:
            check_model(self.landmarks_model, "landmarks", "--landmarks-model")
        return self


@dataclass
class LandmarksEvalResult:
    text: str  # the table (and per-pose / closed-loop lines) to print
    metrics: dict  # data set -> method -> metrics
    written: list[Path] = field(default_factory=list)


def slug(name: str) -> str:
    """A file-name-safe form of a data set name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "data"


def evaluate_landmarks(opts: LandmarksEvalOptions, warn: Callable[[str], None] = lambda m: None) -> LandmarksEvalResult:
    """Evaluate ``opts``; ValueError / OSError for bad options, data or compare files, FileNotFoundError for a
    model file that went missing. ``warn`` gets non-fatal notes (an empty data set, no matplotlib)."""
    from facealign.data import parse_spec
    from facealign.evaluation.landmarks_eval import (
        dataset_metrics, evaluate_samples, read_predictions, score_predictions, write_predictions,
    )
    from facealign.evaluation.report import format_table, metrics_row, pose_table
    from facealign.pipeline import AlignerOptions, build_aligner

    opts.check()
    specs = [parse_spec(s) for s in opts.data]
    compares = []
    for c in opts.compare:
        label, sep, f = c.partition("=")
        if not sep:
            raise ValueError(f"--compare {c!r}: expected LABEL=FILE")
        compares.append((label, read_predictions(f)))
    fa = build_aligner(AlignerOptions(landmarks_model=opts.landmarks_model, tta=opts.tta, shared_pool=False))
    rows, all_metrics, curves, pose_tables, written = [], {}, {}, [], []
    for spec in specs:
        try:
            samples = spec.load()
        except (ValueError, OSError) as e:  # bad data (a bad argument), not a missing model file
            raise ValueError(str(e)) from None
        if opts.limit:
            samples = samples[: opts.limit]
        if not samples:
            warn(f"{spec.name}: no annotated faces found in {spec.path}")
            continue
        results = evaluate_samples(fa, samples, boxes=opts.boxes, closed_loop=opts.closed_loop,
                                   template=opts.template, progress=opts.progress)
        m = dataset_metrics(results)
        entry = {opts.method: m}
        rows.append(metrics_row(spec.name, opts.method, opts.boxes, m))
        curves[(spec.name, opts.method)] = [r.errors["io"] for r in results if r.status != "unreadable"]
        if "per_pose" in m:
            pose_tables.append(pose_table(m["per_pose"], f"{spec.name} {opts.method} per pose bin (NME io):"))
        for label, doc in compares:
            if len(specs) > 1 and doc.get("dataset") not in (spec.name, None):
                continue
            pr = score_predictions(samples, doc)
            pm = dataset_metrics(pr)
            entry[label] = pm
            rows.append(metrics_row(spec.name, label, str(doc.get("boxes", "?")), pm))
            curves[(spec.name, label)] = [r.errors["io"] for r in pr if r.status != "unreadable"]
            if "per_pose" in pm:
                pose_tables.append(pose_table(pm["per_pose"], f"{spec.name} {label} per pose bin (NME io):"))
        all_metrics[spec.name] = entry
        if opts.out:
            written.append(write_predictions(results, Path(opts.out) / f"predictions_{slug(spec.name)}.json",
                                             opts.method, spec.name, opts.boxes))
    if not rows:
        return LandmarksEvalResult("", {}, written)
    text = format_table(rows)
    if pose_tables:
        text += "\n\n" + "\n\n".join(pose_tables)
    closed = {d: m[opts.method]["closed_loop"] for d, m in all_metrics.items() if "closed_loop" in m[opts.method]}
    if closed:
        text += "\n\nclosed loop (template " + opts.template + ", normalised by the template inter-ocular distance):"
        for d, c in closed.items():
            fmt = lambda v: "-" if v is None else f"{100 * v:.2f}%"  # noqa: E731
            text += f"\n  {d}: consistency {fmt(c['consistency'])}  template {fmt(c['template'])}  eye {fmt(c['eye'])}  (n={c['n']})"
    if opts.out:
        written += _write_outputs(Path(opts.out), text, all_metrics, curves, [s.name for s in specs], warn)
    return LandmarksEvalResult(text, all_metrics, written)


def _write_outputs(out: Path, text: str, metrics: dict, curves: dict, names: list[str], warn) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1, default=float) + "\n", encoding="utf-8")
    (out / "results.txt").write_text(text + "\n", encoding="utf-8")
    written = [out / "metrics.json", out / "results.txt"]
    try:
        from facealign.evaluation.plots import plot_ced

        plot_ced({f"{m} {d}": e for (d, m), e in curves.items()}, out / "ced.png", title="CED (inter-ocular NME)")
        written.append(out / "ced.png")
        for name in names:
            sub = {m: e for (d, m), e in curves.items() if d == name}
            if sub:
                plot_ced(sub, out / f"ced_{slug(name)}.png", title=f"CED: {name}")
                written.append(out / f"ced_{slug(name)}.png")
    except RuntimeError as e:  # matplotlib missing: the numbers are written, the plot is not
        warn(f"no CED plot: {e}")
    return written
