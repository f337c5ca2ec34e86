"""`facealign eval video` as an API: temporal stability, accuracy, lag and speed of the video pipeline.

(1) jitter on synthetic still sequences and (2) NME and lag on synthetic moving sequences, made from val images
only (the temporal config's val sets; facealign.data.sequences), for off / oneeuro / causal / offline;
(3) ground-truth-free jitter on the real videos, side by side, with a PNG of the nose tip's track per video;
(4) frames/second of the whole `facealign video` run on each clip (decode, tracking, fusion, JSON, overlay).
The command (facealign/cli/eval_video.py) fills ``VideoEvalOptions`` and prints ``report``.
"""
from __future__ import annotations

import json
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

MODES = ["off", "oneeuro", "causal", "offline"]
PARTS = ("synthetic", "real", "speed")


@dataclass
class VideoEvalOptions:
    out: Path
    data: Path | None = None  # the data folder (None: facealign.paths.data_root())
    videos: Path | None = None  # real videos (None: DATA/videos)
    sequences: int = 200  # synthetic val sequences
    config: Path | None = None  # temporal training config (None: configs/temporal.yaml of the checkout)
    landmarks_model: str | None = None  # per-frame landmark network: registered name or ONNX file
    causal_model: str | None = None  # temporal models: registered name or ONNX file (None: the shipped ones)
    offline_model: str | None = None
    one_euro: dict = field(default_factory=dict)  # One Euro parameters (min_cutoff, beta)
    parts: tuple[str, ...] = PARTS
    max_frames: int | None = None
    key_interval: int = 10
    quiet: bool = False

    def __post_init__(self) -> None:
        from facealign import paths

        self.out = Path(self.out)
        if self.data is None:
            self.data = paths.data_root()
        if self.config is None:
            root = paths.checkout_root()
            self.config = (root / "configs" / "temporal.yaml") if root else None

    def video_folder(self) -> Path:
        return Path(self.videos) if self.videos else Path(self.data) / "videos"

    def _check_data(self) -> None:
        """ValueError naming what is missing: the synthetic part's labelled val folders (the config's), the real
        and speed parts' videos. Nothing is evaluated, and no report written, on data that is not there."""
        if "synthetic" in self.parts:
            from facealign.data.sequences import load_sequence_setup

            folders = load_sequence_setup(self.config).data.val
            missing = [str(Path(self.data) / f) for f in folders if not (Path(self.data) / f).is_dir()]
            if missing:
                raise ValueError(f"--data: the synthetic part's labelled folders are not there: {', '.join(missing)} "
                                 "(the data folder is --data or FACEALIGN_DATA)")
        if {"real", "speed"} & set(self.parts) and not sorted(self.video_folder().glob("*.mp4")):
            raise ValueError(f"--videos: no .mp4 videos in {self.video_folder()} (needed by the real and speed parts; "
                             "--parts synthetic leaves them out)")

    def check(self) -> "VideoEvalOptions":
        """Raise ValueError with a one-line reason for a bad option, before any work."""
        from facealign.stages import check_model

        bad = set(self.parts) - set(PARTS)
        if bad:
            raise ValueError(f"--parts: unknown {', '.join(sorted(bad))} (expected {', '.join(PARTS)})")
        if "synthetic" in self.parts and (self.config is None or not Path(self.config).is_file()):
            raise ValueError(f"--config: the temporal training config {self.config} is not a file")
        if self.sequences < 1 or self.key_interval < 1:
            raise ValueError("--sequences and --key-interval must be >= 1")
        self._check_data()
        for flag, model, kind in (("--landmarks-model", self.landmarks_model, "landmarks"),
                                  ("--causal-model", self.causal_model or "temporal-causal", "temporal"),
                                  ("--offline-model", self.offline_model or "temporal-offline", "temporal")):
            check_model(model, kind, flag)
        return self


def temporal_models(opts: VideoEvalOptions) -> dict:
    """The learned temporal models under test, built through the registry."""
    from facealign.stages import build_model

    return {"causal": build_model(opts.causal_model or "temporal-causal", "temporal"),
            "offline": build_model(opts.offline_model or "temporal-offline", "temporal")}


def evaluate_video(opts: VideoEvalOptions) -> tuple[dict, str]:
    """(metrics, Markdown report); writes metrics.json, report.md and the track plots into ``opts.out``."""
    from facealign.pipeline import AlignerOptions, build_aligner
    from facealign.runtime import registry

    opts.check()
    opts.out.mkdir(parents=True, exist_ok=True)
    models = temporal_models(opts)
    lm_path = registry.resolve(opts.landmarks_model, "landmarks")[1]
    res: dict = {}
    if "synthetic" in opts.parts:
        res["synthetic"] = synthetic(opts, models, opts.one_euro, lm_path)
    if "real" in opts.parts:
        fa = build_aligner(AlignerOptions(landmarks_model=str(lm_path), tta=False, shared_pool=False))
        res["real"] = real(opts, models, opts.one_euro, fa)
    if "speed" in opts.parts:
        res["speed"] = speed(opts)
    (opts.out / "metrics.json").write_text(json.dumps(res, indent=2, default=float))
    text = report(res)
    (opts.out / "report.md").write_text(text)
    return res, text


def synthetic(opts: VideoEvalOptions, models: dict, one_euro: dict, lm_path: Path) -> dict:
    from facealign.evaluation.video_eval import apply_mode, synthetic_metrics
    from facealign.data.sequences import load_sequence_setup
    from facealign.evaluation.tracked_sequences import cached_sequences

    cfg = load_sequence_setup(opts.config)
    import numpy as np

    data = cached_sequences("val", opts.data, cfg.data.val, opts.sequences, cfg.sequences, lm_path,
                            cfg.data.cache_dir, cfg.seed + 1, progress=not opts.quiet)
    fps = float(data["fps"])
    fused = {}
    for m in MODES:
        fused[m] = np.stack([apply_mode(m, p.astype(np.float64), s, fps, models, one_euro)
                             for p, s in zip(data["pred"], data["scores"])])
    res = synthetic_metrics(data, fused)
    res["_info"] = {"sequences": int(len(data["pred"])), "frames": int(data["pred"].shape[1]),
                    "still": int((data["kind"] == 0).sum()), "fps": fps, "val_sets": cfg.data.val}
    return res


def real(opts: VideoEvalOptions, models: dict, one_euro: dict, aligner) -> dict:
    from facealign.evaluation.video_eval import fuse_tracks, measured_tracks, plot_track, raw_tracks, real_jitter

    res = {}
    for v in sorted(opts.video_folder().glob("*.mp4")):
        tracks, fps, n = raw_tracks(aligner, v, opts.key_interval, opts.max_frames)
        if not tracks:
            res[v.name] = {"frames": n, "tracks": 0}
            continue
        fused = fuse_tracks(tracks, fps, MODES, models, one_euro)
        row = real_jitter(tracks, fused)
        row.update({"frames": n, "tracks": len(tracks), "measured": len(measured_tracks(tracks))})
        plot_track(tracks, fused, fps, opts.out / f"track_{v.stem}.png", f"{v.name}: nose tip (point 30), first 5 s")
        res[v.name] = row
        if not opts.quiet:
            print(v.name, {k: round(x, 3) for k, x in row.items()}, file=sys.stderr)
    return res


def speed(opts: VideoEvalOptions) -> dict:
    """Wall-clock frames/s of the `facealign video` command itself, per clip, with and without the overlay video."""
    import subprocess

    res = {}
    for v in sorted(opts.video_folder().glob("*.mp4")):
        row = {}
        for label, extra in (("overlay", []), ("no_overlay", ["--no-overlay"])):
            out = opts.out / "speed_run" / v.stem
            cmd = [sys.executable, "-m", "facealign.cli.main", "video", str(v), "--out", str(out),
                   "--key-interval", str(opts.key_interval), *extra]
            if opts.max_frames:
                cmd += ["--max-frames", str(opts.max_frames)]
            t = time.perf_counter()
            run = subprocess.run(cmd, check=True, capture_output=True, text=True)
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
        if not opts.quiet:
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
