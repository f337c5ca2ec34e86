"""Video metrics: jitter, accuracy and lag on synthetic sequences; ground-truth-free jitter on real video; speed.

Definitions (all distances normalised by the inter-ocular distance (IOD), outer eye corners 36-45, of the ground
truth on synthetic data, of the per-frame prediction on real video):

- ``jitter``: mean over frames t >= 1 and the 68 points of ||p_t - p_{t-1}|| / IOD on *still* sequences (the
  image does not move, only noise changes), so every displacement is jitter.
- ``nme``: mean ||p_t - g_t|| / IOD over all frames and points (moving sequences).
- ``lag`` (frames): the shift d that minimises the mean error between p_t and g_{t-d} over moving sequences,
  refined to a fraction of a frame by a parabola through the minimum (positive = the output trails the truth).
- ``accel`` (real video): RMS over frames and points of the second difference ||p_{t+1} - 2 p_t + p_{t-1}|| / IOD
  of each landmark track: a still face should give ~0, smooth motion gives little, jitter gives a lot.
"""
from __future__ import annotations

import numpy as np

from facealign.evaluation.metrics import inter_ocular as iod
from facealign.evaluation.metrics import nme_batch


def jitter(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean frame-to-frame displacement / IOD of (S, T, 68, 2) predictions (use on still sequences)."""
    d = np.linalg.norm(np.diff(pred, axis=1), axis=-1) / iod(gt[:, 1:])[..., None]
    return float(d.mean())


def nme(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean point error / IOD over sequences, frames and points (the mean of facealign.evaluation.metrics'
    per-face NME over every frame)."""
    return float(nme_batch(pred, gt).mean())


def lag(pred: np.ndarray, gt: np.ndarray, max_shift: int = 6) -> float:
    """Shift (frames) of the predictions behind the ground truth that best aligns them (see module doc)."""
    t = pred.shape[1]
    norm = iod(gt)[..., None]
    errs = []
    for d in range(-max_shift, max_shift + 1):
        lo, hi = max(0, d), min(t, t + d)  # p_t against g_{t-d}
        e = np.linalg.norm(pred[:, lo:hi] - gt[:, lo - d : hi - d], axis=-1) / norm[:, lo:hi]
        errs.append(e.mean())
    errs = np.array(errs)
    k = int(np.argmin(errs))
    shift = float(k - max_shift)
    if 0 < k < len(errs) - 1:
        a, b, c = errs[k - 1], errs[k], errs[k + 1]
        den = a - 2 * b + c
        if den > 0:
            shift += 0.5 * (a - c) / den
    return shift


def accel_rms(track: np.ndarray, norm: np.ndarray | float) -> float:
    """RMS second difference / IOD of one landmark track (T, 68, 2) (T >= 3); ``norm`` IOD per frame or scalar."""
    if len(track) < 3:
        return float("nan")
    a = track[2:] - 2 * track[1:-1] + track[:-2]
    n = np.broadcast_to(np.asarray(norm, np.float64), (len(track),))[1:-1]
    return float(np.sqrt(((np.linalg.norm(a, axis=-1) / n[:, None]) ** 2).mean()))


def apply_mode(
    mode: str,
    pred: np.ndarray,
    scores: np.ndarray,
    fps: float,
    models: dict | None = None,
    one_euro: dict | None = None,
) -> np.ndarray:
    """Fuse one track's per-frame predictions (T, 68, 2) with ``mode`` exactly as the video runtime does."""
    if mode == "off":
        return pred
    if mode == "oneeuro":
        from facealign.temporal.one_euro import one_euro_sequence

        times = np.arange(len(pred)) / fps
        return one_euro_sequence(pred, times, scale=iod(pred), **(one_euro or {}))
    return models[mode].refine_sequence(pred, scores)


def synthetic_metrics(data: dict, fused: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """Per mode: jitter (still sequences), nme and lag (moving sequences), and ratios to the per-frame model."""
    gt = data["gt"].astype(np.float64)
    still = data["kind"] == 0
    moving = ~still
    out: dict[str, dict[str, float]] = {}
    for mode, p in fused.items():
        out[mode] = {
            "jitter": jitter(p[still], gt[still]) if still.any() else float("nan"),
            "nme": nme(p[moving], gt[moving]) if moving.any() else float("nan"),
            "nme_still": nme(p[still], gt[still]) if still.any() else float("nan"),
            "lag": lag(p[moving], gt[moving]) if moving.any() else float("nan"),
        }
    base = out.get("off")
    if base:
        for m in out.values():
            m["jitter_ratio"] = m["jitter"] / base["jitter"]
            m["nme_ratio"] = m["nme"] / base["nme"]
    return out


# -- real video (no labels) -------------------------------------------------------------------------
def raw_tracks(aligner, path, key_interval: int = 10, max_frames: int | None = None) -> tuple[dict, float, int]:
    """Per-frame (unfused) landmarks of every track of a video: {track: (frames (n,), landmarks (n, 68, 2),
    scores (n, 68))}, the video's fps and its frame count. Fusion never changes the tracking (boxes follow the
    per-frame points), so every mode can be applied to these tracks afterwards exactly as at run time."""
    from facealign.io.video import open_frames
    from facealign.temporal.run import track_frames

    src = open_frames(path, max_frames=max_frames)
    per: dict[int, list] = {}
    n = 0
    for index, _, faces in track_frames(aligner, src, temporal="off", key_interval=key_interval, fps=src.fps):
        n += 1
        for f in faces:
            s = np.ones(68) if f.landmark_scores is None else f.landmark_scores
            per.setdefault(f.track, []).append((index, f.landmarks, s))
    out = {}
    for tid, items in per.items():
        out[tid] = (np.array([i for i, _, _ in items]), np.stack([p for _, p, _ in items]), np.stack([s for _, _, s in items]))
    return out, src.fps, n


def segments(frames: np.ndarray) -> list[slice]:
    """Runs of consecutive frame indices (a track with gaps is fused per run, as the runtime restarts)."""
    cuts = np.nonzero(np.diff(frames) != 1)[0] + 1
    bounds = [0, *cuts.tolist(), len(frames)]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


def fuse_tracks(tracks: dict, fps: float, modes: list[str], models: dict, one_euro: dict | None = None) -> dict:
    """{mode: {track: fused landmarks (n, 68, 2)}} for raw tracks from ``raw_tracks``."""
    out: dict[str, dict] = {m: {} for m in modes}
    for tid, (frames, lm, sc) in tracks.items():
        for m in modes:
            fused = np.empty_like(lm)
            for seg in segments(frames):
                fused[seg] = apply_mode(m, lm[seg], sc[seg], fps, models, one_euro)
            out[m][tid] = fused
    return out


def measured_tracks(tracks: dict, min_len: int = 10, min_iod: float = 12.0) -> list:
    """Track ids the real-video jitter is measured on: at least ``min_len`` frames and a median inter-ocular
    distance of ``min_iod`` pixels (faces of ~35 px and more: smaller ones, and short-lived false detections,
    say little about temporal stability of faces)."""
    return [t for t, (fr, lm, _) in tracks.items() if len(fr) >= min_len and np.median(iod(lm)) >= min_iod]


def real_jitter(tracks: dict, fused: dict, min_len: int = 10, min_iod: float = 12.0) -> dict[str, float]:
    """{mode: accel RMS (in % of IOD)} pooled over the frames of the measured tracks (``measured_tracks``);
    IOD from the per-frame prediction (median over the track, robust to blinks and turns)."""
    res = {}
    keep = set(measured_tracks(tracks, min_len, min_iod))
    for mode, per in fused.items():
        num = den = 0.0
        for tid, (frames, lm, _) in tracks.items():
            if tid not in keep:
                continue
            norm = float(np.median(iod(lm)))
            for seg in segments(frames):
                if seg.stop - seg.start >= 3:
                    k = seg.stop - seg.start - 2
                    num += accel_rms(per[tid][seg], norm) ** 2 * k
                    den += k
        res[mode] = 100 * float(np.sqrt(num / den)) if den else float("nan")
    return res


def plot_track(tracks: dict, fused: dict, fps: float, path, title: str, point: int = 30, frames: int = 150) -> None:
    """PNG of one landmark (default the nose tip) of the longest track, x and y over time, one line per mode."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tid = max(measured_tracks(tracks) or tracks, key=lambda t: len(tracks[t][0]))
    fr = tracks[tid][0][:frames]
    t = fr / fps
    fig, axes = plt.subplots(2, 1, figsize=(9, 5.5), sharex=True)
    for ax, c in zip(axes, ("x", "y")):
        for mode, per in fused.items():
            ax.plot(t, per[tid][: len(fr), point, "xy".index(c)], label=mode, lw=1.0 if mode != "off" else 0.8,
                    alpha=0.9 if mode != "off" else 0.6)
        ax.set_ylabel(f"point {point} {c} (px)")
        ax.grid(alpha=0.3)
    axes[0].legend(ncol=4, fontsize=8)
    axes[0].set_title(title)
    axes[1].set_xlabel("time (s)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def tune_one_euro(data: dict, max_nme_ratio: float = 1.05, cutoffs=(0.1, 0.2, 0.3, 0.5, 1.0, 2.0),
                  betas=(0.1, 0.3, 1.0, 3.0, 10.0)) -> tuple[dict, list]:
    """The fairest One Euro baseline: the (min_cutoff, beta) with the least still-sequence jitter among those
    whose moving-sequence NME stays within ``max_nme_ratio`` of the per-frame model's (use training sequences).
    Returns (best parameters, all rows)."""
    fps = float(data["fps"])
    base = synthetic_metrics(data, {"off": data["pred"].astype(np.float64)})["off"]
    rows, best = [], None
    for c in cutoffs:
        for b in betas:
            p = {"min_cutoff": c, "beta": b}
            fused = np.stack([apply_mode("oneeuro", x.astype(np.float64), None, fps, one_euro=p) for x in data["pred"]])
            m = synthetic_metrics(data, {"oneeuro": fused})["oneeuro"]
            jr, nr = m["jitter"] / base["jitter"], m["nme"] / base["nme"]
            rows.append((c, b, jr, nr, m["lag"]))
            if nr <= max_nme_ratio and (best is None or jr < best[0]):
                best = (jr, p)
    return (best[1] if best else {}), rows
