"""Config files: a YAML file loaded into a dataclass, nested dataclasses as sections.

The one config loader: the trainers (facealign.training.common.config re-exports it) and the data layer
(data/sequences.load_sequence_setup) read their YAML files through it. Relative paths in a config are not touched
here: a data path is resolved by ``facealign.paths.data_path`` (under the data root) where it is used, everything
else is taken relative to the working folder. Unknown keys are an error that names the file and the section, so a
typo never silently falls back to a default. PyYAML is imported only when a file is read (it comes with the
``train`` and ``test`` extras, not with a plain install).
"""
from __future__ import annotations

import dataclasses
import typing
from dataclasses import asdict, fields, is_dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


class ConfigError(ValueError):
    """A config file that cannot be read into its dataclass."""


def from_dict(cls: type[T], values: dict | None, where: str = "config") -> T:
    """``cls`` filled from plain data: nested dataclass fields take dicts, tuple fields take lists; missing keys
    keep their defaults; an unknown key raises ConfigError naming ``where`` and the section."""
    values = dict(values or {})
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(known)})")
    hints = typing.get_type_hints(cls)
    kw = {}
    for name, value in values.items():
        kind = hints.get(name)
        if isinstance(kind, type) and is_dataclass(kind):
            if value is not None and not isinstance(value, dict):
                raise ConfigError(f"{where}: section {name!r} must be a mapping, not {type(value).__name__}")
            kw[name] = from_dict(kind, value, f"{where}.{name}")
        elif typing.get_origin(kind) is tuple and isinstance(value, list):
            kw[name] = tuple(value)
        else:
            kw[name] = value
    return cls(**kw)


def read_yaml(path: str | Path) -> dict:
    """The mapping in a YAML file ({} for an empty file); a missing or malformed file raises ConfigError."""
    import yaml

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({e})") from None
    if raw is not None and not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of keys to values")
    return raw or {}


def load_config(path: str | Path, cls: type[T], sections: tuple[str, ...] | None = None) -> T:
    """Read a YAML file into ``cls`` (see from_dict); a missing or malformed file raises ConfigError.
    ``sections``: read only these top-level keys and ignore the rest (a part of a larger config)."""
    raw = read_yaml(path)
    if sections is not None:
        raw = {k: v for k, v in raw.items() if k in sections}
    return from_dict(cls, raw, str(path))


def to_dict(cfg: Any) -> dict:
    """Plain data of a config dataclass (what checkpoints and the run log store)."""
    return asdict(cfg)


def replace(cfg: T, **changes: Any) -> T:
    """A copy of ``cfg`` with some top-level fields changed."""
    return dataclasses.replace(cfg, **changes)
