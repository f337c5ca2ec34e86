"""`facealign eval video`: temporal stability, accuracy, lag and speed of the video pipeline.

    facealign eval video --out out/eval_video

(1) jitter on synthetic still sequences and (2) NME and lag on synthetic moving sequences, made from val images
only (ytf68/val, 300w/afw; facealign.data.sequences), for off / oneeuro / causal / offline;
(3) ground-truth-free jitter on the real videos, side by side, with a PNG of the nose tip's track per video;
(4) frames/second of the whole `facealign video` run on each clip (decode, tracking, fusion, JSON, overlay).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

MODES = ["off", "oneeuro", "causal", "offline"]
REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("video", help="jitter, accuracy, lag and speed of video tracking and temporal fusion")
    p.add_argument("--out", type=Path, required=True, help="write metrics.json, report.md and plots here")
    p.add_argument("--data", type=Path, default=DATA, help="the shared data folder (default ../shared/data)")
    p.add_argument("--videos", type=Path, help="folder of real videos (default DATA/videos)")
    p.add_argument("--sequences", type=int, default=200, help="synthetic val sequences (default 200, as training)")
    p.add_argument("--config", default=str(REPO / "configs" / "temporal.yaml"),
                   help="temporal training config: the synthetic sequences are made as its val set (same cache)")
    p.add_argument("--landmarks-model", "--landmark-model", dest="landmark_model", metavar="NAME",
                   help="per-frame landmark network: registered name or ONNX file (default stfan-lmk-112)")
    p.add_argument("--causal-model", help="temporal causal ONNX (default: shipped)")
    p.add_argument("--offline-model", help="temporal offline ONNX (default: shipped)")
    p.add_argument("--one-euro", default="", metavar="MIN_CUTOFF,BETA", help="One Euro parameters (default: the module's)")
    p.add_argument("--parts", default="synthetic,real,speed", help="comma list of synthetic, real, speed")
    p.add_argument("--max-frames", type=int, help="at most this many frames per real video")
    p.add_argument("--key-interval", type=int, default=10)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=run)


def _models(args) -> dict:
    from facealign.temporal.fusion import TemporalModel

    return {
        "causal": TemporalModel(args.causal_model or "temporal-causal"),
        "offline": TemporalModel(args.offline_model or "temporal-offline"),
    }


def synthetic(args, models: dict, one_euro: dict, lm_path: Path) -> dict:
    from facealign.evaluation.video_eval import apply_mode, synthetic_metrics
    from facealign.data.sequences import load_sequence_setup
    from facealign.evaluation.tracked_sequences import cached_sequences

    cfg = load_sequence_setup(args.config)
    import numpy as np

    data = cached_sequences("val", args.data, cfg.data.val, args.sequences, cfg.sequences, lm_path,
                            cfg.data.cache_dir, cfg.seed + 1, progress=not args.quiet)
    fps = float(data["fps"])
    fused = {}
    for m in MODES:
        fused[m] = np.stack([apply_mode(m, p.astype(np.float64), s, fps, models, one_euro)
                             for p, s in zip(data["pred"], data["scores"])])
    res = synthetic_metrics(data, fused)
    res["_info"] = {"sequences": int(len(data["pred"])), "frames": int(data["pred"].shape[1]),
                    "still": int((data["kind"] == 0).sum()), "fps": fps, "val_sets": cfg.data.val}
    return res


def real(args, models: dict, one_euro: dict, aligner) -> dict:
    from facealign.evaluation.video_eval import fuse_tracks, measured_tracks, plot_track, raw_tracks, real_jitter

    res = {}
    for v in sorted((args.videos or args.data / "videos").glob("*.mp4")):
        tracks, fps, n = raw_tracks(aligner, v, args.key_interval, args.max_frames)
        if not tracks:
            res[v.name] = {"frames": n, "tracks": 0}
            continue
        fused = fuse_tracks(tracks, fps, MODES, models, one_euro)
        row = real_jitter(tracks, fused)
        row.update({"frames": n, "tracks": len(tracks), "measured": len(measured_tracks(tracks))})
        plot_track(tracks, fused, fps, args.out / f"track_{v.stem}.png", f"{v.name}: nose tip (point 30), first 5 s")
        res[v.name] = row
        if not args.quiet:
            print(v.name, {k: round(x, 3) for k, x in row.items()}, file=sys.stderr)
    return res


def speed(args) -> dict:
    """Wall-clock frames/s of the `facealign video` command itself, per clip, with and without the overlay video."""
    import subprocess

    res = {}
    for v in sorted((args.videos or args.data / "videos").glob("*.mp4")):
        row = {}
        for label, extra in (("overlay", []), ("no_overlay", ["--no-overlay"])):
            out = args.out / "speed_run" / v.stem
            cmd = [sys.executable, "-m", "facealign.cli.main", "video", str(v), "--out", str(out),
                   "--key-interval", str(args.key_interval), *extra]
            if args.max_frames:
                cmd += ["--max-frames", str(args.max_frames)]
            t = time.perf_counter()
            run = subprocess.run(cmd, check=True, cwd=REPO, capture_output=True, text=True)
            secs = time.perf_counter() - t  # includes process start-up, imports and model loading
            frames = sum(1 for _ in open(out / "landmarks.jsonl"))
            row[label] = round(frames / secs, 1)
            # the command's own summary: frames/s from the first frame on (decode, models, JSON, video writing)
            m = re.search(r"\(([\d.]+) frames/s\)", run.stderr)
            row[label + "_loop"] = float(m.group(1)) if m else float("nan")
        from facealign.io.video import open_frames

        src = open_frames(v)
        row["size"] = f"{src.width}x{src.height}"
        row["frames"] = frames
        src.close()
        res[v.name] = row
        if not args.quiet:
            print(v.name, row, file=sys.stderr)
    return res


def report(res: dict) -> str:
    lines = ["# facealign eval video", ""]
    syn = res.get("synthetic")
    if syn:
        info = syn.get("_info", {})
        lines += [f"Synthetic val sequences: {info}", "",
                  "| mode | jitter (% IOD) | jitter / off | NME moving (% IOD) | NME / off | NME still | lag (frames) |",
                  "|---|---|---|---|---|---|---|"]
        for m in MODES:
            r = syn[m]
            lines.append(f"| {m} | {100 * r['jitter']:.3f} | {r['jitter_ratio']:.3f} | {100 * r['nme']:.2f} |"
                         f" {r['nme_ratio']:.3f} | {100 * r['nme_still']:.2f} | {r['lag']:.2f} |")
        lines.append("")
    rl = res.get("real")
    if rl:
        lines += ["Real videos: RMS second difference of the landmark tracks, % of IOD (lower = steadier); tracks of"
                  " 10+ frames with an inter-ocular distance of 12+ px", "",
                  "| video | frames | tracks (measured) | " + " | ".join(MODES) + " |", "|---|---|---|" + "---|" * len(MODES)]
        for v, r in rl.items():
            lines.append(f"| {v} | {r['frames']} | {r['tracks']} ({r.get('measured', 0)}) | "
                         + " | ".join(f"{r.get(m, float('nan')):.3f}" for m in MODES) + " |")
        lines.append("")
    sp = res.get("speed")
    if sp:
        lines += ["Speed of `facealign video`, frames/s: whole process (start-up, imports, model loading included) /"
                  " the command's own count from the first frame on (decode, tracking, fusion, JSON, video writing)", "",
                  "| video | size | frames | with overlay.mp4 | --no-overlay |", "|---|---|---|---|---|"]
        for v, r in sp.items():
            lines.append(f"| {v} | {r['size']} | {r['frames']} | {r['overlay']} / {r['overlay_loop']} |"
                         f" {r['no_overlay']} / {r['no_overlay_loop']} |")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from facealign.pipeline import FaceAligner
    from facealign.runtime import registry

    args.out.mkdir(parents=True, exist_ok=True)
    parts = set(args.parts.split(","))
    one_euro = {}
    if args.one_euro:
        a, b = (float(x) for x in args.one_euro.split(","))
        one_euro = {"min_cutoff": a, "beta": b}
    try:
        models = _models(args)
    except (FileNotFoundError, KeyError) as e:
        sys.stderr.write(f"facealign: error: {e}\n")
        return 1
    try:
        lm_path = registry.resolve(args.landmark_model or "stfan-lmk-112", "landmarks")[1]
    except (ValueError, FileNotFoundError) as e:
        sys.stderr.write(f"facealign: error: --landmarks-model: {e}\n")
        return 2
    res: dict = {}
    if "synthetic" in parts:
        res["synthetic"] = synthetic(args, models, one_euro, lm_path)
    if "real" in parts:
        fa = FaceAligner(landmarks=str(lm_path), tta=False)
        res["real"] = real(args, models, one_euro, fa)
    if "speed" in parts:
        res["speed"] = speed(args)
    (args.out / "metrics.json").write_text(json.dumps(res, indent=2, default=float))
    text = report(res)
    (args.out / "report.md").write_text(text)
    print(text)
    return 0
