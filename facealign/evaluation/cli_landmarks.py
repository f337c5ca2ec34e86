"""`facealign eval landmarks`: score the landmark model on labelled data sets and print one table.

    facealign eval landmarks --data pts:../shared/data/ytf68/val --data mtfl:../shared/data/mtfl/val.txt --out out/eval
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from facealign.alignment.templates import TEMPLATES


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "landmarks",
        help="NME / AUC / failure rate of the 68-point model on labelled data sets.",
        description="Score the landmark model on labelled data sets: NME (inter-ocular, inter-pupil, box), "
        "AUC and failure rate at 0.08 and 0.10, per-pose bins (MTFL), optional closed-loop consistency. "
        "Data sets are KIND:PATH with KIND one of pts, mtfl, wflw, coco, dlib, ljson (see docs/evaluation.md).",
    )
    p.add_argument("--data", action="append", required=True, metavar="[NAME=]KIND:PATH",
                   help="a labelled data set (repeatable), e.g. pts:../shared/data/300w/afw or mtfl:../shared/data/mtfl/val.txt")
    p.add_argument("--boxes", choices=("gt", "detector"), default="gt",
                   help="gt: the ground truth's tight box (5-point data: box_from_five); detector: run the detector "
                   "and match its faces to the ground truth (misses are failures)")
    p.add_argument("--out", type=Path, help="write metrics.json, predictions_*.json, ced*.png and results.txt here")
    p.add_argument("--limit", type=int, default=0, metavar="N", help="only the first N faces of each data set")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--closed-loop", action="store_true", help="also measure closed-loop consistency of aligned crops")
    p.add_argument("--template", default="arcface112", choices=sorted(TEMPLATES), help="template for --closed-loop")
    p.add_argument("--compare", action="append", default=[], metavar="LABEL=FILE",
                   help="another method's predictions file (same JSON format) to score and plot alongside (repeatable)")
    p.add_argument("--method", default="facealign", help="label of our method in tables and plots")
    p.add_argument("--no-tta", action="store_true", help="one landmark pass per face (no mirrored second pass)")
    p.add_argument("--model", metavar="NAME", help="evaluate this landmark network: a registered name (e.g. "
                   "stfan-lmk-112-fast) or an ONNX file (e.g. a training run's export); default stfan-lmk-112")
    p.set_defaults(func=run)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "data"


def run(args: argparse.Namespace) -> int:
    from facealign.evaluation.landmarks_eval import (
        dataset_metrics, evaluate_samples, read_predictions, score_predictions, write_predictions,
    )
    from facealign.evaluation.report import format_table, metrics_row, pose_table
    from facealign.data import parse_spec

    try:
        specs = [parse_spec(s) for s in args.data]
        compares = []
        for c in args.compare:
            label, sep, f = c.partition("=")
            if not sep:
                raise ValueError(f"--compare {c!r}: expected LABEL=FILE")
            compares.append((label, read_predictions(f)))
    except (ValueError, OSError) as e:
        print(f"facealign eval landmarks: {e}", file=sys.stderr)
        return 2

    from facealign.pipeline import FaceAligner

    if args.model:
        from facealign.runtime import registry

        try:
            registry.resolve(args.model, "landmarks")
        except (ValueError, FileNotFoundError) as e:
            print(f"facealign eval landmarks: --model: {e}", file=sys.stderr)
            return 2
    fa = FaceAligner(landmarks=args.model or None, tta=not args.no_tta)
    rows, all_metrics, curves = [], {}, {}
    pose_tables = []
    for spec in specs:
        try:
            samples = spec.load()
        except (ValueError, OSError) as e:
            print(f"facealign eval landmarks: {e}", file=sys.stderr)
            return 2
        if args.limit:
            samples = samples[: args.limit]
        if not samples:
            print(f"{spec.name}: no annotated faces found in {spec.path}", file=sys.stderr)
            continue
        try:
            results = evaluate_samples(fa, samples, boxes=args.boxes, closed_loop=args.closed_loop,
                                       template=args.template, progress=not args.quiet)
        except FileNotFoundError as e:  # the model file is missing: say which, not a traceback
            print(f"facealign eval landmarks: {e}", file=sys.stderr)
            return 1
        m = dataset_metrics(results)
        entry = {args.method: m}
        rows.append(metrics_row(spec.name, args.method, args.boxes, m))
        curves[(spec.name, args.method)] = [r.errors["io"] for r in results if r.status != "unreadable"]
        if "per_pose" in m:
            pose_tables.append(pose_table(m["per_pose"], f"{spec.name} {args.method} per pose bin (NME io):"))
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
        if args.out:
            write_predictions(results, args.out / f"predictions_{_slug(spec.name)}.json", args.method, spec.name, args.boxes)
    if not rows:
        return 1
    text = format_table(rows)
    if pose_tables:
        text += "\n\n" + "\n\n".join(pose_tables)
    closed = {f"{d}": m[args.method]["closed_loop"] for d, m in all_metrics.items() if "closed_loop" in m[args.method]}
    if closed:
        text += "\n\nclosed loop (template " + args.template + ", normalised by the template inter-ocular distance):"
        for d, c in closed.items():
            fmt = lambda v: "-" if v is None else f"{100 * v:.2f}%"
            text += f"\n  {d}: consistency {fmt(c['consistency'])}  template {fmt(c['template'])}  eye {fmt(c['eye'])}  (n={c['n']})"
    print(text)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "metrics.json").write_text(json.dumps(all_metrics, indent=1, default=float) + "\n", encoding="utf-8")
        (args.out / "results.txt").write_text(text + "\n", encoding="utf-8")
        try:
            from facealign.evaluation.plots import plot_ced

            plot_ced({f"{m} {d}": e for (d, m), e in curves.items()}, args.out / "ced.png", title="CED (inter-ocular NME)")
            for spec in specs:
                sub = {m: e for (d, m), e in curves.items() if d == spec.name}
                if sub:
                    plot_ced(sub, args.out / f"ced_{_slug(spec.name)}.png", title=f"CED: {spec.name}")
        except RuntimeError as e:  # matplotlib missing: the numbers are written, the plot is not
            print(f"no CED plot: {e}", file=sys.stderr)
        print(f"wrote {args.out}/metrics.json, results.txt, predictions_*.json, ced*.png")
    return 0
