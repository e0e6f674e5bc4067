"""The ``recommender`` command: parse arguments, call the library, print.

Heavy modules (numpy, onnxruntime, torch) are imported inside the commands that use them, so
``recommender --help`` starts in a fraction of a second.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from recommender.errors import RecommenderError

if TYPE_CHECKING:
    from recommender.articles import Article
    from recommender.errors import ArticleError
    from recommender.suggest import Filters

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

IndexOption = Annotated[Path, typer.Option("--index", help="Index directory.")]
StrictOption = Annotated[bool, typer.Option("--strict", help="Fail on the first broken file "
                                                             "instead of skipping it.")]
from recommender.defaults import DEFAULT_INDEX  # noqa: E402, I001 (store imports NumPy)
KOption = Annotated[int, typer.Option("-k", min=1, help="Suggestions per article.")]
WindowDays = Annotated[float | None, typer.Option(
    min=0, help="Only candidates published within N days of the article.")]
OlderOnly = Annotated[bool, typer.Option(help="Only candidates published before the article.")]
Topics = Annotated[list[str] | None, typer.Option(
    "--topic", help="Only candidates with this topic (repeatable).")]
ExcludeProviders = Annotated[list[str] | None, typer.Option(
    "--exclude-provider", help="Never suggest this provider (name or domain; repeatable).")]
ExcludeUrls = Annotated[list[str] | None, typer.Option(
    "--exclude-url", help="Never suggest this URL (repeatable).")]
MinScore = Annotated[float | None, typer.Option(help="Drop suggestions scoring below this.")]


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


def _print_build(result: Any, verb: str, started: float) -> None:
    report_skipped(result.skipped)
    for duplicate, kept in result.duplicates:
        err(f"Note: {duplicate} is the same article as {kept} (same URL); indexed once")
    for note in result.notes:
        err(f"Note: {note}")
    m = result.manifest
    typer.echo(f"{verb} {m['count']} articles ({m['files']} files + {m['stubs']} related "
               f"entries; {result.encoded} encoded, {result.reused} reused) into {result.index} "
               f"in {time.perf_counter() - started:.1f} s.")


@app.command()
@handles_errors
def build(
    paths: Annotated[list[Path], typer.Argument(help="Feed files or folders (recursive).")],
    index: IndexOption = DEFAULT_INDEX,
    model: Annotated[str, typer.Option(help="'default' (all-MiniLM-L6-v2), 'hashing', or a "
                                            "local sentence-transformers folder.")] = "default",
    batch_size: Annotated[int, typer.Option(min=1, help="Texts per encoder batch.")] = 64,
    strict: StrictOption = False,
    approximate: Annotated[str, typer.Option(
        "--vector-index", help="auto (exact up to 100k articles, HNSW above), exact or hnsw.")
    ] = "auto",
    backend: Annotated[str, typer.Option(
        help="Encoder for the build: auto (ONNX export when possible) or "
             "sentence-transformers.")] = "auto",
) -> None:
    """Index an archive: every article file and every curated related entry."""
    from recommender.build import build_index

    if approximate not in ("auto", "exact", "hnsw"):
        raise typer.BadParameter("choose auto, exact or hnsw", param_hint="--vector-index")
    started = time.perf_counter()
    result = build_index(paths, index, model=model, batch_size=batch_size, strict=strict,
                         kind=approximate, backend=backend, progress=_Bar("Encoding"),
                         on_wait=lambda: err(f"Waiting for another build of {index} to finish…"))
    _print_build(result, "Indexed", started)


@app.command()
@handles_errors
def add(
    paths: Annotated[list[Path], typer.Argument(help="New or changed feed files or folders.")],
    index: IndexOption = DEFAULT_INDEX,
    batch_size: Annotated[int, typer.Option(min=1)] = 64,
    strict: StrictOption = False,
) -> None:
    """Add new articles to an existing index without a rebuild (atomic, like build)."""
    from recommender.build import add_to_index

    started = time.perf_counter()
    result = add_to_index(paths, index, batch_size=batch_size, strict=strict,
                          progress=_Bar("Encoding"),
                          on_wait=lambda: err(f"Waiting for another build of {index} to finish…"))
    _print_build(result, "Index now holds", started)


def read_queries(paths: list[Path], title: str | None, excerpt: str | None,
                 strict: bool) -> list[Article]:
    """Articles from files or folders, from --title/--excerpt, or from standard input."""
    from recommender.articles import Article, article_from_fields, load_articles, parse_front_matter

    if paths:
        loaded = load_articles(paths, strict=strict)
        report_skipped(loaded.errors)
        if not loaded.articles:
            raise RecommenderError("no readable articles", ", ".join(map(str, paths)),
                                   "Pass feed files (.md, .txt, .yaml) with front matter")
        return loaded.articles
    if title is None:
        if sys.stdin.isatty():
            raise typer.BadParameter("give files, --title (and --excerpt), or text on stdin")
        text = sys.stdin.read()
        if text.lstrip("\ufeff").startswith("---"):
            try:
                return [article_from_fields(parse_front_matter(text, "<stdin>"), "<stdin>")]
            except ValueError as exc:
                raise RecommenderError(str(exc), "<stdin>") from None
        title, _, excerpt = text.strip().partition("\n")
    if not title.strip():
        raise RecommenderError("the query has no title", "--title", "Give a non-empty title")
    return [Article(id="query:", title=title.strip(), excerpt=(excerpt or "").strip())]


def _filters(window_days: float | None, older_only: bool, topic: list[str] | None,
             exclude_provider: list[str] | None, exclude_url: list[str] | None,
             min_score: float | None) -> Filters:
    from recommender.suggest import Filters

    return Filters(window_days, older_only, tuple(topic or ()), tuple(exclude_provider or ()),
                   tuple(exclude_url or ()), min_score)


@app.command()
@handles_errors
def suggest(
    paths: Annotated[list[Path] | None, typer.Argument(
        help="Article files or folders. Without any: --title/--excerpt, or stdin.")] = None,
    index: IndexOption = DEFAULT_INDEX,
    k: KOption = 5,
    output_format: Annotated[str, typer.Option("--format", "-f",
                                               help="yaml, json or table.")] = "yaml",
    write: Annotated[bool, typer.Option("--write", help="Write the related list into each "
                                                        "file (atomically).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="With --write: show the change, "
                                                            "write nothing.")] = False,
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
    """Suggest related articles for new articles: print them, or write them into the files."""
    from recommender import output
    from recommender.store import load_index
    from recommender.suggest import Ranker, make_queries
    from recommender.writeback import write_related

    if output_format not in output.FORMATS:
        raise typer.BadParameter("choose yaml, json or table", param_hint="--format")
    if (write or dry_run) and not paths:
        raise typer.BadParameter("--write and --dry-run need article files")
    articles = read_queries(paths or [], title, excerpt, strict)
    loaded = load_index(index)
    encoder, note = loaded.query_encoder(model)
    if note:
        err(f"Note: {note}")
    filters = _filters(window_days, older_only, topic, exclude_provider, exclude_url, min_score)
    ranker = Ranker(loaded)
    results = [(q.article, ranker.rank(q, k, filters)) for q in make_queries(articles, encoder)]
    if write or dry_run:
        changed = 0
        for article, suggestions in results:
            diff = write_related(article.path, [s.entry() for s in suggestions], dry_run)
            changed += bool(diff)
            if dry_run and diff:
                typer.echo(diff, nl=False)
        verb = "would change" if dry_run else "changed"
        typer.echo(f"{len(results)} files, {changed} {verb}, "
                   f"{len(results) - changed} already up to date.")
        return
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


@app.command()
@handles_errors
def evaluate(
    paths: Annotated[list[Path], typer.Argument(help="The archive: feed files or folders.")],
    index: Annotated[Path, typer.Option("--index", help="An index whose vectors are reused "
                                                        "(nothing it holds is re-encoded).")
                     ] = DEFAULT_INDEX,
    k: Annotated[int, typer.Option("-k", min=1, help="Largest cut-off (metrics at 1, 5, k).")
                 ] = 10,
    methods: Annotated[str, typer.Option(help="Comma-separated: recommender, dense, bm25, "
                                              "recency, random.")
                       ] = "recommender,dense,bm25,recency,random",
    out: Annotated[Path | None, typer.Option(help="Folder for results.json and report.html.")
                   ] = None,
    since: Annotated[str | None, typer.Option(
        help="Only queries published on or after this date (YYYY-MM-DD); the pool stays "
             "whole.")] = None,
    until: Annotated[str | None, typer.Option(
        help="Only queries published before this date (YYYY-MM-DD).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the random baseline.")] = 0,
    model: Annotated[str | None, typer.Option(help="Model, if not the index's.")] = None,
    strict: StrictOption = False,
) -> None:
    """Evaluate suggestions against the curated related lists, with baselines beside."""
    from recommender.evaluate import evaluate as run_evaluation
    from recommender.evaluate import published_between
    from recommender.report import summary_markdown, write_results

    started = time.perf_counter()
    evaluation = run_evaluation(paths, index, k, [m.strip() for m in methods.split(",")],
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


@app.command()
@handles_errors
def refresh(
    paths: Annotated[list[Path], typer.Argument(help="The archive: feed files or folders.")],
    index: IndexOption = DEFAULT_INDEX,
    since: Annotated[str, typer.Option(help="Window: 7d, 48h, 2w, or a date YYYY-MM-DD.")
                     ] = "7d",
    relative_to: Annotated[str, typer.Option(help="A span counts back from the newest "
                                                  "article (newest) or from now.")
                           ] = "newest",
    k: KOption = 5,
    write: Annotated[bool, typer.Option("--write", help="Write the new lists into the "
                                                        "files (atomically).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show a diff per changed "
                                                            "article; write nothing.")] = False,
    keep_curated: Annotated[bool, typer.Option(
        "--keep-curated", help="Keep the entries already listed, in their order; append new "
                               "ones up to k.")] = False,
    output_format: Annotated[str, typer.Option("--format", "-f", help="text or json.")
                             ] = "text",
    window_days: WindowDays = None,
    older_only: OlderOnly = False,
    topic: Topics = None,
    exclude_provider: ExcludeProviders = None,
    exclude_url: ExcludeUrls = None,
    min_score: MinScore = None,
    strict: StrictOption = False,
) -> None:
    """Recompute the related lists of recently published articles (run after a rebuild)."""
    import json

    from recommender.refresh import refresh as run_refresh

    if write and dry_run:
        raise typer.BadParameter("choose one of --write and --dry-run")
    if output_format not in ("text", "json"):
        raise typer.BadParameter("choose text or json", param_hint="--format")
    started = time.perf_counter()
    result = run_refresh(
        paths, index, since, relative_to, k,
        _filters(window_days, older_only, topic, exclude_provider, exclude_url, min_score),
        write=write, keep_curated=keep_curated, strict=strict)
    report_skipped(result.skipped)
    summary = result.summary
    if output_format == "json":
        typer.echo(json.dumps({"summary": summary, "written": write,
                               "articles": [a.as_dict() for a in result.articles]}, indent=2))
        return
    if dry_run:
        for change in result.articles:
            if change.changed:
                typer.echo(change.diff, nl=False)
    verb = "changed" if write else "would change"
    typer.echo(f"{summary['considered']} articles published since {summary['window_start']}: "
               f"{summary['changed']} {verb}, {summary['unchanged']} unchanged; "
               f"{summary['entries_added']} entries added, {summary['entries_removed']} "
               f"removed ({time.perf_counter() - started:.1f} s).")
    if not write and not dry_run and summary["changed"]:
        err("Nothing was written: add --write to apply, or --dry-run to see the changes.")


def main() -> None:
    app(prog_name="recommender")


if __name__ == "__main__":
    main()
