"""Evaluate facealign's landmarks and the peers (dlib 68, MediaPipe face mesh -> 68) side by side.

    python benchmarks/landmarks_compare.py [--peers dlib,mediapipe] [--no-ours] [--limit N] [--out DIR]

Data sets (default): ytf68/val (pts), 300w/afw (pts), mtfl/val.txt (mtfl) under the data root (facealign.paths,
$FACEALIGN_DATA; or --data-root).
Each method runs end to end with its own detector ("det": misses are failures, NME over found faces) and, where
it accepts one, from the ground-truth box ("gt": facealign's tight-68 box; 5-point data box_from_five; dlib gets
it converted to its own box convention; MediaPipe gets a crop around it). Peers run in their own virtual
environments (benchmarks/peers/setup_peers.sh; facealign.paths.peer_envs_dir: $FACEALIGN_PEER_ENVS, default
peer-envs under the cache folder) through
benchmarks/peers/run_<peer>.py; every metric is computed here by facealign.evaluation.
Peer outputs are cached in OUT/raw/ (delete them or pass --rerun to run the peers again).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from facealign import paths  # noqa: E402
from facealign.alignment.points import tight_box  # noqa: E402
from facealign.evaluation.landmarks_eval import (  # noqa: E402
    FaceResult, _score, dataset_metrics, evaluate_samples, gt_box, match_faces, write_predictions,
)
from facealign.evaluation.report import format_table, metrics_row, pose_table  # noqa: E402
from facealign.data import load_spec  # noqa: E402

DEFAULT_DATA = ("ytf68/val=pts:ytf68/val", "300w/afw=pts:300w/afw", "mtfl/val=mtfl:mtfl/val.txt")
PEERS = {"dlib": "run_dlib.py", "mediapipe": "run_mediapipe.py"}


def peer_python(name: str) -> Path:
    return paths.peer_envs_dir(name, "bin", "python")


def run_peer(name: str, mode: str, samples, raw_dir: Path, tag: str, rerun: bool, extra: list[str]) -> dict:
    """Run one peer over the samples' images (grouped per image) and return its raw output."""
    out = raw_dir / f"{tag}_{name}{'-' + '-'.join(extra[1::2]) if extra else ''}_{mode}.json"
    if out.exists() and not rerun:
        return json.loads(out.read_text())
    by_image = defaultdict(list)
    for s in samples:
        by_image[str(s.image)].append(s)
    jobs = {"mode": mode, "jobs": [{"image": im, "boxes": [gt_box(s).tolist() for s in g]} for im, g in by_image.items()]}
    jobs_file = raw_dir / f"{tag}_{mode}_jobs.json"
    jobs_file.write_text(json.dumps(jobs))
    py = peer_python(name)
    if not py.exists():
        raise SystemExit(f"{name}: no environment at {py.parent.parent}; run benchmarks/peers/setup_peers.sh {name}")
    cmd = [str(py), str(REPO / "benchmarks" / "peers" / PEERS[name]), str(jobs_file), str(out), *extra]
    print(f"running {name} ({mode}) on {len(samples)} faces ...", file=sys.stderr, flush=True)
    env = dict(os.environ, GLOG_minloglevel="2", TF_CPP_MIN_LOG_LEVEL="3")  # quiet the TFLite/absl logs
    subprocess.run(cmd, check=True, env=env)
    return json.loads(out.read_text())


def peer_results(samples, raw: dict) -> list[FaceResult]:
    """Turn a peer's raw output into scored FaceResults (box mode: in order; detect mode: matched by box)."""
    by_image = defaultdict(list)
    for s in samples:
        by_image[str(s.image)].append(s)
    results = []
    for entry in raw["results"]:
        group = by_image.get(entry["image"], [])
        boxes_gt = np.array([gt_box(s) for s in group]).reshape(-1, 4)
        faces = [f for f in entry["faces"]]
        if "error" in entry:
            results += [FaceResult(s, b, None, "unreadable") for s, b in zip(group, boxes_gt)]
            continue
        if raw["mode"] == "box":
            chosen = faces
            boxes = boxes_gt
        else:
            with_pts = [f for f in faces if f.get("landmarks") is not None]
            det_boxes = np.array([tight_box(np.array(f["landmarks"])) for f in with_pts]).reshape(-1, 4)
            idx = match_faces(boxes_gt, det_boxes)
            chosen = [None if j is None else with_pts[j] for j in idx]
            boxes = [boxes_gt[i] if j is None else det_boxes[j] for i, j in enumerate(idx)]
        for s, f, b in zip(group, chosen, boxes):
            lm = None if f is None or f.get("landmarks") is None else np.array(f["landmarks"], dtype=np.float64)
            r = FaceResult(s, np.asarray(b, dtype=np.float64), lm, "ok" if lm is not None else "miss")
            _score(r)
            results.append(r)
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-root", type=Path, default=paths.data_root())
    ap.add_argument("--data", action="append", help="[NAME=]KIND:PATH relative to --data-root (repeatable)")
    ap.add_argument("--peers", default="dlib,mediapipe", help="comma-separated peers to run ('' for none)")
    ap.add_argument("--no-ours", action="store_true", help="skip facealign (e.g. before its model is trained)")
    ap.add_argument("--model", action="append", default=[], metavar="LABEL=NAME",
                    help="also evaluate this landmark network of ours (registered name or ONNX file) under LABEL, "
                    "e.g. facealign-fast=stfan-lmk-112-fast (repeatable)")
    ap.add_argument("--modes", default="det,gt", help="det (end to end), gt (ground-truth box), or both")
    ap.add_argument("--mediapipe-mapping", default="known,fitted",
                    help="mesh -> 68 mappings to report, comma-separated: known (Peizhi Yan's correspondence), fitted "
                    "(nearest vertex on 300-W training faces, benchmarks/peers/fit_mediapipe_map.py)")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--out", type=Path, default=REPO / "out" / "landmarks_compare")
    ap.add_argument("--rerun", action="store_true", help="run peers again even if their cached output exists")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)

    raw_dir = args.out / "raw"
    raw_dir.mkdir(parents=True, exist_ok=True)
    modes = [m for m in args.modes.split(",") if m]
    peers = [p for p in args.peers.split(",") if p]
    rows, panels, all_metrics, pose_tables = [], {}, {}, []
    fa = None
    for spec in args.data or DEFAULT_DATA:
        name, sep, rest = spec.partition("=")
        if not sep:
            name, rest = "", spec
        kind, _, rel = rest.partition(":")
        label, samples = load_spec(f"{name + '=' if name else ''}{kind}:{args.data_root / rel}")
        if args.limit:
            samples = samples[: args.limit]
        tag = label.replace("/", "_")
        curves, entry = {}, {}

        def add(method: str, mode: str, results: list[FaceResult]) -> None:
            m = dataset_metrics(results)
            entry[f"{method} {mode}"] = m
            rows.append(metrics_row(label, method, mode, m))
            curves[f"{method} {mode}"] = [r.errors["io"] for r in results if r.status != "unreadable"]
            if "per_pose" in m:
                pose_tables.append(pose_table(m["per_pose"], f"{label} {method} {mode} per pose bin (NME io):"))
            write_predictions(results, args.out / f"predictions_{tag}_{method}_{mode}.json", method, label, mode)

        if not args.no_ours:
            from facealign.pipeline import FaceAligner

            fa = fa or {"facealign": FaceAligner(), **{lab: FaceAligner(landmarks=name) for lab, name in
                                                         (m.split("=", 1) for m in args.model)}}
            for method, aligner in fa.items():
                for mode in modes:
                    try:
                        res = evaluate_samples(aligner, samples, boxes="gt" if mode == "gt" else "detector",
                                               progress=not args.quiet)
                    except FileNotFoundError as e:  # a model not trained/shipped yet: report the others
                        print(f"{method} {mode}: skipped ({e})", file=sys.stderr)
                        continue
                    add(method, mode, res)
        runs = [(p, []) for p in peers if p != "mediapipe"]
        if "mediapipe" in peers:
            runs += [("mediapipe", ["--mapping", m]) for m in args.mediapipe_mapping.split(",") if m]
        for peer, extra in runs:
            for mode in modes:
                raw = run_peer(peer, "box" if mode == "gt" else "detect", samples, raw_dir, tag, args.rerun, extra)
                method = peer if not extra else f"{peer}-{extra[1]}"
                add(method, mode, peer_results(samples, raw))
                n_img = len(raw["results"])
                entry[f"{method} {mode}"]["seconds_per_image"] = raw.get("seconds", float("nan")) / max(n_img, 1)
        panels[f"{label} (n={len(samples)})"] = curves
        all_metrics[label] = entry
    text = format_table(rows)
    if pose_tables:
        text += "\n\n" + "\n\n".join(pose_tables)
    text += ("\n\nNME over faces found; AUC/FR (inter-ocular) count misses as failures. det = own detector end to "
             "end, gt = from the ground-truth box (mediapipe: a crop around it).")
    print(text)
    (args.out / "results.txt").write_text(text + "\n")
    (args.out / "metrics.json").write_text(json.dumps(all_metrics, indent=1, default=float) + "\n")
    try:
        from facealign.evaluation.plots import plot_ced_panels

        plot_ced_panels(panels, args.out / "ced.png")
    except RuntimeError as e:
        print(f"no CED plot: {e}", file=sys.stderr)
    print(f"wrote {args.out}/results.txt, metrics.json, ced.png", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
