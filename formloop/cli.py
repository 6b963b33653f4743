"""`formloop`: the command line of the local stack and of the pipeline's storage.

Subcommands: `up` (start Azurite, the engine and the Functions host; `--demo` also runs the
sample forms through the loop), `upload`, `status`, `results` (export extracted values as CSV or
JSON) and `promote` (make a model current by hand); all but `up` work against Azurite or a real account.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable


def _lazy(module: str, func: str) -> Callable[[argparse.Namespace], int]:
    """Import a subcommand only when it runs, so `formloop --help` stays fast."""

    def run(args: argparse.Namespace) -> int:
        return int(getattr(importlib.import_module(module), func)(args))

    return run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="formloop", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    from formloop import local_stack, promote, results, status, upload

    up = sub.add_parser("up", help="start the local stack (Azurite, engine, Functions host) until Ctrl-C")
    local_stack.add_arguments(up)
    up.set_defaults(func=_lazy("formloop.local_stack", "run_up"))

    up_load = sub.add_parser("upload", help="upload forms, labels and fields.json into a folder")
    upload.add_arguments(up_load)
    up_load.set_defaults(func=_lazy("formloop.upload", "run_upload"))

    st = sub.add_parser("status", help="show documents, training runs, predictions, models and fields")
    status.add_arguments(st)
    st.set_defaults(func=_lazy("formloop.status", "run_status"))

    res = sub.add_parser("results", help="export the values extracted from a folder's forms (CSV or JSON)")
    results.add_arguments(res)
    res.set_defaults(func=_lazy("formloop.results", "run_results"))

    pro = sub.add_parser("promote", help="make a ready model its folder's current one (a person's override)")
    promote.add_arguments(pro)
    pro.set_defaults(func=_lazy("formloop.promote", "run_promote"))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
