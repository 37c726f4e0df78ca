"""Aliases benchmark: what the abbreviation miner finds in the news archive, how often it is right, and what
widening questions with it changes.

python -m bench aliases [--db data/news.db] [--judged bench/aliases-judged.tsv] [--json]

Reads the database the archive was ingested into (``newsbot --db data/news.db ingest
../shared/eval/news/articles.jsonl.gz``) and reports:

- **pairs**: how many the miner keeps (explicit: some article states them, 以下简称; implicit: only seen
  used), how many questions are widened with (``retrieval.aliases``), and the explicit patterns it read but
  did not keep (a document named by its kind, 《条例》; a clause that is not a name);
- **top pairs** with the articles holding them;
- **precision**, from hand judgments kept in ``--judged`` (one ``short<TAB>long<TAB>y|n`` line per pair: y
  when the short form, where the archive uses it, means that long form): of every pair used to widen
  questions, and of a fixed random sample (seed 14) of the pairs not used. Pairs not yet judged are listed;
  the figures count only judged ones and say how many that is;
- **short vs long** (the target): for each pair used (explicit ones apart), the first article holding it,
  asked about in its own words: the clause of its text that holds the long form (parenthesis removed) is
  the long question, the same clause with the short form in its place the short one, each asked on the
  article's day. R@1 is the share of pairs whose article comes first (articles counted once), for the
  long question, the short one without widening, and the short one with it;
- **one form only**, what widening is for: articles that spell only the long form (up to three per pair),
  asked with the short form in the clause's place, and the other way round.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.config import load_settings
from bot.service import NewsService
from corpus import AliasCount, Store
from corpus.aliases import explicit_mentions
from retrieval.aliases import USED, AliasMap
from retrieval.question import parse_question

DB = Path(__file__).resolve().parents[1] / "data" / "news.db"
JUDGED = Path(__file__).resolve().parent / "aliases-judged.tsv"
_CLAUSE = re.compile(r"[^，。；！？：,;!?:\n]+")
_NOTE = re.compile(r"[（(][^（）()]*[）)]")
_SAMPLE_SEED = 14
_SAMPLE_SIZE = 40
_PER_PAIR = 3


def main(db: Path, judged: Path, as_json: bool) -> None:
    if not db.is_file():
        raise SystemExit(
            f"bench aliases reads the news archive's database, not found: {db}\n"
            "build it from the repository with:\n"
            "  .venv/bin/newsbot --db data/news.db ingest ../shared/eval/news/articles.jsonl.gz\n"
            "(the archive lives in ../shared/eval/news/ beside the repository)"
        )
    report = run(db, judged)
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(_text(report))


def run(db: Path, judged: Path = JUDGED) -> dict[str, Any]:
    service = NewsService.open(load_settings(env={}, db=str(db), seed_sample=False))
    with service.store:
        store = service.store
        pairs = store.aliases()
        used_map = AliasMap(pairs)  # the mined pairs alone: no user dictionary in a benchmark
        used = [p for p in pairs if used_map.status(p) == USED]
        patterns = _explicit_patterns(store)
        verdicts = _read_judged(judged)
        rest = [p for p in pairs if used_map.status(p) != USED]
        sample = random.Random(_SAMPLE_SEED).sample(rest, min(_SAMPLE_SIZE, len(rest)))
        explicit = [p for p in used if p.explicit]
        implicit = [p for p in used if not p.explicit]
        return {
            "database": str(db),
            "articles": store.stats()["articles"],
            "pairs": len(pairs),
            "pairs_explicit": sum(1 for p in pairs if p.explicit),
            "pairs_implicit": sum(1 for p in pairs if not p.explicit),
            "pairs_used": len(used),
            "used_explicit": len(explicit),
            "used_implicit": len(implicit),
            "explicit_patterns": patterns,
            "top": [_pair(p) for p in pairs[:20]],
            "precision_used": _precision(used, verdicts),
            "precision_sample_not_used": _precision(sample, verdicts),
            "short_vs_long_explicit": _short_vs_long(service, explicit),
            "short_vs_long_implicit": _short_vs_long(service, implicit),
            "long_only_articles": _one_form_only(service, used, said="short"),
            "short_only_articles": _one_form_only(service, used, said="long"),
        }


def _explicit_patterns(store: Store) -> dict[str, int]:
    """Every explicit pattern the archive holds, by what became of it."""
    kept = kind = other = 0
    for _, text in store.mining_texts():
        for short, long, keep in explicit_mentions(text):
            if keep:
                kept += 1
            elif long and _NOTE.sub("", long).endswith(_NOTE.sub("", short)):
                kind += 1
            else:
                other += 1
    return {"kept": kept, "a document named by its kind": kind, "not a name, or too short": other}


def _pair(p: AliasCount) -> dict[str, Any]:
    return {"short": p.short, "long": p.long, "articles": p.articles, "explicit": p.explicit}


def _read_judged(path: Path) -> dict[tuple[str, str], bool]:
    if not path.is_file():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and not line.startswith("#"):
            out[(parts[0], parts[1])] = parts[2].strip() == "y"
    return out


def _precision(pairs: Sequence[AliasCount], verdicts: dict[tuple[str, str], bool]) -> dict[str, Any]:
    judged = [verdicts[(p.short, p.long)] for p in pairs if (p.short, p.long) in verdicts]
    return {
        "pairs": len(pairs),
        "judged": len(judged),
        "right": sum(judged),
        "precision": round(sum(judged) / len(judged), 3) if judged else None,
        "wrong": [f"{p.short} → {p.long}" for p in pairs if verdicts.get((p.short, p.long)) is False],
        "not_judged": [f"{p.short}\t{p.long}" for p in pairs if (p.short, p.long) not in verdicts],
    }


def _short_vs_long(service: NewsService, pairs: Sequence[AliasCount]) -> dict[str, Any]:
    """The target: the first article holding each pair (stating it, for an explicit one), asked about with
    the clause of it that holds the long form, and with the same clause saying the short form."""
    cases = []
    for p in pairs:
        ids = service.store.alias_articles(p.short, p.long, explicit=bool(p.explicit))
        found = _clause(service.store, ids, p.long)
        if found is not None:
            cases.append((p, *found))
    return _compare(service, cases, said="short", other="long")


def _one_form_only(service: NewsService, pairs: Sequence[AliasCount], said: str) -> dict[str, Any]:
    """Articles that spell only one form of a pair (up to ``_PER_PAIR`` each, oldest first), asked about
    with the clause holding it, that form replaced by the other: what widening is for."""
    other = "long" if said == "short" else "short"
    cases = []
    for p in pairs:
        spelled, absent = getattr(p, other), getattr(p, said)
        only = service.store.articles_with(spelled) - service.store.articles_with(absent)
        taken = 0
        for article_id in sorted(only):
            found = _clause(service.store, [article_id], spelled)
            if found is not None:
                cases.append((p, *found))
                taken += 1
                if taken == _PER_PAIR:
                    break
    return _compare(service, cases, said=said, other=other)


def _compare(
    service: NewsService, cases: Sequence[tuple[AliasCount, int, str, str]], *, said: str, other: str
) -> dict[str, Any]:
    """R@1 of each case's article for the clause as written (``other`` form), and for the clause saying
    ``said`` instead, without and with widening."""
    tokenizer = service.searcher.tokenizer
    rows = []
    for p, article_id, day, clause in cases:
        asked = clause.replace(getattr(p, other), getattr(p, said))
        now = dt.date.fromisoformat(day)
        rows.append(
            {
                "pair": f"{p.short} → {p.long}",
                "question": asked,
                other: _rank(service, parse_question(clause, tokenizer, now), article_id),
                f"{said}_plain": _rank(service, parse_question(asked, tokenizer, now), article_id),
                f"{said}_widened": _rank(service, service.parse(asked, now), article_id),
            }
        )
    keys = (other, f"{said}_plain", f"{said}_widened")
    n = len(rows)
    figures = {f"r@1_{k}": round(sum(r[k] == 1 for r in rows) / n, 3) if n else None for k in keys}
    return {"cases": n, "columns": list(keys), **figures, "rows": rows}


def _clause(store: Store, ids: Sequence[int], form: str) -> tuple[int, str, str] | None:
    """The first of these articles whose text holds ``form``, its day, and the clause holding it, without
    parentheses (以下简称 …); a clause little longer than the form takes the next one along."""
    for article_id in ids:
        article = store.article(article_id)
        if article is None:
            continue
        for paragraph in article.paragraphs:
            # Parentheses go (以下简称…), except in the form itself (…指南（2025版）).
            text = _NOTE.sub("", paragraph.text.replace(form, "\0")).replace("\0", form)
            at = text.find(form)
            if at < 0:
                continue
            clauses = [(m.start(), m.end()) for m in _CLAUSE.finditer(text)]
            for i, (start, end) in enumerate(clauses):
                if start <= at < end:
                    if end - start < len(form) + 6 and i + 1 < len(clauses):
                        end = clauses[i + 1][1]
                    return article_id, article.day, text[start:end].strip()[:60]
    return None


def _rank(service: NewsService, question: Any, article_id: int) -> int | None:
    result = service.searcher.search(question, k=30)
    seen: list[int] = []
    for hit in result.hits:
        if hit.article.id not in seen:
            seen.append(hit.article.id)
        if hit.article.id == article_id:
            return len(seen)
    return None


def _text(r: dict[str, Any]) -> str:
    lines = [
        f"database {r['database']}: {r['articles']} articles",
        f"pairs mined: {r['pairs']} ({r['pairs_explicit']} explicit, {r['pairs_implicit']} implicit); "
        f"used to widen questions: {r['pairs_used']} ({r['used_explicit']} explicit, {r['used_implicit']} implicit)",
        "explicit patterns read: " + ", ".join(f"{k} {v}" for k, v in r["explicit_patterns"].items()),
        "",
        "top pairs (articles holding them; explicit: of which state it):",
    ]
    lines += [f"  {p['articles']:>4} {p['explicit']:>2}  {p['short']} → {p['long']}" for p in r["top"]]
    for key, title in (
        ("precision_used", "precision of the pairs used"),
        (
            "precision_sample_not_used",
            f"precision of {_SAMPLE_SIZE} pairs not used (random, seed {_SAMPLE_SEED})",
        ),
    ):
        f = r[key]
        lines += [
            "",
            f"{title}: {f['right']}/{f['judged']} = {f['precision']} ({f['pairs']} pairs, {f['judged']} judged)",
        ]
        lines += [f"  wrong: {w}" for w in f["wrong"]]
        if f["not_judged"]:
            lines.append(f"  not judged ({len(f['not_judged'])}), add them to the judgments file:")
            lines += [f"    {p}" for p in f["not_judged"]]
    for key, title in (
        ("short_vs_long_explicit", "the target: explicit pairs, the article stating the pair"),
        ("short_vs_long_implicit", "implicit pairs used, the first article holding the pair"),
        ("long_only_articles", "articles spelling only the long form, asked with the short one"),
        ("short_only_articles", "articles spelling only the short form, asked with the long one"),
    ):
        f = r[key]
        columns = f["columns"]
        lines += ["", f"{title} ({f['cases']}): " + ", ".join(f"R@1 {c} {f['r@1_' + c]}" for c in columns)]
        lines.append("  " + " ".join(f"{c:>13}" for c in columns))
        lines += [
            "  " + " ".join(f"{row[c]!s:>13}" for c in columns) + f"  {row['pair']}" for row in f["rows"]
        ]
    return "\n".join(lines)
