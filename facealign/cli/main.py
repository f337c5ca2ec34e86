"""`facealign` command: dispatches to one module per sub-command (each has add_parser() and run())."""
from __future__ import annotations

import argparse
import importlib
import sys

# sub-command -> module under facealign.cli; each module defines add_parser(subparsers) and run(args) -> int
COMMANDS = {
    "align": "align",
    "merge": "merge",
    "pose": "pose",
    "body": "body",
    "video": "video",
    "eval": "eval",
    "train": "train",
    "bench": "bench",
    "models": "models",
    "sample": "sample",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # bad arguments: exit status 2 with a one-line reason
        self.print_usage(sys.stderr)
        sys.stderr.write(f"facealign: error: {message}\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="facealign", description="Face detection, 68+5 landmarks, 3D pose and aligned crops.")
    from facealign import __version__

    parser.add_argument("--version", action="version", version=f"facealign {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for module in COMMANDS.values():
        importlib.import_module(f"facealign.cli.{module}").add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        sys.stderr.write("facealign: interrupted\n")
        return 130
    except FileNotFoundError as e:  # a data set, model or config file that is not there: one line, no traceback
        from facealign.io.inputs import printable

        sys.stderr.write(f"facealign {args.command}: error: {printable(str(e))}\n")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
