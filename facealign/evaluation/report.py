"""Plain-text tables of landmark metrics (what `facealign eval landmarks` and the benchmarks print)."""
from __future__ import annotations

import math

from facealign.evaluation.metrics import MTFL_POSE_NAMES

COLUMNS = ("data set", "method", "boxes", "N", "miss", "NME io", "NME ip", "NME box", "AUC@0.08", "AUC@0.10", "FR@0.08", "FR@0.10")


def _pct(v: float | None) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.2f}%"


def _num(v: float | None) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.3f}"


def metrics_row(dataset: str, method: str, boxes: str, m: dict) -> list[str]:
    """One table row from dataset_metrics() output."""
    miss = f"{m['misses']} ({100 * m['miss_rate']:.1f}%)" if m.get("misses") else "0"
    return [
        dataset, method, boxes, str(m["n"]), miss,
        _pct(m["nme"]["io"]), _pct(m["nme"]["ip"]), _pct(m["nme"]["box"]),
        _num(m["auc@0.08"]), _num(m["auc@0.10"]), _pct(m["fr@0.08"]), _pct(m["fr@0.10"]),
    ]


def format_table(rows: list[list[str]], columns: tuple[str, ...] = COLUMNS, left: int = 3) -> str:
    """Columns padded to their widest cell (the first ``left`` left-aligned, numbers right), a rule under the header."""
    widths = [max(len(str(c)), *(len(str(r[i])) for r in rows)) if rows else len(c) for i, c in enumerate(columns)]
    line = lambda cells: "  ".join(str(c).ljust(w) if i < left else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([line(columns), "  ".join("-" * w for w in widths)] + [line(r) for r in rows])


def pose_table(per_pose: dict[str, dict], label: str = "") -> str:
    """Per-pose-bin table (MTFL pose 1..5 named; other bins shown by value)."""
    cols = ("pose bin", "N", "miss", "NME io", "AUC@0.08", "AUC@0.10", "FR@0.08", "FR@0.10")
    rows = []
    for b, s in per_pose.items():
        name = MTFL_POSE_NAMES.get(int(b), b) if str(b).isdigit() else b
        rows.append([f"{b} {name}" if name != b else str(b), str(s["n"]), str(s["misses"]), _pct(s["nme"]),
                     _num(s["auc@0.08"]), _num(s["auc@0.10"]), _pct(s["fr@0.08"]), _pct(s["fr@0.10"])])
    head = f"{label}\n" if label else ""
    return head + format_table(rows, cols, left=1)
