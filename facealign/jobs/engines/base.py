"""The engine interface: how the inputs of a photo batch get processed (this machine's processes, Ray, ...)."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Iterator, Sequence

from facealign.io.inputs import InputItem
from facealign.jobs.batch_options import BatchOptions


class Engine(ABC):
    """Runs ``facealign.jobs.photo.ImageJob`` over inputs.

    ``records`` yields exactly one record per item, in the order of ``items`` (whatever order the work finishes
    in), so the caller can write results.jsonl line by line. Crops and overlays are written by the workers under
    ``opts.out``; the records are the small JSON objects of results.jsonl.
    """

    @abstractmethod
    def records(self, items: Sequence[InputItem], opts: BatchOptions, names: dict[str, str]) -> Iterator[dict[str, Any]]:
        """One record per input, in input order; ``names`` maps each input to its output file stem."""
