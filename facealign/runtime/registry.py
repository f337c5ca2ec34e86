"""The registry of shipped models: plain data read from facealign/models/models.json, the one source of truth.

Each entry names a model's file, kind, input size, crop rule / options and version. The table in
facealign/models/README.md (between the ``BEGIN``/``END`` markers) is generated from the same file by
``write_readme``, and ``save_spec`` adds or updates an entry and regenerates that table (the write side used by
``facealign models promote``). This module holds specs only; ``facealign.stages.build_model`` turns a spec into a
ready runtime object. The default model of a kind is the first entry of that kind whose file is present.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
REGISTRY_FILE = "models.json"
README_FILE = "README.md"
KINDS = ("detector", "landmarks", "temporal", "body")
README_BEGIN = "<!-- BEGIN models table: generated from models.json by facealign.runtime.registry.write_readme -->"
README_END = "<!-- END models table -->"


@dataclass(frozen=True)
class ModelSpec:
    """What the runtime needs to know about one shipped model (one entry of models.json)."""

    name: str
    kind: str  # one of KINDS
    file: str  # relative to the models folder
    # landmarks / body: crop side; detector: nominal only (its graph takes any size, the runtime searches the photo
    # at its own resolution unless det_size caps it); temporal: window length
    input_size: int
    version: str
    description: str
    options: dict = field(default_factory=dict)  # e.g. crop_scale (landmarks), score_threshold (detector)
    made_by: str = ""  # the command that trains (or builds) it, for the README table
    licence: str = "MIT (this project)"
    models_dir: Path = field(default=MODELS_DIR, compare=False, repr=False)  # not stored in the JSON

    @property
    def path(self) -> Path:
        return self.models_dir / self.file

    @property
    def available(self) -> bool:
        return self.path.is_file()

    def to_json(self) -> dict:
        """The models.json entry of this spec."""
        d = asdict(self)
        d.pop("models_dir")
        return d


_FIELDS = {f.name for f in fields(ModelSpec)} - {"models_dir"}
_cache: dict[Path, dict[str, ModelSpec]] = {}


def _check(spec: ModelSpec) -> None:
    if spec.kind not in KINDS:
        raise ValueError(f"model {spec.name!r}: kind {spec.kind!r} is not one of {', '.join(KINDS)}")
    if not spec.name or not spec.file or Path(spec.file).name != spec.file:
        raise ValueError(f"model {spec.name!r}: needs a name and a plain file name in the models folder")


def load_specs(models_dir: Path = MODELS_DIR) -> dict[str, ModelSpec]:
    """All entries of ``models_dir``/models.json by name, in file order (read once, then cached)."""
    models_dir = Path(models_dir)
    if models_dir not in _cache:
        path = models_dir / REGISTRY_FILE
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ValueError(f"{path}: cannot read the model registry ({e})") from None
        specs: dict[str, ModelSpec] = {}
        for entry in doc.get("models", []):
            unknown = set(entry) - _FIELDS
            if unknown:
                raise ValueError(f"{path}: model {entry.get('name')!r} has unknown fields {sorted(unknown)}")
            spec = ModelSpec(**entry, models_dir=models_dir)
            _check(spec)
            if spec.name in specs:
                raise ValueError(f"{path}: model {spec.name!r} registered twice")
            specs[spec.name] = spec
        _cache[models_dir] = specs
    return _cache[models_dir]


def get(name: str) -> ModelSpec:
    """The spec of a registered model; KeyError listing the registered names otherwise."""
    specs = load_specs()
    try:
        return specs[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; registered: {', '.join(sorted(specs))}") from None


def list_models(kind: str | None = None) -> list[ModelSpec]:
    """Registered models (of one kind, or all), in registry order."""
    return [s for s in load_specs().values() if kind is None or s.kind == kind]


def default(kind: str) -> ModelSpec:
    """The default model of a kind: the first registered one whose file is present."""
    for s in list_models(kind):
        if s.available:
            return s
    raise FileNotFoundError(f"no shipped {kind} model found in {MODELS_DIR}")


def resolve(model: str | Path | None, kind: str) -> tuple[ModelSpec, Path]:
    """(spec, file) for a registered model name, None (the default of the kind), or an ONNX file of that kind.

    A file is described by the default spec of the kind (input size, crop rule), e.g. a training export being
    evaluated before it ships. Errors: ValueError (unknown name, wrong kind), FileNotFoundError (missing file).
    """
    if model is None:
        spec = default(kind)
        return spec, spec.path
    text = str(model)
    spec = load_specs().get(text)
    if spec is not None:
        if spec.kind != kind:
            raise ValueError(f"model {text!r} is a {spec.kind} model, not a {kind} model")
        return spec, spec.path
    path = Path(text)
    if path.suffix == ".onnx" or path.exists():
        if not path.is_file():
            raise FileNotFoundError(f"model file not found: {path}")
        return default(kind), path
    names = ", ".join(s.name for s in list_models(kind))
    raise ValueError(f"unknown {kind} model {text!r}: give a registered name ({names}) or an .onnx file")


# -- the write side (used by `facealign models promote`) ---------------------------------------------------------
def save_spec(spec: ModelSpec, *, replace: bool = True, models_dir: Path | None = None) -> ModelSpec:
    """Add ``spec`` to models.json (or update the entry of the same name) and regenerate the README table.

    The model file itself must already be in the models folder (copying it there is the caller's step).
    ``replace=False`` refuses to overwrite an existing entry (ValueError). ``models_dir`` defaults to
    ``spec.models_dir`` (the package's models folder). Returns the stored spec. The JSON is written atomically.
    """
    models_dir = Path(models_dir or spec.models_dir)
    spec = ModelSpec(**spec.to_json(), models_dir=models_dir)
    _check(spec)
    if not spec.available:
        raise FileNotFoundError(f"model file not found: {spec.path} (copy it into {models_dir} first)")
    specs = dict(load_specs(models_dir))
    if spec.name in specs and not replace:
        raise ValueError(f"model {spec.name!r} is registered already")
    specs[spec.name] = spec  # an update keeps its place (so the default of a kind stays the default)
    doc = {"models": [s.to_json() for s in specs.values()]}
    _write_text(models_dir / REGISTRY_FILE, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    _cache.pop(models_dir, None)
    write_readme(models_dir)
    return spec


def readme_table(specs: list[ModelSpec]) -> str:
    """The Markdown table of the models README: file, registry name, what, made by, licence."""
    lines = ["| file | registry name | kind | version | what | made by | licence |", "|---|---|---|---|---|---|---|"]
    for s in specs:
        lines.append(f"| `{s.file}` | `{s.name}` | {s.kind} | {s.version} | {s.description} | {s.made_by} | {s.licence} |")
    return "\n".join(lines)


def write_readme(models_dir: Path = MODELS_DIR) -> Path:
    """Regenerate the table between the markers of ``models_dir``/README.md from models.json (markers added at the
    end when missing). Returns the README path."""
    models_dir = Path(models_dir)
    path = models_dir / README_FILE
    text = path.read_text(encoding="utf-8") if path.is_file() else "# Shipped models\n"
    block = f"{README_BEGIN}\n{readme_table(list(load_specs(models_dir).values()))}\n{README_END}"
    start, end = text.find(README_BEGIN), text.find(README_END)
    if start >= 0 and end > start:
        text = text[:start] + block + text[end + len(README_END):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    _write_text(path, text)
    return path


def _write_text(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a reader never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
