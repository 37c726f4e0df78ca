"""The ``newsbot`` command: thin wrappers over corpus, retrieval and the bot (also ``python -m bot``)."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import logging
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from corpus import Article, CorpusError, FileResult, IngestReport, Store, ingest_paths, printable
from retrieval.aliases import USED, AliasMap
from retrieval.errors import RetrievalError
from retrieval.search import Filters

from . import messages as msg
from .chat import run_chat
from .config import ConfigError, Settings, load_settings
from .evaluate import EvalInputError, evaluate, evaluate_follow_ups, load_queries
from .render.common import headline_of
from .render.json import answer_json, article_json, digest_json, timeline_json
from .render.telegram import render_telegram
from .render.terminal import article_text, digest_text, render_terminal, timeline_text
from .service import (
    NewsService,
    QuestionTooLong,
    iso,
    open_store,
    parse_day,
    read_alias_dictionary,
    system_clock,
)

log = logging.getLogger(__name__)

EXAMPLES = """\
examples:
  newsbot ingest corpus/ feeds/2023-08-21.jsonl
  newsbot ask "象州县投入多少钱加强实体平台建设？"
  newsbot chat
  newsbot search "象州县投入多少钱加强实体平台建设" -k 5
  newsbot eval --corpus C.jsonl --queries Q.jsonl
  newsbot articles --date 2023-08-21
  newsbot show 3
  newsbot timeline 工会
  newsbot aliases --min 2
  newsbot --ray local ingest feeds/      # segment in parallel on a Ray cluster (README: Past one machine)
"""


class CliError(Exception):
    """An error the CLI reports as one line on stderr, exiting with status 1."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``newsbot`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        settings = load_settings(db=args.db, config_file=args.config, ray_address=args.ray)
        code: int = args.handler(args, settings)
        return code
    except (ConfigError, CliError, CorpusError, RetrievalError, EvalInputError) as exc:
        print(f"newsbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("newsbot: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into `head` and closed early: not an error worth a traceback.
        sys.stderr.close()
        return 0


def _configure_logging(verbose: int) -> None:
    level = logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs request URLs at INFO, and PTB puts the bot token in them.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsbot",
        description="Answer questions about Chinese news articles with quoted passages; send daily digests.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--db", help="database file (default: $NEWSBOT_DB, else ./data/newsbot.db)")
    parser.add_argument("--config", help="TOML settings file (default: $NEWSBOT_CONFIG)")
    parser.add_argument(
        "--ray",
        metavar="ADDRESS",
        help="segment and serve the index on a Ray cluster (ADDRESS as `ray start` prints it, e.g. "
        "10.0.0.5:6379; `local` starts one here; default: $NEWSBOT_RAY_ADDRESS, else none)",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more (-vv for debug)")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    def command(
        name: str, handler: Callable[[argparse.Namespace, Settings], int], help: str, example: str
    ) -> Any:
        p = sub.add_parser(
            name,
            help=help,
            description=help,
            epilog=f"example:\n  {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.set_defaults(handler=handler)
        return p

    p = command(
        "ingest",
        cmd_ingest,
        "ingest files or folders (.txt page dumps, .md, .jsonl) and index them, each file as it goes in",
        "newsbot ingest data/",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (searched recursively)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")

    p = command("articles", cmd_articles, "list articles, newest first", "newsbot articles --date 2023-08-21")
    p.add_argument("--date", help="only articles of this day (YYYY-MM-DD)")
    p.add_argument("-n", "--limit", type=int, default=50, help="how many (default 50)")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command("show", cmd_show, "print one article in full", "newsbot show 3")
    p.add_argument("article", metavar="ARTICLE_ID", help="article id (number) or external id")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command("stats", cmd_stats, "counts of files, articles, paragraphs", "newsbot stats --json")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command(
        "aliases",
        cmd_aliases,
        "the archive's abbreviations (进博会 → 中国国际进口博览会) with the articles holding each pair, and "
        "whether questions are widened with it; pairs from $NEWSBOT_ALIASES (短 长 adds, -短 长 vetoes) too",
        "newsbot aliases --min 2   |   newsbot aliases --explicit --json",
    )
    p.add_argument(
        "--min", type=int, default=1, metavar="N", help="only pairs held by at least N articles (default 1)"
    )
    p.add_argument(
        "--explicit", action="store_true", help="only pairs some article states (以下简称, 简称, 下称)"
    )
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command(
        "search",
        cmd_search,
        "rank paragraphs for a question (BM25)",
        'newsbot search "象州县投入多少钱" -k 5',
    )
    p.add_argument("question")
    p.add_argument("-k", type=int, default=10, help="how many paragraphs (default 10)")
    p.add_argument("--from", dest="day_from", metavar="D", help="only articles dated D (YYYY-MM-DD) or later")
    p.add_argument("--to", dest="day_to", metavar="D", help="only articles dated D or earlier")
    p.add_argument("--source", help="only articles from this publication")
    _now_option(p)
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command(
        "eval",
        cmd_eval,
        "retrieval quality on a question set: Recall@k, MRR@10, latency",
        "newsbot eval --corpus ../shared/eval/cmrc2018-train/corpus.jsonl "
        "--queries ../shared/eval/cmrc2018-train/queries.jsonl",
    )
    p.add_argument(
        "--queries",
        required=True,
        type=Path,
        help="JSONL with question, answers, positive_ids (and asked_at)",
    )
    p.add_argument("--corpus", type=Path, help="JSONL articles to evaluate on (a temporary database)")
    p.add_argument("--k", default="1,5,10,20", help="cut-offs for Recall@k (default 1,5,10,20)")
    p.add_argument("--retrieval-only", action="store_true", help="skip the answer and refusal figures")
    p.add_argument(
        "--plain-windows", action="store_true", help="choose quotes without the question-type preference"
    )
    p.add_argument(
        "--bm25-only",
        action="store_true",
        help="Recall@k and MRR of BM25 alone, without the second stage (answers always use the bot's ranking)",
    )
    p.add_argument(
        "--follow-ups",
        action="store_true",
        help="also two-turn conversations made from the questions (那{year}呢？ after another year; another "
        "question first)",
    )
    _now_option(p, "rows without asked_at are asked on this day")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command(
        "ask",
        cmd_ask,
        "answer a question with quoted passages and their sources",
        'newsbot ask "象州县投入多少钱加强实体平台建设？"   |   newsbot ask --batch questions.jsonl',
    )
    p.add_argument("question", nargs="?", help="the question (omit with --batch)")
    p.add_argument("-n", type=int, help="passages per page (default 3)")
    p.add_argument("--page", type=int, default=1, help="which page of passages (default 1)")
    p.add_argument("--source", metavar="PUBLICATION", help="quote only articles from this publication")
    p.add_argument(
        "--after",
        metavar="QUESTION",
        help="the question this one follows up (那去年呢？ 他是哪里人？ are completed from its answer)",
    )
    p.add_argument(
        "--batch",
        type=Path,
        metavar="FILE",
        help="JSONL with `question` (or one question per line): one JSON answer per line on stdout",
    )
    _now_option(p)
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command(
        "chat",
        cmd_chat,
        "a conversation in the terminal (what `make run` starts without a token)",
        "newsbot chat",
    )
    _now_option(p)

    p = command(
        "digest",
        cmd_digest,
        "the topics of a day with their key sentences",
        "newsbot digest --date yesterday",
    )
    p.add_argument("--date", default="today", help="YYYY-MM-DD, today or yesterday (in NEWSBOT_TIMEZONE)")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command(
        "timeline",
        cmd_timeline,
        "a topic's timeline: first and last mention, articles per month, a key passage per active period "
        "(exit 3 when nothing mentions it)",
        "newsbot timeline 工会 --json",
    )
    p.add_argument(
        "keyword", metavar="KEYWORD", help="a word or words (all of them, together in a paragraph)"
    )
    p.add_argument(
        "--now",
        type=_day,
        metavar="YYYY-MM-DD",
        help="count only what the archive held by this day (default: today)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command(
        "run",
        cmd_run,
        "run the Telegram bot (long polling, or a webhook with --webhook-url); token from TELEGRAM_BOT_TOKEN",
        "TELEGRAM_BOT_TOKEN=123:abc newsbot run",
    )
    p.add_argument("--webhook-url", help="public HTTPS URL Telegram posts updates to (default: long polling)")
    p.add_argument("--listen", help="address the webhook server binds (default 0.0.0.0)")
    p.add_argument("--port", type=int, help="port the webhook server listens on (default 8443)")
    p.add_argument("--secret", help="webhook secret token (default $NEWSBOT_WEBHOOK_SECRET)")
    return parser


# --- helpers ------------------------------------------------------------------------------------------


def _now_option(p: argparse.ArgumentParser, extra: str = "") -> None:
    p.add_argument(
        "--now",
        type=_day,
        metavar="YYYY-MM-DD",
        help="the day the question is asked on: 上个月, 去年 and 最近 count from it (default: today)"
        + (f"; {extra}" if extra else ""),
    )


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date such as 2024-05-10") from None


def print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


def find_article(store: Store, ref: str) -> Article:
    article = store.article(int(ref)) if ref.isdigit() else None
    article = article or store.article_by_external_id(ref)
    if article is None:
        raise CliError(f"no article {ref!r}; `newsbot articles` lists them")
    return article


def _with_settings(settings: Settings, **changes: Any) -> Settings:
    from dataclasses import replace

    return replace(settings, **{k: v for k, v in changes.items() if v is not None})


# --- commands -----------------------------------------------------------------------------------------


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        raise CliError(f"no such file or folder: {printable(missing[0])}")
    with open_store(settings, seed=False) as store:
        progress = _Progress(enabled=sys.stderr.isatty() and not args.json)
        reports: list[IngestReport] = []

        def write(committed: Callable[[], None]) -> None:
            def on_file(result: FileResult) -> None:
                progress.update(result)
                committed()

            reports.append(ingest_paths(store, args.paths, now=iso(system_clock()), on_file=on_file))

        # The files are indexed as they go in (segmenting in worker processes or Ray tasks while the next
        # file is parsed), and the saved index ends up to date: this also finishes the index phase of a run
        # that was killed after its files went in (the next run finds them unchanged).
        NewsService.open(settings, store=store, while_writing=write)
        progress.close()
        report = reports[0]
    if args.json:
        print_json(
            {
                "files": report.files,
                "articles": report.articles,
                "paragraphs": report.paragraphs,
                "added": report.count("added"),
                "replaced": report.count("replaced"),
                "unchanged": report.count("unchanged"),
                "skipped": report.count("skipped"),
                "failed": report.count("failed"),
                "problems": [{"path": p.path, "line": p.line, "message": p.message} for p in report.problems],
            }
        )
    else:
        for p in report.problems:
            print(f"problem: {p}", file=sys.stderr)
        print(
            f"{report.files} files: {report.count('added')} added, {report.count('replaced')} replaced, "
            f"{report.count('unchanged')} unchanged, {report.count('skipped')} skipped, "
            f"{report.count('failed')} failed; {report.articles} articles, {report.paragraphs} paragraphs; "
            f"{len(report.problems)} problems"
        )
    return 1 if report.failed else 0


def cmd_articles(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings) as store:
        articles = store.articles(day=args.date, limit=args.limit)
    if args.json:
        print_json([article_json(a) for a in articles])
        return 0
    if not articles:
        print("no articles" + (f" dated {args.date}" if args.date else ""))
    for a in articles:
        print(
            f"{a.id:>6}  {a.day}  {headline_of(a.headline, a.headline_derived)}"
            + (f"  [{a.external_id}]" if a.external_id else "")
        )
    return 0


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings) as store:
        article = find_article(store, args.article)
    if args.json:
        print_json(article_json(article))
        return 0
    print(article_text(article))
    return 0


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings, seed=False) as store:
        stats = store.stats()
    stats["database"] = str(settings.db)
    if args.json:
        print_json(stats)
    else:
        for key, value in stats.items():
            print(f"{key:>11}: {value}")
    return 0


def cmd_aliases(args: argparse.Namespace, settings: Settings) -> int:
    if args.min < 1:
        raise CliError("--min takes a number of articles, 1 or more")
    dictionary = read_alias_dictionary(settings)
    with open_store(settings, seed=False) as store:
        mined = store.aliases()
    aliases = AliasMap(mined, dictionary)
    rows = [
        {
            "short": p.short,
            "long": p.long,
            "articles": p.articles,
            "explicit": p.explicit,
            "used": aliases.status(p) == USED,
            "why": aliases.status(p),
            "source": "archive",
        }
        for p in mined
        if p.articles >= args.min and (p.explicit or not args.explicit)
    ]
    known = {(p.short, p.long) for p in mined}
    if dictionary and not args.explicit:
        rows += [
            {
                "short": s,
                "long": lg,
                "articles": 0,
                "explicit": 0,
                "used": True,
                "why": USED,
                "source": "user",
            }
            for s, lg in dictionary.adds
            if (s, lg) not in known
        ]
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no abbreviations" + (f" held by {args.min} or more articles" if args.min > 1 else ""))
        return 0
    print(f"{'articles':>8} {'stated':>6}  short → long")
    for r in rows:
        note = "" if r["used"] else f"   (not used: {r['why']})"
        counts = ("user", "") if r["source"] == "user" else (r["articles"], r["explicit"])
        print(f"{counts[0]:>8} {counts[1]:>6}  {r['short']} → {r['long']}{note}")
    return 0


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    service = NewsService.open(settings)
    with service.store:
        try:
            question = service.parse(args.question, args.now)
        except QuestionTooLong as exc:
            raise CliError(msg.QUESTION_TOO_LONG.format(length=exc.length, limit=exc.limit)) from None
        result = service.searcher.search(
            question,
            k=args.k,
            filters=Filters(day_from=args.day_from, day_to=args.day_to, source=args.source),
        )
    if args.json:
        print_json(
            {
                "question": question.text,
                "times": [{"text": t.text, "period": t.label(), "grain": t.grain} for t in question.times],
                "terms": list(result.terms),
                "hits": [
                    {
                        "rank": h.rank,
                        "score": round(h.score, 4),
                        "article_id": h.article.id,
                        "external_id": h.article.external_id,
                        "headline": h.article.headline,
                        "date": h.article.day,
                        "source": h.article.source,
                        "paragraph": h.paragraph.ordinal,
                        "matched": list(h.matched),
                        "text": h.paragraph.text,
                    }
                    for h in result.hits
                ],
            }
        )
        return 0
    if question.times:
        print("times: " + "; ".join(f"{t.text} = {t.label()}" for t in question.times) + "\n")
    if not result.hits:
        print("no paragraph holds any of the terms: " + (" ".join(result.terms) or "(none)"))
    for h in result.hits:
        ext = f" [{h.article.external_id}]" if h.article.external_id else ""
        print(
            f"{h.rank:>2}. {h.score:8.3f}  #{h.article.id}{ext} {h.article.headline} · {h.article.day} · 第{h.paragraph.ordinal}段"
        )
        print(f"    matched: {' '.join(h.matched)}")
        print(f"    {h.paragraph.text}\n")
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    try:
        ks = tuple(sorted({int(k) for k in args.k.split(",") if k.strip()}))
    except ValueError:
        raise CliError(f"--k {args.k!r} is not a list of numbers such as 1,5,10") from None
    if not ks or min(ks) < 1:
        raise CliError("--k needs positive numbers such as 1,5,10")
    queries = load_queries(args.queries)
    with tempfile.TemporaryDirectory() as tmp:
        if args.corpus:
            store = Store(Path(tmp) / "eval.db", tz=settings.tz)
            report = ingest_paths(store, [args.corpus], now=iso(system_clock()))
            if not report.articles:
                raise CliError(f"no article could be read from {args.corpus}")
        else:
            store = open_store(settings)
        with store:
            service = NewsService.open(settings, store=store, persist=not args.corpus)
            progress = _Counter("queries", len(queries), enabled=sys.stderr.isatty() and not args.json)
            options = (
                dataclasses.replace(service.options, use_question_type=False) if args.plain_windows else None
            )
            result = evaluate(
                service,
                queries,
                ks,
                now=args.now,
                progress=progress.update,
                answers=not args.retrieval_only,
                options=options,
                second_stage=not args.bm25_only,
            )
            progress.close()
            follow_ups = evaluate_follow_ups(service, queries, now=args.now) if args.follow_ups else {}
    if args.json:
        slices = {g: _rounded(f) for g, f in result.groups.items()}
        print_json(
            {**result.as_dict(), "slices": slices, **({"follow_ups": follow_ups} if follow_ups else {})}
        )
        return 0
    for key, value in result.as_dict().items():
        print(f"{key:>16}: {value}")
    if result.groups:
        print()
        print(_slice_table(result.groups))
    if follow_ups:
        print()
        for key, value in follow_ups.items():
            print(f"{key:>40}: {value}")
    return 0


def _rounded(figures: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in figures.items()}


def _slice_table(groups: dict[str, dict[str, float]]) -> str:
    """The figures per slice and half as a table (columns only for figures some group has)."""
    columns = list(
        dict.fromkeys(k for figures in groups.values() for k in figures if not k.startswith("ask_ms"))
    )
    width = max(len(g) for g in groups) + 2
    lines = ["slice".ljust(width) + " ".join(f"{c:>11}" for c in columns)]
    for group, figures in groups.items():
        cells = [f"{figures[c]:>11.4g}" if c in figures else " " * 11 for c in columns]
        lines.append(group.ljust(width) + " ".join(cells))
    return "\n".join(lines)


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    if (args.question is None) == (args.batch is None):
        raise CliError("give a question, or --batch FILE (not both)")
    if args.n is not None and not 1 <= args.n <= 10:
        raise CliError("-n takes 1 to 10 passages per page")
    settings = _with_settings(settings, passages_per_page=args.n)
    service = NewsService.open(settings)
    with service.store:
        known = service.searcher.index.sources
        if args.source is not None and args.source not in known:
            listed = "、".join(known[:20]) or "none recorded"
            raise CliError(f"no article from {args.source!r}; publications in the archive: {listed}")
        if args.batch:
            return _ask_batch(service, args.batch, args.now)
        try:
            after = service.ask(args.after, now=args.now, source=args.source) if args.after else None
            answer = service.ask(args.question, now=args.now, after=after, source=args.source)
        except QuestionTooLong as exc:
            print(msg.QUESTION_TOO_LONG.format(length=exc.length, limit=exc.limit))
            return 1
    page = max(args.page - 1, 0)
    if args.json:
        print_json(answer_json(answer, page))
    else:
        print(render_terminal(answer, page, color=sys.stdout.isatty()))
    return 0 if answer.answered else 3


def _ask_batch(service: NewsService, path: Path, now: dt.date | None) -> int:
    """One JSON line per input line, in order; a bad or empty line still gets its answer line."""
    if not path.is_file():
        raise CliError(f"no such file: {path}")
    with path.open(encoding="utf-8-sig", errors="replace") as f:
        for n, line in enumerate(f, start=1):
            question, error = _batch_question(line)
            record: dict[str, Any] = {"line": n, "question": question}
            try:
                answer = service.ask(question, now=now)
                record.update(
                    answered=answer.answered, rendered=render_telegram(answer), answer=answer_json(answer, 0)
                )
            except QuestionTooLong as exc:
                text = msg.QUESTION_TOO_LONG.format(length=exc.length, limit=exc.limit)
                record.update(answered=False, rendered=text, error="question too long")
            if error:
                record["error"] = error
            print(json.dumps(record, ensure_ascii=False), flush=True)
    return 0


def _batch_question(line: str) -> tuple[str, str | None]:
    text = line.strip()
    if not text.startswith("{"):
        return text, None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return "", f"not valid JSON: {exc}"
    question = data.get("question") if isinstance(data, dict) else None
    if not isinstance(question, str):
        return "", "no `question` string on this line"
    return question, None


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    service = NewsService.open(settings)
    with service.store:
        run_chat(service, sys.stdin, sys.stdout, color=sys.stdout.isatty(), now=args.now)
    return 0


def cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    day = parse_day(args.date, dt.datetime.now(settings.tz).date())
    if day is None:
        raise CliError(f"--date {args.date!r} is not YYYY-MM-DD, today or yesterday")
    service = NewsService.open(settings)
    with service.store:
        digest = service.digest_of_day(day)
    if args.json:
        print_json(digest_json(digest))
    elif digest.empty:
        print(msg.DIGEST_EMPTY.format(day=day.isoformat()))
    else:
        print(digest_text(digest, msg.DIGEST_TITLE.format(day=day.isoformat())))
    return 0


def cmd_timeline(args: argparse.Namespace, settings: Settings) -> int:
    service = NewsService.open(settings)
    with service.store:
        timeline = service.timeline(args.keyword, now=args.now)
    if args.json:
        print_json(timeline_json(timeline))
    else:
        print(timeline_text(timeline))
    return 0 if timeline.found else 3


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from .telegram import run_bot  # PTB is only imported when the bot runs

    settings = _with_settings(
        settings,
        webhook_url=args.webhook_url,
        webhook_listen=args.listen,
        webhook_port=args.port,
        webhook_secret=args.secret,
    )
    if not settings.token:
        raise CliError("TELEGRAM_BOT_TOKEN is not set; export it (from @BotFather) or use `newsbot chat`")
    if settings.webhook_url and not settings.webhook_secret:
        raise CliError("webhook mode needs a secret: --secret or NEWSBOT_WEBHOOK_SECRET")
    service = NewsService.open(settings)
    with service.store:
        run_bot(settings, service)
    return 0


class _Counter:
    """ "n of total" on a terminal; silent otherwise."""

    def __init__(self, what: str, total: int, enabled: bool) -> None:
        self.what, self.total, self.enabled = what, total, enabled

    def update(self, n: int) -> None:
        if self.enabled and (n % 100 == 0 or n == self.total):
            print(f"\r{n}/{self.total} {self.what} …", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.enabled:
            print("\r\033[K", end="", file=sys.stderr, flush=True)


class _Progress:
    """A progress line for ingest on a terminal; silent otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.files = self.paragraphs = 0

    def update(self, result: FileResult) -> None:
        self.files += 1
        self.paragraphs += result.paragraphs
        if self.enabled:
            print(
                f"\r{self.files} files, {self.paragraphs} paragraphs …", end="", file=sys.stderr, flush=True
            )

    def close(self) -> None:
        if self.enabled and self.files:
            print("\r\033[K", end="", file=sys.stderr, flush=True)
