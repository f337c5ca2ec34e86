"""Jobs: the photo batch, the video job and merge as API functions over options that check themselves up front.

    from facealign.jobs.batch import run_batch            # align / pose over many photos
    from facealign.jobs.batch_options import BatchOptions
    from facealign.jobs.video import VideoOptions, run_video
    from facealign.jobs.merge import MergeOptions, run_merge

Each ``run_*`` raises ``OptionsError`` (a ValueError) for bad options before reading any input; errors of single
inputs go into the job's records and summary instead.
"""
from facealign.jobs.options import OptionsError

__all__ = ["OptionsError"]
