"""The ``recommender`` command: parse arguments, call the library, print.

Heavy modules (numpy, onnxruntime, torch) are imported inside the commands that use them, so
``recommender --help`` starts in a fraction of a second.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from typer.core import TyperCommand

from recommender.defaults import DEFAULT_INDEX
from recommender.errors import RecommenderError

if TYPE_CHECKING:
    from recommender.articles import Article
    from recommender.errors import ArticleError
    from recommender.ranking import Filters

class _Command(TyperCommand):
    """Usage lines as people write them: ``PATH...``, not typer's ``{PATH...}``."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [piece.replace("{", "").replace("}", "")
                for piece in super().collect_usage_pieces(ctx)]


app = typer.Typer(
    help="Related-article recommender for news feeds: build an index of the archive, suggest "
         "related entries for new articles, evaluate against the curated lists.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
_state = {"debug": False}
F = TypeVar("F", bound=Callable[..., Any])

def _choice(*values: str) -> Callable[[str], str]:
    """A callback that accepts only ``values`` (a mistake exits 2, naming them)."""

    def check(value: str) -> str:
        if value not in values:
            raise typer.BadParameter(f"'{value}' is not one of {', '.join(values)}")
        return value

    return check


def _urls_callback(values: list[str] | None) -> list[str] | None:
    """Refuse a URL that cannot be read (exit 2), before any work is done."""
    from recommender.articles import canonical_url

    for value in values or ():
        try:
            canonical_url(value)
        except ValueError as exc:
            raise typer.BadParameter(f"cannot read the URL '{value}' ({exc})") from None
    return values


def _methods_callback(value: str) -> str:
    from recommender.defaults import METHODS

    for method in value.split(","):
        if method.strip() not in METHODS:
            raise typer.BadParameter(f"'{method.strip()}' is not one of {', '.join(METHODS)}")
    return value


def _date_callback(value: str | None) -> str | None:
    from recommender.articles import parse_datetime

    try:
        parse_datetime(value)
    except ValueError:
        raise typer.BadParameter(f"cannot read '{value}' as a date: use YYYY-MM-DD") from None
    return value


def _since_callback(value: str) -> str:
    from recommender.refresh import parse_since

    try:
        parse_since(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    return value


PathsArgument = Annotated[list[Path], typer.Argument(
    metavar="PATH...", help="Feed files or folders (searched recursively).")]
IndexOption = Annotated[Path, typer.Option("--index", help="Index directory.")]
StrictOption = Annotated[bool, typer.Option(
    "--strict", help="Fail (exit 1) on a file that cannot be read or written instead of "
                     "reporting and skipping it.")]
KOption = Annotated[int, typer.Option(
    "-k", min=1, max=1000, help="Suggestions per article; with --write, entries per related "
                                "list in all (editors' entries count, and always stay).")]
WindowDays = Annotated[float | None, typer.Option(
    min=0, help="Only candidates published within N days of the article.")]
OlderOnly = Annotated[bool, typer.Option(help="Only candidates published before the article.")]
Topics = Annotated[list[str] | None, typer.Option(
    "--topic", help="Only candidates with this topic (repeatable).")]
ExcludeProviders = Annotated[list[str] | None, typer.Option(
    "--exclude-provider", help="Never suggest this provider (name or domain; repeatable).")]
ExcludeUrls = Annotated[list[str] | None, typer.Option(
    "--exclude-url", help="Never suggest this URL (repeatable).", callback=_urls_callback)]
def _finite(value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"{value} is not a number that can be compared")
    return value


MinScore = Annotated[float | None, typer.Option(help="Drop suggestions scoring below this.",
                                                callback=_finite)]
Write = Annotated[bool, typer.Option("--write", help="Write the suggestions into each file's "
                                                     "related list (atomically).")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Show each file's change as a diff and "
                                                        "write nothing (with or without "
                                                        "--write).")]
Replace = Annotated[bool, typer.Option(
    "--replace", help="Replace the whole related list, editors' entries included. Without it, "
                      "entries the product did not write stay as they are.")]
LedgerOption = Annotated[Path | None, typer.Option(
    "--ledger", help="The record of the entries the product wrote (default: "
                     "$RECOMMENDER_LEDGER or ~/.local/state/recommender/written.jsonl).")]


def err(message: str) -> None:
    typer.echo(message, err=True)


def handles_errors(command: F) -> F:
    """Print a user's error as one line (``Error: what, where. What to do``), exit 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except RecommenderError as exc:
            if _state["debug"]:
                raise
            err(f"Error: {exc}")
            raise typer.Exit(1) from None
        except BrokenPipeError:
            # The reader went away (`recommender suggest ... | head`): nothing to tell anyone.
            # Point stdout at /dev/null so flushing it at exit does not fail a second time.
            with contextlib.suppress(OSError, ValueError):  # no file descriptor (tests)
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(1) from None
        except OSError as exc:
            if _state["debug"]:
                raise
            where = f", {exc.filename}" if exc.filename else ""
            err(f"Error: {exc.strerror or exc}{where}. Check the path and its permissions.")
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


@app.callback()
def main_options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    _state["debug"] = debug


def report_skipped(errors: list[ArticleError]) -> None:
    for error in errors:
        err(f"Skipped {error.path}: {error.reason}")


class _Bar:
    """A progress bar for long encodes (only on a terminal, only past a few batches)."""

    def __init__(self, label: str) -> None:
        self.label, self.bar = label, None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None and total >= 256 and sys.stderr.isatty():
            import click

            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self.bar.__enter__()
        if self.bar is not None:
            self.bar.update(done - self.bar.pos)
            if done >= total:
                self.bar.__exit__(None, None, None)
                self.bar = None


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 article``, ``2 articles``, ``1 related entry``, ``3 related entries``."""
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"


def _print_build(result: Any, started: float, added: bool = False) -> None:
    report_skipped(result.skipped)
    for duplicate, kept in result.duplicates:
        err(f"Note: {duplicate} is the same article as {kept} (same URL); indexed once")
    for note in result.notes:
        err(f"Note: {note}")
    m = result.manifest
    detail = (f"{plural(m['files'], 'file')} + "
              f"{plural(m['stubs'], 'related entry', 'related entries')}; "
              f"{result.encoded:,} encoded, {result.reused:,} reused")
    seconds = f"{time.perf_counter() - started:.1f} s"
    if added:
        typer.echo(f"Added {plural(result.files, 'file')} to {result.index}, which now holds "
                   f"{plural(m['count'], 'article')} ({detail}), in {seconds}.")
    else:
        typer.echo(f"Indexed {plural(m['count'], 'article')} ({detail}) into {result.index} "
                   f"in {seconds}.")


@app.command(cls=_Command)
@handles_errors
def build(
    paths: PathsArgument,
    index: IndexOption = DEFAULT_INDEX,
    model: Annotated[str, typer.Option(help="'default' (all-MiniLM-L6-v2), 'hashing', or a "
                                            "local sentence-transformers folder.")] = "default",
    batch_size: Annotated[int, typer.Option(min=1, max=4096,
                                            help="Texts per encoder batch.")] = 64,
    strict: StrictOption = False,
    approximate: Annotated[str, typer.Option(
        "--vector-index", callback=_choice("auto", "exact", "hnsw"),
        help="auto (exact up to 100k articles, HNSW above), exact or hnsw.")] = "auto",
    backend: Annotated[str, typer.Option(
        callback=_choice("auto", "sentence-transformers"),
        help="Encoder for the build: auto (ONNX export when possible) or "
             "sentence-transformers.")] = "auto",
) -> None:
    """Index an archive: every article file and every curated related entry."""
    from recommender.build import build_index

    started = time.perf_counter()
    result = build_index(paths, index, model=model, batch_size=batch_size, strict=strict,
                         kind=approximate, backend=backend, progress=_Bar("Encoding"),
                         on_wait=lambda: err(f"Waiting for another build of {index} to finish…"))
    _print_build(result, started)


@app.command(cls=_Command)
@handles_errors
def add(
    paths: Annotated[list[Path], typer.Argument(
        metavar="PATH...", help="New or changed feed files or folders.")],
    index: IndexOption = DEFAULT_INDEX,
    batch_size: Annotated[int, typer.Option(min=1, max=4096,
                                            help="Texts per encoder batch.")] = 64,
    strict: StrictOption = False,
) -> None:
    """Add new articles to an existing index without a rebuild (atomic, like build)."""
    from recommender.build import add_to_index

    started = time.perf_counter()
    result = add_to_index(paths, index, batch_size=batch_size, strict=strict,
                          progress=_Bar("Encoding"),
                          on_wait=lambda: err(f"Waiting for another build of {index} to finish…"))
    _print_build(result, started, added=True)


def read_queries(paths: list[Path], title: str | None, excerpt: str | None,
                 strict: bool) -> list[Article]:
    """Articles from files or folders, from --title/--excerpt, or from standard input."""
    from recommender.articles import (
        MAX_FILE_BYTES,
        Article,
        article_from_text,
        decode_text,
        load_articles,
    )
    from recommender.errors import ArticleError

    from_stdin = [str(p) for p in paths] == ["-"]  # `suggest -`: the article on stdin
    if paths and not from_stdin:
        loaded = load_articles(paths, strict=strict)
        report_skipped(loaded.errors)
        if not loaded.articles:
            raise RecommenderError("no readable articles", ", ".join(map(str, paths)),
                                   "Pass feed files (.md, .txt, .yaml) with front matter")
        return loaded.articles
    if title is None:
        if sys.stdin.isatty() and not from_stdin:
            raise typer.BadParameter("give files, --title (and --excerpt), or text on stdin")
        # Bytes, decoded as files are: stdin may be binary, UTF-16 or not UTF-8 at all.
        stdin = getattr(sys.stdin, "buffer", None)
        data = stdin.read(MAX_FILE_BYTES + 1) if stdin else sys.stdin.read().encode()
        if len(data) > MAX_FILE_BYTES:
            raise ArticleError("<stdin>", "the text is over the 5 MB limit")
        text = decode_text(data, "<stdin>")
        if text.lstrip("\ufeff").startswith("---"):
            return [article_from_text(text, "<stdin>")]
        title, _, excerpt = text.strip().partition("\n")
    if not title.strip():
        raise RecommenderError("the query has no title", "--title", "Give a non-empty title")
    return [Article(id="query:", title=title.strip(), excerpt=(excerpt or "").strip())]


def _filters(*, window_days: float | None, older_only: bool, topic: list[str] | None,
             exclude_provider: list[str] | None, exclude_url: list[str] | None,
             min_score: float | None) -> Filters:
    from recommender.ranking import Filters

    return Filters(window_days, older_only, tuple(topic or ()), tuple(exclude_provider or ()),
                   tuple(exclude_url or ()), min_score)


def _print_updates(updates: list[Any], *, dry_run: bool, show_diffs: bool, strict: bool,
                   what: str) -> None:
    """Diffs (with --dry-run), one line per file that could not be changed, the totals."""
    if show_diffs:
        for update in updates:
            if update.changed:
                typer.echo(update.diff, nl=False)
    failed = [u for u in updates if u.error is not None]
    for update in failed:
        err(f"Skipped {update.path}: {update.error}")
    changed = sum(u.changed for u in updates)
    unchanged = len(updates) - changed - len(failed)
    verb = "would change" if dry_run else "changed"
    kept = sum(u.curated_kept for u in updates)
    removed = sum(u.curated_removed for u in updates if u.changed)
    typer.echo(
        f"{what}: {changed:,} {verb}, {unchanged:,} unchanged"
        + (f", {len(failed):,} skipped" if failed else "")
        + f"; {plural(sum(len(u.added) for u in updates), 'entry', 'entries')} added, "
        f"{sum(len(u.updated) for u in updates):,} updated, "
        f"{sum(len(u.removed) for u in updates):,} removed; "
        f"{plural(kept, 'curated entry', 'curated entries')} kept"
        + (f", {removed:,} removed (--replace)" if removed else "") + ".")
    if failed and strict:
        raise RecommenderError(f"{plural(len(failed), 'file')} could not be changed",
                               "--strict", "Fix them (see the lines above) and run again")


@app.command(cls=_Command)
@handles_errors
def suggest(
    paths: Annotated[list[Path] | None, typer.Argument(
        metavar="[PATH]...", help="Article files or folders; '-' or none: an article on "
                                  "stdin (or --title/--excerpt).")] = None,
    index: IndexOption = DEFAULT_INDEX,
    k: KOption = 5,
    output_format: Annotated[str, typer.Option(
        "--format", "-f", callback=_choice("yaml", "json", "table"),
        help="yaml (the feed's related list), json or table.")] = "yaml",
    write: Write = False,
    dry_run: DryRun = False,
    replace: Replace = False,
    ledger: LedgerOption = None,
    title: Annotated[str | None, typer.Option(help="Query title (no file needed).")] = None,
    excerpt: Annotated[str | None, typer.Option(help="Query excerpt.")] = None,
    window_days: WindowDays = None,
    older_only: OlderOnly = False,
    topic: Topics = None,
    exclude_provider: ExcludeProviders = None,
    exclude_url: ExcludeUrls = None,
    min_score: MinScore = None,
    explain: Annotated[bool, typer.Option("--explain", help="Show each signal's share and the "
                                                            "shared words.")] = False,
    model: Annotated[str | None, typer.Option(help="Check the index was built with this "
                                                   "model.")] = None,
    strict: StrictOption = False,
) -> None:
    """Suggest related articles for new articles: print them, or write them into the files
    (editors' entries are kept unless --replace)."""
    from recommender import output
    from recommender.ranking import Ranker, make_queries
    from recommender.store import load_index

    files = [p for p in paths or () if str(p) != "-"]
    if (write or dry_run or replace) and not files:
        raise typer.BadParameter("--write, --dry-run and --replace need article files")
    if replace and not (write or dry_run):
        raise typer.BadParameter("--replace goes with --write or --dry-run")
    articles = read_queries(paths or [], title, excerpt, strict)
    loaded = load_index(index)
    encoder, note = loaded.query_encoder(model)
    if note:
        err(f"Note: {note}")
    filters = _filters(window_days=window_days, older_only=older_only, topic=topic,
                       exclude_provider=exclude_provider, exclude_url=exclude_url,
                       min_score=min_score)
    ranker = Ranker(loaded)
    queries = make_queries(articles, encoder)
    if write or dry_run:
        from recommender.ledger import Ledger
        from recommender.related import write_suggestions

        updates = write_suggestions(ranker, queries, k=k, filters=filters, replace=replace,
                                    dry_run=dry_run, ledger=Ledger(ledger))
        _print_updates(updates, dry_run=dry_run, show_diffs=dry_run, strict=strict,
                       what=plural(len(updates), "file"))
        return
    results = [(q.article, ranker.rank(q, k, filters)) for q in queries]
    if output_format == "json":
        typer.echo(output.as_json([output.as_json_object(a.path or "<query>", a.url, s, explain)
                                   for a, s in results]), nl=False)
        return
    for position, (article, suggestions) in enumerate(results):
        header = article.path or article.title
        if output_format == "table":
            typer.echo(output.as_table(header, suggestions, explain))
        else:
            if len(results) > 1:
                typer.echo(("\n" if position else "") + f"# {header}")
            typer.echo(output.as_yaml(suggestions, explain), nl=False)


@app.command(cls=_Command)
@handles_errors
def evaluate(
    paths: Annotated[list[Path], typer.Argument(
        metavar="PATH...", help="The archive: feed files or folders.")],
    index: Annotated[Path, typer.Option("--index", help="An index whose vectors are reused "
                                                        "(nothing it holds is re-encoded).")
                     ] = DEFAULT_INDEX,
    k: Annotated[int, typer.Option("-k", min=1, max=1000,
                                   help="Largest cut-off (metrics at 1, 5, k).")
                 ] = 10,
    methods: Annotated[str, typer.Option(help="Comma-separated: recommender, dense, bm25, "
                                              "recency, random.", callback=_methods_callback)
                       ] = "recommender,dense,bm25,recency,random",
    out: Annotated[Path | None, typer.Option(help="Folder for results.json and report.html.")
                   ] = None,
    since: Annotated[str | None, typer.Option(
        help="Only queries published on or after this date (YYYY-MM-DD); the pool stays "
             "whole.", callback=_date_callback)] = None,
    until: Annotated[str | None, typer.Option(
        help="Only queries published before this date (YYYY-MM-DD).",
        callback=_date_callback)] = None,
    seed: Annotated[int, typer.Option(min=0, max=2**63 - 1,
                                      help="Seed of the random baseline.")] = 0,
    model: Annotated[str | None, typer.Option(help="Model, if not the index's.")] = None,
    strict: StrictOption = False,
) -> None:
    """Evaluate suggestions against the curated related lists, with baselines beside."""
    from recommender.evaluate import evaluate as run_evaluation
    from recommender.evaluate import published_between
    from recommender.report import summary_markdown, write_results

    started = time.perf_counter()
    evaluation = run_evaluation(paths, index, k=k,
                                methods=[m.strip() for m in methods.split(",")],
                                strict=strict, seed=seed, model=model,
                                keep=published_between(since, until),
                                progress=_Bar("Encoding"))
    report_skipped(evaluation.skipped)
    typer.echo(summary_markdown(evaluation.results), nl=False)
    if out is not None:
        for path in write_results(evaluation.results, out):
            err(f"Wrote {path}")
    err(f"Evaluated in {time.perf_counter() - started:.1f} s ({evaluation.encoded} texts "
        "encoded).")


@app.command(cls=_Command)
@handles_errors
def refresh(
    paths: Annotated[list[Path], typer.Argument(
        metavar="PATH...", help="The archive: feed files or folders.")],
    index: IndexOption = DEFAULT_INDEX,
    since: Annotated[str, typer.Option(help="Window: 7d, 48h, 2w, or a date YYYY-MM-DD.",
                                       callback=_since_callback)] = "7d",
    relative_to: Annotated[str, typer.Option(
        callback=_choice("newest", "now"),
        help="A span counts back from the newest article (newest) or from now.")] = "newest",
    k: KOption = 5,
    write: Write = False,
    dry_run: DryRun = False,
    replace: Replace = False,
    keep_curated: Annotated[bool, typer.Option(
        "--keep-curated", hidden=True,
        help="Kept for old scripts: editors' entries are always kept now.")] = False,
    ledger: LedgerOption = None,
    output_format: Annotated[str, typer.Option(
        "--format", "-f", callback=_choice("text", "json"), help="text or json.")] = "text",
    window_days: WindowDays = None,
    older_only: OlderOnly = False,
    topic: Topics = None,
    exclude_provider: ExcludeProviders = None,
    exclude_url: ExcludeUrls = None,
    min_score: MinScore = None,
    strict: StrictOption = False,
) -> None:
    """Recompute the product's entries in the related lists of recently published articles
    (run after a rebuild; editors' entries are kept unless --replace)."""
    import json

    from recommender.ledger import Ledger
    from recommender.refresh import refresh as run_refresh

    if keep_curated and replace:
        raise typer.BadParameter("--keep-curated and --replace contradict each other")
    write = write and not dry_run  # --dry-run always wins: nothing is written
    started = time.perf_counter()
    result = run_refresh(
        paths, index=index, since=since, relative_to=relative_to, k=k,
        filters=_filters(window_days=window_days, older_only=older_only, topic=topic,
                         exclude_provider=exclude_provider, exclude_url=exclude_url,
                         min_score=min_score),
        write=write, replace=replace, strict=strict, ledger=Ledger(ledger))
    report_skipped(result.skipped)
    if output_format == "json":
        typer.echo(json.dumps({
            "summary": result.summary, "written": write,
            "articles": [{"path": u.path, "changed": u.changed, "added": u.added,
                          "updated": u.updated, "removed": u.removed,
                          "curated_kept": u.curated_kept,
                          "error": None if u.error is None else str(u.error)}
                         for u in result.updates]}, indent=2, ensure_ascii=False))
        return
    what = (f"{plural(len(result.updates), 'article')} published since "
            f"{result.summary['window_start']}")
    _print_updates(result.updates, dry_run=not write, show_diffs=dry_run, strict=strict,
                   what=what)
    err(f"Done in {time.perf_counter() - started:.1f} s.")
    if not write and not dry_run and any(u.changed for u in result.updates):
        err("Nothing was written: add --write to apply, or --dry-run to see the changes.")


def main() -> None:
    app(prog_name="recommender")


if __name__ == "__main__":
    main()
