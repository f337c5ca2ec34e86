"""Time and peak memory of face detection on big photos: facealign's default against YuNet at full resolution.

    python benchmarks/detector_bigphoto.py [--megapixels 12] [--photos crowd_26.jpg,group_t1.jpg] [--runs 3]

Each photo of the wild reference set is enlarged (bicubic) to about --megapixels MP. Each method runs in a fresh
process per photo (so its peak memory, ru_maxrss, is its own): facealign's detector with the default resolution
policy, facealign's `align` stage order (detector + landmarks + check), and YuNet (OpenCV FaceDetectorYN at the
photo's own resolution, in the opencv peer environment when there is one). Methods alternate photo by photo, so a
busy machine slows them alike; each cell is the median of --runs calls after one warm-up call, decoding and
enlarging excluded. Prints a markdown table and writes bigphoto.json to --out.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def child(method: str, photo: str, scale: float, runs: int, threads: int | None, model: str | None) -> dict:
    import cv2

    img = cv2.imread(photo)
    h, w = img.shape[:2]
    if scale != 1.0:
        img = cv2.resize(img, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_CUBIC)
    if method == "yunet":
        det = cv2.FaceDetectorYN.create(model, "", (img.shape[1], img.shape[0]), 0.6, 0.3, 5000)

        def call():
            return _yunet(det, img)
    else:
        from facealign.pipeline import FaceAligner
        from facealign.runtime.session import enable_shared_pool

        enable_shared_pool(threads)
        fa = FaceAligner(threads=threads)

        def call():
            return len(fa.detector.detect(img) if method == "facealign-detector" else fa.detect(img))
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    n = call()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return {"method": method, "photo": Path(photo).name, "width": img.shape[1], "height": img.shape[0],
            "faces": n, "seconds": statistics.median(times), "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "peak_mb_before_first_call": rss0 / 1024}


def _yunet(det, img) -> int:
    _, rows = det.detect(img)
    return 0 if rows is None else len(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--megapixels", type=float, default=12.0)
    ap.add_argument("--photos", default="crowd_26.jpg,crowd_1.jpg,group_t1.jpg,couple.jpg")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--methods", default="facealign-detector,facealign-align,yunet")
    ap.add_argument("--peer-envs", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=Path("detector_bigphoto"))
    ap.add_argument("--child", nargs=3, metavar=("METHOD", "PHOTO", "SCALE"), help=argparse.SUPPRESS)
    ap.add_argument("--model", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        m, photo, scale = args.child
        print(json.dumps(child(m, photo, float(scale), args.runs, args.threads, args.model)))
        return

    import cv2

    from facealign import paths
    from facealign.evaluation.detector_wild import enlarge_factor
    from facealign.evaluation.detector_wild_peers import YUNET_FILE, peer_python

    envs = args.peer_envs or paths.peer_envs_dir()
    rows = []
    for name in args.photos.split(","):
        path = paths.data_root() / "wild" / name
        im = cv2.imread(str(path))
        if im is None:
            raise SystemExit(f"{path}: cannot read the photo")
        scale = enlarge_factor(im.shape[1], im.shape[0], args.megapixels)
        for m in args.methods.split(","):
            py = str(peer_python("yunet", envs)) if m == "yunet" else sys.executable
            cmd = [py, str(Path(__file__).resolve()), "--child", m, str(path), str(scale), "--runs", str(args.runs)]
            if args.threads:
                cmd += ["--threads", str(args.threads)]
            if m == "yunet":
                cmd += ["--model", str(paths.peers_dir() / YUNET_FILE)]
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
            if proc.returncode != 0:
                raise SystemExit(f"{m} on {name} failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}")
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            rows.append(r)
            print(f"{m:20s} {name:24s} {r['width']}x{r['height']} {r['seconds']:.3f} s  {r['peak_mb']:.0f} MB  "
                  f"{r['faces']} faces", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bigphoto.json").write_text(json.dumps(rows, indent=1))
    print("\n| method | photo | size | faces | seconds | ms / MP | peak MB |\n|---|---|---|---|---|---|---|")
    for r in rows:
        mp = r["width"] * r["height"] / 1e6
        print(f"| {r['method']} | {r['photo']} | {r['width']}x{r['height']} | {r['faces']} | {r['seconds']:.3f} | "
              f"{1000 * r['seconds'] / mp:.0f} | {r['peak_mb']:.0f} |")


if __name__ == "__main__":
    main()
