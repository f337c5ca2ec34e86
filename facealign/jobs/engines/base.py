"""The engine interface: how the inputs of a photo batch get processed (this machine's processes, Ray, ...)."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable, Iterator, Sequence

from facealign.io.inputs import InputItem
from facealign.jobs.batch_options import BatchOptions


# a batch's per-input job: built once per worker as job(opts, names), then called with each InputItem for its
# record (facealign.jobs.photo.ImageJob for `align`, facealign.jobs.body.BodyJob for `body`); a module-level class,
# so worker processes and Ray actors can build their own
JobFactory = Callable[[Any, dict[str, str]], Callable[[InputItem], dict[str, Any]]]


class Engine(ABC):
    """Runs a batch's job (default ``facealign.jobs.photo.ImageJob``) over inputs.

    ``records`` yields exactly one record per item, in the order of ``items`` (whatever order the work finishes
    in), so the caller can write results.jsonl line by line. Crops and overlays are written by the workers under
    ``opts.out``; the records are the small JSON objects of results.jsonl.
    """

    @abstractmethod
    def records(self, items: Sequence[InputItem], opts: BatchOptions, names: dict[str, str],
                job: JobFactory | None = None) -> Iterator[dict[str, Any]]:
        """One record per input, in input order; ``names`` maps each input to its output file stem; ``job``: the
        per-input job (None: ImageJob, the photo batch's)."""
