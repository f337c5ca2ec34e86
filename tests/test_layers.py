"""The house keeps its shape: every import inside the package points down the layers, never sideways where a rule
forbids it, and no modules import each other in a circle.

Layers, top to bottom (docs/design.md):

    cli
    jobs  evaluation  training
    pipeline  body_pipeline  stages  (and the package's public API, facealign/__init__.py)
    detection  landmarks  temporal  face3d  body  merge          (the stages)
    runtime  alignment  io  data
    types  paths  samples

Sibling rules: evaluation never imports training or jobs; jobs never imports training; a stage package never
imports another stage package (except the documented exceptions in STAGE_EXCEPTIONS); data never imports
runtime (it is numpy / OpenCV only). torch is imported only by training. Every import counts, also one inside a
function (a lazy import is still a dependency).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "facealign"

LAYERS: dict[str, int] = {
    "cli": 5,
    "jobs": 4, "evaluation": 4, "training": 4,
    "pipeline": 3, "body_pipeline": 3, "stages": 3,  # FaceAligner; BodyAligner beside it; build_model
    "": 3,  # facealign/__init__.py, the public API over the pipeline
    "detection": 2, "landmarks": 2, "temporal": 2, "face3d": 2, "body": 2, "merge": 2,
    "runtime": 1, "alignment": 1, "io": 1, "data": 1,
    "types": 0, "paths": 0, "samples": 0,
}
STAGES = {name for name, layer in LAYERS.items() if layer == 2}

# (importing part, imported part) -> why it is allowed although both sit on the same layer
SIBLING_RULES: dict[tuple[str, str], str] = {
    ("evaluation", "training"): "evaluation measures, it never trains",
    ("evaluation", "jobs"): "evaluation calls the stages and the pipeline, not the batch jobs",
    ("jobs", "training"): "jobs run shipped models only",
    ("data", "runtime"): "data is numpy / OpenCV only: no onnxruntime sessions",
}
# stage -> stage imports that are allowed, each with its reason. merge comes after face3d in the data flow
# (docs/design.md: the unified face is built on the fitted 3D shape); no other stage may lean on a sibling.
STAGE_EXCEPTIONS: dict[tuple[str, str], str] = {
    ("merge", "face3d"): "the unified face is built on the 3D fit's shape and camera",
}
TORCH_ONLY_IN = {"training"}


@dataclass(frozen=True)
class Import:
    """One import of a package module, as written in ``source`` (a module name) at ``line``."""

    source: str
    target: str
    line: int
    lazy: bool


def module_name(path: Path, root: Path) -> str:
    """Dotted module name of a file under the package folder ``root`` (its __init__ names the package)."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _resolve(name: str, modules: set[str]) -> str:
    """The module a dotted import name means: itself if it is a module, else the longest module prefix."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name


def collect_imports(root: Path) -> tuple[set[str], list[Import], list[Import]]:
    """(modules, imports between them, imports of torch) of the package in folder ``root``."""
    package = root.name
    files = sorted(root.rglob("*.py"))
    modules = {module_name(f, root) for f in files}
    found: list[Import] = []
    torch: list[Import] = []
    for f in files:
        src = module_name(f, root)
        is_pkg = f.name == "__init__.py"
        tree = ast.parse(f.read_text(encoding="utf-8"), str(f))
        lazy_nodes = {
            id(n) for fn in ast.walk(tree) if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
            for n in ast.walk(fn) if isinstance(n, (ast.Import, ast.ImportFrom))
        }
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from the module's own package upwards
                    pkg = src.split(".") if is_pkg else src.split(".")[:-1]
                    pkg = pkg[: len(pkg) - (node.level - 1)]
                    base = ".".join(pkg + ([base] if base else []))
                # `from pkg import sub` imports the submodule pkg.sub when there is one
                names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            else:
                continue
            lazy = id(node) in lazy_nodes
            for name in names:
                if name == "torch" or name.startswith("torch."):
                    torch.append(Import(src, "torch", node.lineno, lazy))
                elif name == package or name.startswith(package + "."):
                    target = _resolve(name, modules)
                    if target and target != src:
                        found.append(Import(src, target, node.lineno, lazy))
    return modules, found, torch


def part(module: str) -> str:
    """The layer map key of a module: its first name below the package ("" for the package itself)."""
    return module.split(".")[1] if "." in module else ""


def cycles(modules: set[str], imports: list[Import]) -> list[list[str]]:
    """Groups of modules that import each other in a circle (strongly connected components of size > 1)."""
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for i in imports:
        graph[i.source].add(i.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:  # Tarjan, iterative over each node's edges
        work = [(v, iter(sorted(graph[v])))]
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        while work:
            node, edges = work[-1]
            for w in edges:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on_stack:
                    low[node] = min(low[node], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        group.append(w)
                        if w == node:
                            break
                    if len(group) > 1:
                        out.append(sorted(group))

    for m in sorted(graph):
        if m not in index:
            visit(m)
    return out


def check(root: Path = PACKAGE_DIR) -> list[str]:
    """Every broken layer rule and import cycle of the package in ``root``, one line each."""
    modules, imports, torch = collect_imports(root)
    problems = []
    for m in sorted(modules):
        if part(m) not in LAYERS:
            problems.append(f"{m}: not on the layer map (add '{part(m)}' to LAYERS in tests/test_layers.py)")
    for i in imports:
        a, b = part(i.source), part(i.target)
        if a not in LAYERS or b not in LAYERS or a == b:
            continue
        where = f"{i.source} line {i.line}{' (inside a function)' if i.lazy else ''}: imports {i.target}"
        if LAYERS[b] > LAYERS[a]:
            problems.append(f"{where}: points up ({a} is below {b})")
        elif (a, b) in SIBLING_RULES:
            problems.append(f"{where}: {SIBLING_RULES[(a, b)]}")
        elif a in STAGES and b in STAGES and (a, b) not in STAGE_EXCEPTIONS:
            problems.append(f"{where}: a stage imports another stage (not in STAGE_EXCEPTIONS)")
    for i in torch:
        if part(i.source) not in TORCH_ONLY_IN:
            problems.append(f"{i.source} line {i.line}: imports torch (only training may)")
    for group in cycles(modules, imports):
        problems.append(f"import cycle: {' <-> '.join(group)}")
    return problems


def test_the_package_keeps_its_layers():
    problems = check()
    assert not problems, "layer rules broken:\n" + "\n".join(problems)


def _write(root: Path, files: dict[str, str]) -> Path:
    pkg = root / "facealign"
    for rel, text in files.items():
        f = pkg / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text, encoding="utf-8")
    return pkg


def test_an_evaluation_to_training_import_is_reported(tmp_path):
    pkg = _write(tmp_path, {
        "__init__.py": "",
        "types.py": "",
        "evaluation/__init__.py": "",
        "evaluation/report.py": "def f():\n    from facealign.training.net import Net\n    return Net\n",
        "training/__init__.py": "",
        "training/net.py": "from facealign.evaluation import report\nimport torch\nclass Net: ...\n",
    })
    problems = check(pkg)
    assert any("facealign.evaluation.report line 2 (inside a function): imports facealign.training.net" in p
               and "never trains" in p for p in problems), problems
    assert any(p.startswith("import cycle: facealign.evaluation.report <-> facealign.training.net") for p in problems)
    assert not any("torch" in p for p in problems)  # training may use torch


def test_upward_stage_and_unmapped_imports_are_reported(tmp_path):
    pkg = _write(tmp_path, {
        "__init__.py": "",
        "alignment/__init__.py": "",
        "alignment/crop.py": "from ..pipeline import FaceAligner\n",
        "pipeline.py": "",
        "detection/__init__.py": "",
        "detection/nms.py": "from facealign.landmarks import base\n",
        "landmarks/__init__.py": "",
        "landmarks/base.py": "",
        "data/__init__.py": "",
        "data/scenes.py": "import torch.nn\n",
        "gadgets/__init__.py": "",
    })
    problems = "\n".join(check(pkg))
    assert "facealign.alignment.crop line 1: imports facealign.pipeline: points up" in problems
    assert "facealign.detection.nms line 1: imports facealign.landmarks.base: a stage imports another stage" in problems
    assert "facealign.data.scenes line 1: imports torch" in problems
    assert "facealign.gadgets: not on the layer map" in problems


def test_the_synthetic_house_in_order_passes(tmp_path):
    pkg = _write(tmp_path, {
        "__init__.py": "from facealign.pipeline import FaceAligner\n",
        "pipeline.py": "from facealign.detection import nms\nclass FaceAligner: ...\n",
        "detection/__init__.py": "",
        "detection/nms.py": "from facealign.alignment.boxes import iou\n",
        "alignment/__init__.py": "",
        "alignment/boxes.py": "from facealign import types\ndef iou(): ...\n",
        "types.py": "",
        "training/__init__.py": "",
        "training/train.py": "import torch\nfrom facealign.evaluation.metrics import nme\n",
        "evaluation/__init__.py": "",
        "evaluation/metrics.py": "def nme(): ...\n",
    })
    assert check(pkg) == []
