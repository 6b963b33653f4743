"""`python -m formgen LAYOUT COUNT OUT_DIR [--kind K] [--mark-style S] [--hand]`: labeled forms."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from formgen.canvas import MARK_STYLES
from formgen.generate import DEFAULT_DPI, KINDS, generate, layouts, table_layouts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m formgen", description=__doc__)
    parser.add_argument("layout", choices=sorted([*layouts(), *table_layouts()]))
    parser.add_argument("count", type=int)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--kind", choices=KINDS, default="pdf")
    parser.add_argument(
        "--mark-style",
        choices=MARK_STYLES,
        default="vector",
        help="check boxes as vector, image or glyph (pdf/scan/photo)",
    )
    parser.add_argument("--hand", action="store_true", help="values hand-printed (pdf/scan/photo)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start-index", type=int, default=1)
    parser.add_argument(
        "--dpi", type=int, default=DEFAULT_DPI, help="scan resolution (kinds *scan; a photo is 1600 px long)"
    )
    args = parser.parse_args(argv)
    if args.count < 0:
        parser.error("COUNT must be >= 0")
    if args.mark_style != "vector" and args.kind.startswith("fillable"):
        parser.error("--mark-style applies to --kind pdf and scan only (photo too)")
    if args.hand and args.kind.startswith("fillable"):
        parser.error("--hand applies to --kind pdf and scan only (photo too)")
    forms = generate(
        args.layout,
        args.count,
        args.out_dir,
        seed=args.seed,
        kind=args.kind,
        start_index=args.start_index,
        dpi=args.dpi,
        mark_style=args.mark_style,
        hand=args.hand,
    )
    for form in forms:
        print(form.path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
