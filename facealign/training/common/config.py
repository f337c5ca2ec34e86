"""Training configs: a YAML file loaded into a dataclass, nested dataclasses as sections.

The loader itself lives in facealign.io.config (the data layer reads its config sections through it too, and
cannot import training); this module is the trainers' name for it.
"""
from __future__ import annotations

from facealign.io.config import ConfigError, from_dict, load_config, replace, to_dict

__all__ = ["ConfigError", "from_dict", "load_config", "replace", "to_dict"]
