"""`facealign models`: the shipped models (registry name, kind, file, size) and what each is."""
from __future__ import annotations

import argparse


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "models",
        help="list the shipped models (names for --landmarks-model)",
        description="List the registered models: name, kind, input size, file size and description.",
    )
    p.set_defaults(func=run)
    sub = p.add_subparsers(dest="models_command", parser_class=type(p))
    _add_promote(sub)


def run(args: argparse.Namespace) -> int:
    from facealign.runtime import registry

    for s in registry.list_models():
        size = f"{s.path.stat().st_size / 1e6:.1f} MB" if s.available else "missing"
        print(f"{s.name:22s} {s.kind:10s} input {s.input_size:<4d} {size:8s} {s.description}")
    return 0


def _add_promote(sub) -> None:
    """`facealign models promote RUN/best.onnx --name NAME`: ship a training export (check, copy, register)."""
    q = sub.add_parser("promote", help="ship a trained ONNX file: check its contract, copy it into the models "
                       "folder, update the registry and the models README",
                       description="Ship a trained ONNX file: check it against its kind's contract, copy it into "
                       "facealign/models/ and add or update its registry entry (models.json and the README table).")
    q.add_argument("source", help="the ONNX file, e.g. runs/landmarks/best.onnx")
    q.add_argument("--name", required=True, help="registry name (an existing name needs --replace)")
    q.add_argument("--kind", default="", choices=["", "detector", "landmarks", "temporal", "body"],
                   help="expected kind (default: read from the graph)")
    q.add_argument("--description", default="", help="what the model is (required for a new name)")
    q.add_argument("--version", default="", help="default: the registered version + 1, or 1")
    q.add_argument("--file", default="", help="file name in the models folder (default: the entry's, or NAME.onnx)")
    q.add_argument("--made-by", default="", help="the command that trained it (README table)")
    q.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="runtime option of the entry, e.g. score_threshold=0.6 (repeatable)")
    q.add_argument("--replace", action="store_true", help="ship a new version of a registered name")
    q.add_argument("--models-dir", default=None, help=argparse.SUPPRESS)  # tests: a models folder of their own
    q.set_defaults(func=run_promote)


def run_promote(args: argparse.Namespace) -> int:
    import sys

    from facealign.jobs.promote import PromoteOptions, parse_options, promote

    try:
        opts = PromoteOptions(source=args.source, name=args.name, kind=args.kind, description=args.description,
                              version=args.version, file=args.file, made_by=args.made_by,
                              options=parse_options(args.option), replace=args.replace,
                              **({"models_dir": args.models_dir} if args.models_dir else {}))
        spec = promote(opts)
    except (ValueError, FileNotFoundError) as e:
        sys.stderr.write(f"facealign models promote: {e}\n")
        return 2
    print(f"promoted {args.source} -> {spec.path} as {spec.name} ({spec.kind}, version {spec.version}); "
          "registry and models README updated")
    return 0
