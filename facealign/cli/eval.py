"""`facealign eval landmarks|detector|detector-wild|pose|video|body|merge`: evaluation commands (implemented in
facealign.evaluation)."""
from facealign.cli.subcommands import add_group

PROVIDERS = {
    "landmarks": "facealign.cli.eval_landmarks",
    "detector": "facealign.cli.eval_detector",
    "detector-wild": "facealign.cli.eval_detector_wild",
    "pose": "facealign.cli.eval_pose",
    "video": "facealign.cli.eval_video",
    "body": "facealign.cli.eval_body",
    "merge": "facealign.cli.eval_merge",
}


def add_parser(subparsers) -> None:
    add_group(subparsers, "eval", "Evaluate models on labelled data and print metrics.", PROVIDERS)
