"""facealign against its peers on the same photos in one run: a Markdown table and a bar plot of frames/second.

    python benchmarks/speed_compare.py --out benchmarks/results/speed

Each method runs in its own process (benchmarks/peers/run_speed_*.py; peers inside their virtual environments made
by benchmarks/peers/setup_peers.sh under facealign.paths.peer_envs_dir: $FACEALIGN_PEER_ENVS, default peer-envs
under the cache folder), pinned to the given number of
cores, on the same JPEG photos (one face / many faces at 640x480 and 1280x720, made from samples/astronaut.jpg), with
decoding outside the timing. Each cell is the median over --runs runs after --warmup runs. Peers that are not
installed are listed as such. Writes OUT/speed.md, OUT/speed.json, OUT/speed.png and OUT/photos/.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from facealign import paths  # noqa: E402
from facealign.evaluation import speed  # noqa: E402

# (label, runner, environment, mode, extra args): what each row of the table is
METHODS = [
    ("facealign (default)", "facealign", None, "full", []),  # the photo's own resolution + pyramid
    ("facealign (det 320)", "facealign", None, "full", ["--det-size", "320"]),
    ("facealign (det 320, --no-tta)", "facealign", None, "full", ["--det-size", "320", "--no-tta"]),
    ("facealign (det 320, --no-tta, fast landmarks)", "facealign", None, "full",
     ["--det-size", "320", "--no-tta", "--landmarks-model", "stfan-lmk-112-fast"]),
    ("facealign (det 256, --no-tta, fast landmarks)", "facealign", None, "full",
     ["--det-size", "256", "--no-tta", "--landmarks-model", "stfan-lmk-112-fast"]),
    ("facealign detector only (default)", "facealign", None, "detect", []),
    ("mediapipe face mesh", "mediapipe", "mediapipe", "mesh", []),
    ("mediapipe face detection", "mediapipe", "mediapipe", "detect", []),
    ("dlib HOG + 68 points", "dlib", "dlib", "full", []),
    ("dlib HOG only", "dlib", "dlib", "detect", []),
    ("OpenCV Haar (detection only)", "opencv", "opencv", "detect", []),
]
WHAT = {
    "facealign": "SSD-lite detector + 68 landmarks (one batch) + 112 px align per face",
    "mediapipe": "FaceMesh, static images (BlazeFace short-range + 468-point mesh, models from the wheel) + 5-point warp per face",
    "dlib": "HOG detector (upsample 1) + 68-point shape predictor (face-recognition-models) + get_face_chips",
    "opencv": "haarcascade_frontalface_default, scaleFactor 1.1, minNeighbors 5, minSize 24",
}


def python_of(env: str | None, peers_dir: Path) -> Path | None:
    if env is None:
        return Path(sys.executable)
    p = peers_dir / env / "bin" / "python"
    return p if p.is_file() else None


def run_method(py: Path, runner: str, photos: Path, threads: int, runs: int, warmup: int, mode: str,
               extra: list[str], timeout: float, max_seconds: float) -> dict:
    cmd = [str(py), str(HERE / "peers" / f"run_speed_{runner}.py"), "--photos", str(photos), "--threads",
           str(threads), "--runs", str(runs), "--warmup", str(warmup), "--mode", mode,
           "--max-seconds", str(max_seconds), *extra]
    env = {**os.environ, "PYTHONPATH": str(REPO), "GLOG_minloglevel": "2", "TF_CPP_MIN_LOG_LEVEL": "2"}
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=str(REPO))
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        tail = (p.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit {p.returncode}: {tail}"}
    return json.loads(lines[-1])


def markdown(results: list[dict], photo_names: list[str], env: dict, runs: int) -> str:
    head = ["method", "version", "threads"] + [n.removesuffix(".jpg").replace("_", " ") for n in photo_names]
    out = [
        f"Speed on this machine ({env['cores']} cores, {env['cpu']}; load average {env['load_avg_1min']} at the start;"
        f" {env['date_utc']} UTC). Each cell: median ms per photo over {runs} runs after a warm-up (at least 5 for"
        " methods that need over 10 s per photo), frames/s, and [faces found]. Decoding is not timed; each method is pinned to `threads` cores.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for r in results:
        cells = [r["label"], r.get("version", "-"), str(r["threads"])]
        for n in photo_names:
            if "error" in r:
                cells.append(r["error"] if n == photo_names[0] else "")
                continue
            c = r["results"][n]
            cells.append(f"{c['median_ms']:.1f} ms, {1000 / c['median_ms']:.0f} fps [{c['faces']}]")
        out.append("| " + " | ".join(cells) + " |")
    out += ["", "What each method does per photo:"] + [f"- {k}: {v}" for k, v in WHAT.items()]
    ratio = ratios(results, photo_names[0] if photo_names else "")
    if ratio:
        out += ["", "facealign frames/s divided by mediapipe face mesh frames/s on " + photo_names[0].removesuffix(".jpg")
                + ": " + ", ".join(f"{k}: {v:.2f}x" for k, v in ratio.items())]
    return "\n".join(out) + "\n"


def ratios(results: list[dict], photo: str) -> dict[str, float]:
    """facealign fps / mediapipe face mesh fps per facealign row and thread count on ``photo``."""
    mesh = {r["threads"]: r["results"][photo]["median_ms"] for r in results
            if r["label"] == "mediapipe face mesh" and "results" in r and photo in r["results"]}
    out = {}
    for r in results:
        if r["label"].startswith("facealign (") and "results" in r and r["threads"] in mesh:
            out[f"{r['label']}, {r['threads']} thread(s)"] = mesh[r["threads"]] / r["results"][photo]["median_ms"]
    return out


def plot(results: list[dict], photo_names: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    threads = sorted({r["threads"] for r in results})
    ok = [r for r in results if "results" in r]
    labels = list(dict.fromkeys(r["label"] for r in ok))
    fig, axes = plt.subplots(1, len(threads), figsize=(7 * len(threads), 5.4), squeeze=False, sharey=True)
    width = 0.8 / max(1, len(labels))
    x = np.arange(len(photo_names))
    for ax, t in zip(axes[0], threads):
        for i, lab in enumerate(labels):
            r = next((r for r in ok if r["label"] == lab and r["threads"] == t), None)
            if r is None:
                continue
            fps = [1000 / r["results"][n]["median_ms"] for n in photo_names]
            ax.bar(x + (i - (len(labels) - 1) / 2) * width, fps, width, label=lab)
        ax.set_xticks(x, [n.removesuffix(".jpg").replace("_", "\n") for n in photo_names])
        ax.set_yscale("log")
        ax.set_title(f"{t} thread(s)")
        ax.grid(axis="y", alpha=0.3, which="both")
    axes[0][0].set_ylabel("frames / second (log scale, higher is better)")
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, fontsize=8, loc="lower center", ncol=4, frameon=False)
    fig.suptitle("Face pipelines on the same photos, CPU")
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output folder for speed.md, speed.json, speed.png")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--peers-dir", default=str(paths.peer_envs_dir()), help="the peers' virtual environments")
    ap.add_argument("--methods", nargs="+", help="only rows whose label starts with one of these words (e.g. facealign dlib)")
    ap.add_argument("--detector-model", help="time this detector ONNX instead of the shipped one")
    ap.add_argument("--landmarks-model", help="time this landmark network (registered name or ONNX) in every facealign row")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per method and thread count")
    ap.add_argument("--max-seconds", type=float, default=10.0,
                    help="per photo and method: stop after this long (at least 5 runs; slow peers)")
    args = ap.parse_args(argv)

    out = Path(args.out)
    photos = out / "photos"
    photos.mkdir(parents=True, exist_ok=True)
    for p in speed.standard_photos():
        (photos / f"{p.name}_{p.width}x{p.height}.jpg").write_bytes(p.jpeg)
    names = sorted(f.name for f in photos.glob("*.jpg"))
    names = sorted(names, key=lambda n: (not n.startswith("one"), int(n.rsplit("x", 1)[1].split(".")[0])))
    env = speed.environment()
    own = []
    if args.detector_model:
        own += ["--detector-model", args.detector_model]
    if args.landmarks_model:
        own += ["--landmarks-model", args.landmarks_model]
    results = []
    for t in args.threads:
        for label, runner, venv, mode, extra in METHODS:
            if args.methods and not any(label.lower().startswith(m.lower()) for m in args.methods):
                continue
            py = python_of(venv, Path(args.peers_dir))
            if py is None:
                results.append({"label": label, "threads": t, "error": f"not installed ({args.peers_dir}/{venv})"})
                continue
            t0 = time.perf_counter()
            r = run_method(py, runner, photos, t, args.runs, args.warmup, mode,
                           extra + (own if runner == "facealign" else []), args.timeout, args.max_seconds)
            r.update(label=label, threads=t)
            results.append(r)
            sys.stderr.write(f"{label}, {t} thread(s): {r.get('error', 'ok')} ({time.perf_counter() - t0:.0f} s)\n")
    md = markdown(results, names, env, args.runs)
    (out / "speed.md").write_text(md)
    (out / "speed.json").write_text(json.dumps({"environment": env, "runs": args.runs, "warmup": args.warmup,
                                                "photos": names, "results": results}, indent=1))
    plot(results, names, out / "speed.png")
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
