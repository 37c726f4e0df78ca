"""``python -m bench NAME``: run a benchmark and print its figures (JSON with --json).

python -m bench ingest [--paragraphs N]
python -m bench retrieval [--sizes 10000,100000,1000000] [--reference-max N]
python -m bench retrieval --news [--times 1,10]   (the real archive ×1 and ×10, tantivy beside it)
python -m bench news        (the real archive in ../shared/eval/news/ and its reader questions)
python -m bench timeline [--db data/news.db] [--topics 神舟,冬奥]   (/timeline on the real archive)
python -m bench aliases [--db data/news.db] [--judged bench/aliases-judged.tsv]
                            (the archive's abbreviations: pairs, precision, short vs long questions)
python -m bench cluster [--copies 4] [--parts exact,overhead,fault,bulk]   (shards and bulk segmentation on a local Ray cluster: pip install -e '.[cluster]')
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from . import aliases, cluster, ingest, load, news, realdata, retrieval


def _sizes(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "name",
        choices=["ingest", "retrieval", "news", "timeline", "load", "soak", "aliases", "cluster"],
        help="which benchmark",
    )
    parser.add_argument(
        "--judged", type=Path, default=aliases.JUDGED, help="aliases: hand judgments of pairs"
    )
    parser.add_argument("--users", type=int, default=200, help="load: simulated users")
    parser.add_argument("--per-user", type=int, default=5, help="load: questions each user sends at once")
    parser.add_argument("--minutes", type=float, default=10.0, help="soak: how long")
    parser.add_argument("--paragraphs", type=int, default=100_000, help="ingest: generated corpus size")
    parser.add_argument(
        "--sizes", type=_sizes, default=[10_000, 100_000, 1_000_000], help="retrieval: corpus sizes"
    )
    parser.add_argument(
        "--reference-max",
        type=int,
        default=100_000,
        help="retrieval: largest size at which rank_bm25 and bm25s are run too",
    )
    parser.add_argument(
        "--news",
        action="store_true",
        help="retrieval: the news archive in ../shared/eval/news/ (copied --times over) instead of generated text",
    )
    parser.add_argument(
        "--times", type=_sizes, default=[1, 10], help="retrieval --news: copies of the archive"
    )
    parser.add_argument("--queries", type=int, default=200, help="retrieval: generated questions per size")
    parser.add_argument("--work", type=Path, default=Path("bench/out"), help="folder for generated corpora")
    parser.add_argument(
        "--db",
        type=Path,
        help="timeline, aliases: a database of the news archive (timeline: default ingested under --work; "
        f"aliases: default {aliases.DB})",
    )
    parser.add_argument(
        "--topics",
        type=lambda text: tuple(t for t in text.split(",") if t.strip()),
        default=news.TOPICS,
        help="timeline: comma-separated keywords (the first gets its own figures)",
    )
    parser.add_argument("--copies", type=int, default=4, help="cluster: copies of the news archive to ingest")
    parser.add_argument(
        "--parts",
        type=lambda text: tuple(p for p in text.split(",") if p.strip()),
        default=cluster.PARTS,
        help="cluster: which of exact,overhead,fault,bulk (default all)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.getLogger("jieba").setLevel(logging.WARNING)
    if args.name == "aliases":
        aliases.main(args.db or aliases.DB, args.judged, args.json)
        return
    args.work.mkdir(parents=True, exist_ok=True)
    results: list[dict[str, Any]]
    if args.name == "ingest":
        results = [ingest.run(args.paragraphs, args.work)]
    elif args.name == "load":
        results = [load.run_load(args.users, args.per_user)]
    elif args.name == "soak":
        results = [load.run_soak(args.minutes)]
    elif args.name == "news":
        results = [news.run(args.work)]
    elif args.name == "cluster":
        results = [cluster.run(args.work, copies=args.copies, parts=args.parts)]
    elif args.name == "timeline":
        results = [news.run_timeline(args.work, db=args.db, topics=args.topics)]
    elif args.news:
        results = realdata.run(args.times, args.work)
    else:
        results = retrieval.run(
            args.sizes, args.work, reference_max=args.reference_max, n_queries=args.queries
        )
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
        return
    for result in results:
        for key, value in result.items():
            print(f"{key:>32}: {round(value, 3) if isinstance(value, float) else value}")
        print()


if __name__ == "__main__":  # worker processes import this module again: do nothing there
    main()
