"""`facealign train landmarks|detector|temporal|body --config FILE [--run-dir DIR] [--resume [--restart]]
[--time-budget MINUTES]`: parse -> options -> train -> print. Needs the `train` extra (torch)."""
from __future__ import annotations

import argparse
import importlib
import sys

# sub-command -> (module with load_config and train, help)
TRAINERS = {
    "landmarks": ("facealign.training.landmarks", "train the 68-point landmark network and export it to ONNX"),
    "detector": ("facealign.training.detection", "train the SSD-lite face detector on composed scenes and export ONNX"),
    "temporal": ("facealign.training.temporal", "train the temporal fusion module (causal + offline) and export ONNX"),
    "body": ("facealign.training.body", "train the 14-joint body keypoint network and export ONNX"),
}


def add_parser(subparsers) -> None:
    """Register `facealign train` and one sub-command per trainer."""
    p = subparsers.add_parser("train", help="Train a model; it is exported into its run folder, never shipped.",
                              description="Train a model into its run folder (checkpoints, log, ONNX export). "
                              "A model ships only by `facealign models promote RUN/best.onnx --name NAME`.")
    sub = p.add_subparsers(dest="train_command", required=True, parser_class=type(p))
    for name, (_, help_text) in TRAINERS.items():
        q = sub.add_parser(name, help=help_text, description=help_text)
        q.add_argument("--config", required=True, help=f"YAML file (e.g. configs/{name}.yaml)")
        q.add_argument("--run-dir", "--out", dest="run_dir", default=None, metavar="DIR",
                       help="run folder (default: runs/<config name>, under FACEALIGN_RUNS when set)")
        q.add_argument("--resume", action="store_true", help="continue from RUN_DIR/last.pt")
        q.add_argument("--restart", action="store_true",
                       help="with --resume: begin a new learning-rate cycle (warm restart) instead of continuing")
        q.add_argument("--time-budget", type=float, default=0.0, metavar="MINUTES",
                       help="stop cleanly, with a checkpoint, after this many minutes (the LR decay is fitted in)")
        if name == "temporal":
            q.add_argument("--steps", type=int, default=0, help="override the training steps of each network")
            q.add_argument("--landmarks-model", "--landmark-model", dest="landmarks_model", default="",
                           metavar="NAME", help="per-frame landmark model: registered name or ONNX file")
        else:
            q.add_argument("--epochs", type=int, default=0, help="override the number of epochs")
        q.set_defaults(func=run, trainer=name)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    name = args.trainer
    try:
        from facealign.training.common.run import RunOptions

        opts = RunOptions(run_dir=args.run_dir, resume=args.resume, restart=args.restart,
                          time_budget_min=args.time_budget, epochs=getattr(args, "epochs", 0),
                          steps=getattr(args, "steps", 0))
        config_mod = importlib.import_module(f"{TRAINERS[name][0]}.config")
        train_mod = importlib.import_module(f"{TRAINERS[name][0]}.train")
    except ModuleNotFoundError as e:
        if e.name and e.name.split(".")[0] in ("torch", "onnx", "yaml", "tqdm"):
            sys.stderr.write(f"facealign train {name}: needs the '{e.name.split('.')[0]}' package "
                             "(pip install 'facealign[train]')\n")
            return 2
        raise
    except ValueError as e:
        sys.stderr.write(f"facealign train {name}: {e}\n")
        return 2
    try:
        cfg = config_mod.load_config(args.config)
    except ValueError as e:  # ConfigError: names the file and the key
        sys.stderr.write(f"facealign train {name}: {e}\n")
        return 2
    if name == "temporal" and args.landmarks_model:
        cfg.data.landmark_model = args.landmarks_model
    run_name = Path(args.config).stem
    print(f"run folder: {opts.folder(run_name)}", flush=True)
    try:
        result = train_mod.train(cfg, opts, name=run_name)
    except (ValueError, FileNotFoundError) as e:
        sys.stderr.write(f"facealign train {name}: {e}\n")
        return 2
    if name == "temporal":
        for tag in ("causal", "offline"):
            print(tag, {k: round(float(v), 4) for k, v in result[tag][tag].items()})
        print("one euro (tuned on training sequences):", result["one_euro"]["best"])
    else:
        print("best:", {k: round(v, 4) for k, v in result.items() if isinstance(v, float)})
    print(f"export: {opts.folder(run_name)}; ship it with `facealign models promote RUN/<file>.onnx --name NAME`")
    return 0
