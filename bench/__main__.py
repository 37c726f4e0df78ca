"""``python -m bench NAME``: run a benchmark and print its figures (JSON with --json)."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from . import ingest


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("name", choices=["ingest"], help="which benchmark")
    parser.add_argument("--paragraphs", type=int, default=100_000, help="generated corpus size")
    parser.add_argument("--work", type=Path, default=Path("bench/out"), help="folder for generated corpora")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.getLogger("jieba").setLevel(logging.WARNING)
    result = ingest.run(args.paragraphs, args.work)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:>22}: {value}")


main()
