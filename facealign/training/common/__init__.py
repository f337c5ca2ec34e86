"""What every trainer shares (torch): config loading, checkpoints, the learning-rate schedule, EMA, the run log,
the time budget and run folders.

    config.load_config(path, Cls)       YAML -> dataclass (nested sections, unknown keys are an error)
    checkpoint.save / load              one checkpoint layout (reads the older layouts of checkpoints/ too)
    schedule.WarmupCosine               linear warm-up, cosine decay to a floor, optional warm restart
    ema.EMA                             exponential moving average of the weights
    runlog.RunLog                       log.txt (text) + metrics.jsonl (one JSON object a record)
    run.RunOptions, run.TimeBudget      run folder, resume, restart and time budget from the command line
"""
