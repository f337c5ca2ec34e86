"""`facealign train landmarks|detector|temporal --config FILE` (needs the `train` extra: torch)."""
from facealign.cli.subcommands import add_group

PROVIDERS = {
    "landmarks": "facealign.training.landmarks.cli",
    "detector": "facealign.training.detection.cli",
    "temporal": "facealign.training.temporal.cli",
}


def add_parser(subparsers) -> None:
    add_group(subparsers, "train", "Train a model from scratch and export it to ONNX.", PROVIDERS)
