#!/usr/bin/env bash
# All speed numbers of docs/speed.md in one go, on an otherwise idle machine (~15 minutes on 2 cores).
# Usage: benchmarks/run_final_speed.sh [OUT]   (default benchmarks/results); PYTHON defaults to the python on PATH
# (the development environment's). Folders come from facealign.paths: the quantised models under the cache folder,
# the portraits under the data root (PHOTOS overrides), scratch outputs under $TMPDIR (default /tmp).
# Writes OUT/bench*.{txt,json}, OUT/speed/{speed.md,speed.json,speed.png}, OUT/quantize.md, OUT/scale.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-benchmarks/results}"
py="${PYTHON:-python}"
quant="$("$py" -c 'from facealign.paths import cache_dir; print(cache_dir("speed", "quant"))')"
tmp="${TMPDIR:-/tmp}"
mkdir -p "$out"
echo "load before: $(cat /proc/loadavg)" | tee "$out/load.txt"
# 1) per-stage latency and pipeline fps (default and a 320 px detector working size)
"$py" -m facealign.cli.main bench -q --json "$out/bench.json" | tee "$out/bench.txt"
"$py" -m facealign.cli.main bench -q --det-size 320 --no-3d --batches --json "$out/bench_det320.json" | tee "$out/bench_det320.txt"
"$py" -m facealign.cli.main bench -q --det-size 320 --no-3d --no-tta --batches --json "$out/bench_det320_notta.json" | tee "$out/bench_det320_notta.txt"
"$py" -m facealign.cli.main bench -q --det-size 320 --no-3d --no-tta --landmarks-model stfan-lmk-112-fast --json "$out/bench_fast.json" | tee "$out/bench_fast.txt"
# 2) against the peers (needs benchmarks/peers/setup_peers.sh dlib mediapipe opencv)
"$py" benchmarks/speed_compare.py --out "$out/speed" | tail -n 3
# 3) int8 quantisation: speed and NME change (quantised files stay in $quant); SKIP_QUANT=1 skips
if [ -z "${SKIP_QUANT:-}" ]; then
  "$py" scripts/quantize_models.py --out "$quant" --detector | tail -n 12
  cp "$quant/quantize.md" "$out/quantize.md"
fi
# 4) batch throughput, --jobs 1 / 2 and Ray, on the 60 portraits (identical results checked)
photos="${PHOTOS:-$("$py" -c 'from facealign.paths import data_root; print(data_root() / "wild" / "portraits")')}"
{
  for j in 1 2; do
    rm -rf "$tmp/fa_scale_j$j"
    "$py" -m facealign.cli.main align "$photos" --out "$tmp/fa_scale_j$j" --jobs "$j" 2>&1 | tail -n 1
  done
  if "$py" -c "import ray" 2>/dev/null; then
    rm -rf "$tmp/fa_scale_ray"
    "$py" -m facealign.cli.main align "$photos" --out "$tmp/fa_scale_ray" --engine ray --jobs 2 2>&1 | tail -n 1
    cmp -s "$tmp/fa_scale_j1/results.jsonl" "$tmp/fa_scale_ray"/results.jsonl && echo "ray == jobs 1: identical results.jsonl"
  fi
  cmp -s "$tmp/fa_scale_j1/results.jsonl" "$tmp/fa_scale_j2/results.jsonl" && echo "jobs 2 == jobs 1: identical results.jsonl"
} | tee "$out/scale.txt"
echo "load after: $(cat /proc/loadavg)" | tee -a "$out/load.txt"
