"""Hostile feed files: hundreds of them among good ones never abort a build or crash `suggest`.

The generator below writes every kind of file the issue named (alias bombs at several sizes,
deep nesting in each field, bad tags, wrong types in every field, binary, UTF-16, BOMs, CRLF,
huge lines, empty files, unclosed front matter, names that are not UTF-8, dangling links and
link loops, whitespace titles, NaN/inf, U+2028...) beside good files. The build runs as a
user runs it, `python -m recommender build`, in a process capped at 1 GB of address space;
every good file must be indexed (exact ids), every bad one reported by name with its reason,
no traceback, in bounded time and memory. Each hostile text then goes to `suggest` on stdin.
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import child_env
from typer.testing import CliRunner

from recommender.cli import app, read_queries
from recommender.errors import RecommenderError

MEMORY_CAP = 1 << 30  # bytes of address space for the build process
TIME_TARGET = 30.0  # seconds for the whole hostile archive


@dataclass(frozen=True)
class Case:
    """One hostile file: its name (bytes: any name the file system takes), what it holds, the
    words its skip reason must contain, and where a link points (then ``data`` is unused)."""

    name: bytes
    data: bytes
    reason: str
    link_to: bytes | None = None


def doc(*lines: str) -> bytes:
    return ("---\n" + "\n".join(lines) + "\n---\n").encode("utf-8")


def _bomb(width: int, levels: int, use: str) -> bytes:
    lines = ["title: Bomb", "a0: &a0 [x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels + 1)]
    return doc(*lines, use.replace("TOP", f"*a{levels}"))


BOMB_USES = ["images: TOP", "images:\n  - url: u\n    data: TOP", "related: TOP",
             "related:\n  - title: R\n    images: TOP",
             "related:\n  - title: R\n    images:\n      - url: u\n        data: TOP",
             "topics: TOP", "title2: TOP", "excerpt: TOP", "provider: TOP", "quality: TOP",
             "# defined, never used"]
BOMB_SIZES = [(9, 4), (9, 5), (9, 6), (9, 7), (9, 8), (9, 9), (9, 12), (3, 8), (2, 12),
              (40, 2)]

# Where a value can sit: a top-level field, an image's value, a related entry's field.
FIELDS = {
    "title": "title: VALUE",
    "excerpt": "title: T\nexcerpt: VALUE",
    "date": "title: T\npublishedDateTime: VALUE",
    "url": "title: T\nwebUrl: VALUE",
    "provider": "title: T\nprovider: VALUE",
    "provider-name": "title: T\nprovider:\n  name: VALUE",
    "topics": "title: T\ntopics: VALUE",
    "topic": "title: T\ntopics:\n  - VALUE",
    "quality": "title: T\nquality: VALUE",
    "images": "title: T\nimages: VALUE",
    "image-value": "title: T\nimages:\n  - url: VALUE",
    "related": "title: T\nrelated: VALUE",
    "related-title": "title: T\nrelated:\n  - title: VALUE",
    "related-images": "title: T\nrelated:\n  - title: R\n    images: VALUE",
    "extra": "title: T\nextra: VALUE",
}
BAD_TAGS = ["!!timestamp notadate", "!!timestamp 2026-13-45", "2026-02-30", "!!int many",
            "!!float lots", "!!bool maybe", "!!str [a]", "!!seq x", "!!map x", "!!set x",
            "!!omap x", "!!python/object/apply:os.system ['true']", "!custom x"]

WRONG_TYPES = [
    ("title", "[a, b]", "title must be text, not list"),
    ("title", "{a: b}", "title must be text, not dict"),
    ("title", "true", "title must be text, not bool"),
    ("title", "~", "no title"),
    ("title", "!!binary aGVsbG8=", "title must be text, not bytes"),
    ("title", "!!set {a, b}", "title must be text, not set"),
    ("excerpt", "[a]", "excerpt must be text, not list"),
    ("excerpt", "{a: b}", "excerpt must be text, not dict"),
    ("excerpt", "false", "excerpt must be text, not bool"),
    ("date", "[2026-01-01]", "publishedDateTime must be a date, not list"),
    ("date", "{a: b}", "publishedDateTime must be a date, not dict"),
    ("date", "12", "publishedDateTime must be a date, not int"),
    ("date", "true", "publishedDateTime must be a date, not bool"),
    ("date", "yesterday", "is not an ISO 8601 date"),
    ("url", "[a]", "webUrl must be text, not list"),
    ("url", "{a: b}", "webUrl must be text, not dict"),
    ("url", '"http://[::1/a"', "is not a valid URL"),
    ("url", '"https://x.example:99999/a"', "is not a valid URL"),
    ("provider", "[a]", "provider must be a mapping"),
    ("provider", "12", "provider must be a mapping"),
    ("provider", "true", "provider must be a mapping"),
    ("provider-name", "[a]", "name must be text, not list"),
    ("provider-name", "{a: b}", "name must be text, not dict"),
    ("topics", "{a: b}", "topics must be a list of names"),
    ("topics", "12", "topics must be a list of names"),
    ("topics", "[[a]]", "topics must be a list of names"),
    ("topics", "[true]", "topics must be a list of names"),
    ("topics", "[{a: b}]", "topics must be a list of names"),
    ("quality", "high", "quality must be a number, not str"),
    ("quality", "[1]", "quality must be a number, not list"),
    ("quality", "true", "quality must be a number, not bool"),
    ("quality", "2026-01-01", "quality must be a number, not date"),
    ("images", "x", "images must be a list of mappings"),
    ("images", "[1]", "images must be a list of mappings"),
    ("images", "[[a]]", "images must be a list of mappings"),
    ("images", "{url: x}", "images must be a list of mappings"),
    ("image-value", "[a, b]", "images entry 1: url must be text, a number"),
    ("image-value", "[[a]]", "images entry 1: url must be text, a number"),
    ("image-value", "{a: b}", "images entry 1: url must be text, a number"),
    ("image-value", "2026-01-01", "not date"),
    ("image-value", "2026-01-01T10:00:00Z", "not datetime"),
    ("image-value", "!!binary aGVsbG8=", "not bytes"),
    ("image-value", "!!set {a}", "not set"),
    ("related", "3", "related must be a list of entries"),
    ("related", "x", "related must be a list of entries"),
    ("related", "{a: b}", "related must be a list of entries"),
    ("related", "[1]", "related entry 1 is not a mapping"),
    ("related", "[[a]]", "related entry 1 is not a mapping"),
    ("related", "[{excerpt: y}]", "related entry 1: no title"),
    ("related-title", "[a]", "related entry 1: title must be text"),
    ("related-title", '"  "', "related entry 1: no title"),
    ("related-images", "[[1]]", "related entry 1: images must be a list of mappings"),
    ("related-images", "[{url: [a]}]", "related entry 1: images entry 1: url must be text"),
]
NOT_FINITE = [(field, value) for field in ("quality", "image-value")
              for value in (".nan", ".NaN", ".inf", "-.inf", ".Inf")]
BLANK_TITLES = ['"   "', '"\\t"', '"\\u3000"', '"\\u2028"', '""', "''", '"\\n"', "|\n  \n",
                "' '"]


def _deep(levels: int, block: bool) -> str:
    if block:  # a block sequence of block sequences: "- - - x" on one line
        return "\n    " + "- " * levels + "x"
    return "[" * levels + "]" * levels


def hostile_cases() -> list[Case]:
    cases: list[Case] = []

    def add(name: str, data: bytes, reason: str) -> None:
        cases.append(Case(f"{len(cases):03d}-{name}.md".encode(), data, reason))

    for width, levels in BOMB_SIZES:
        for position, use in enumerate(BOMB_USES):
            add(f"bomb-{width}x{levels}-{position}", _bomb(width, levels, use),
                "aliases expand to more than 1000 values")
    mappings = ["m0: &m0 {k: v}"] + [
        f"m{i}: &m{i} {{{', '.join(f'k{j}: *m{i - 1}' for j in range(9))}}}" for i in range(1, 8)]
    add("bomb-mappings", doc("title: T", *mappings, "images: [*m7]"), "aliases expand")
    add("bomb-merge", doc("title: T", *mappings, "extra: {<<: *m7}"), "aliases expand")
    for name, text in [("self", "images: &r [*r]"), ("entry", "related: &r [{title: x, r: *r}]"),
                       ("mapping", "extra: &m {a: *m}")]:
        add(f"recursive-{name}", doc("title: T", text), "refers to a node that contains it")
    for field, template in FIELDS.items():
        for levels in (21, 50, 990, 5000):
            add(f"deep-{field}-{levels}", doc(template.replace("VALUE", _deep(levels, False))),
                "nest")
        for levels in (25, 990):
            add(f"deep-block-{field}-{levels}",
                doc(template.replace("VALUE", _deep(levels, True))), "nest")
    for field in ("title", "excerpt", "date", "quality", "image-value", "related-title",
                  "provider-name", "topic", "extra"):
        for number, tag in enumerate(BAD_TAGS):
            add(f"tag-{field}-{number}", doc(FIELDS[field].replace("VALUE", tag)),
                "invalid YAML at front-matter line")
    for number, (field, value, reason) in enumerate(WRONG_TYPES):
        add(f"type-{field}-{number}", doc(FIELDS[field].replace("VALUE", value)), reason)
    for field, value in NOT_FINITE:
        add(f"not-finite-{field}", doc(FIELDS[field].replace("VALUE", value)),
            "must be a finite number")
    for number, value in enumerate(BLANK_TITLES):
        add(f"blank-title-{number}", doc(f"title: {value}"), "no title")
    good_text = doc("title: Fine")
    for name, data, reason in [
        ("empty", b"", "no YAML front matter"),
        ("blank", b" \n\n\t\n", "no YAML front matter"),
        ("dashes-only", b"---\n", "not closed"),
        ("unclosed", b"---\ntitle: x\nexcerpt: y\n", "not closed"),
        ("unclosed-crlf", b"---\r\ntitle: x\r\n", "not closed"),
        ("cr-only", b"---\rtitle: x\r---\r", "no YAML front matter"),
        ("no-front-matter", b"title: x\n", "no YAML front matter"),
        ("not-a-mapping", b"---\n- a\n- b\n---\n", "not a mapping"),
        ("scalar", b"---\njust text\n---\n", "not a mapping"),
        ("two-documents", b"---\ntitle: a\n--- {title: b}\n---\n", "invalid YAML"),
        ("bad-syntax", b'---\ntitle: "x\nexcerpt: [\n---\n', "invalid YAML"),
        ("tab-indent", b"---\ntitle: x\nprovider:\n\tname: y\n---\n", "invalid YAML"),
        ("control-char", b"---\ntitle: a\x07b\n---\n", "invalid YAML"),
        ("late-nul", b"---\ntitle: x\nexcerpt: " + b"y" * 9000 + b"\x00\n---\n",
         "invalid YAML"),
        ("binary", bytes(range(256)) * 8, "binary file"),
        ("nul-start", b"\x00" + good_text, "binary file"),
        ("utf16-le", good_text.decode().encode("utf-16"), "UTF-16 text"),
        ("utf16-be", b"\xfe\xff" + good_text.decode().encode("utf-16-be"), "UTF-16 text"),
        ("utf32", good_text.decode().encode("utf-32"), "UTF-32 text"),
        ("utf16-no-bom", good_text.decode().encode("utf-16-le"), "binary file"),
        ("latin1", "---\ntitle: café\n---\n".encode("latin-1"), "not UTF-8"),
        ("cesu-surrogate", b"---\ntitle: \xed\xa0\x80\n---\n", "not UTF-8"),
        ("overlong", b"---\ntitle: \xc0\xaf\n---\n", "not UTF-8"),
        ("truncated-utf8", b"---\ntitle: caf\xc3", "not UTF-8"),
        ("surrogate-escape", b'---\ntitle: "\\ud800"\n---\n', "invalid YAML"),
        ("python-tag", b"---\ntitle: !!python/name:os.system ''\n---\n", "invalid YAML"),
        ("huge-file", b"---\ntitle: x\n---\n" + b"y" * (5 * 1024 * 1024), "over the 5 MB"),
        ("duplicate-anchor", b"---\ntitle: T\na: &x 1\nb: &x 2\n---\n", "invalid YAML"),
        ("undefined-alias", b"---\ntitle: *nowhere\n---\n", "invalid YAML"),
    ]:
        add(name, data, reason)
    for raw in (b"bad\xff.md", b"caf\xe9.md", b"\xed\xa0\x80.md", b"ok-\xc3.md"):
        cases.append(Case(raw, good_text, "the file name is not UTF-8"))
    for name, target, reason in [
        (b"dangling.md", b"missing.md", "dangling symbolic link"),
        (b"dangling-dir.md", b"nowhere/at/all.md", "dangling symbolic link"),
        (b"loop.md", b"loop.md", "symbolic link loop"),
        (b"ping.md", b"pong.md", "symbolic link loop"),
        (b"pong.md", b"ping.md", "symbolic link loop"),
    ]:
        cases.append(Case(name, b"", reason, link_to=target))
    return cases


def good_files() -> dict[str, bytes]:
    """Good articles, several in forms a careless reader might trip on: name -> content."""

    def article(i: int, *lines: str, title: str | None = None) -> bytes:
        return doc(f'title: "{title or f"Good article {i}"}"',
                   f'webUrl: "https://good.example/g{i}"', *lines)

    files = {f"good-{i:02d}.md": article(i, f'excerpt: "Plain excerpt {i}"') for i in range(20)}
    files["good-20.md"] = article(20).replace(b"\n", b"\r\n")  # CRLF
    files["good-21.md"] = b"\xef\xbb\xbf" + article(21)  # UTF-8 BOM
    files["good-22.md"] = article(22, 'excerpt: "Q&A with Johnson & Johnson, R&D & more"')
    files["good-23.md"] = article(23, "size: &size {width: 9, height: 9}",
                                  "images: [{url: a, <<: *size}, {url: b, <<: *size}]")
    files["good-24.md"] = article(24, title="Line\\u2028separated\\u2029title")
    files["good-25.md"] = article(25, "excerpt: " + "long " * 200_000)  # a 1 MB line
    files["good-26.md"] = article(26, *(f"key{k}: {k}" for k in range(20_000)))
    files["good-27.md"] = article(27, "quality: 0", "topics: [AI, 7]",
                                  "images: [{url: x, title: ~, isCached: false}]")
    files["good-28.md"] = article(28, "publishedDateTime: 2026-01-01", "extra: " + "[" * 15
                                  + "]" * 15)
    files["good-29.txt"] = article(29, "provider: {name: P, domain: p.example}")
    return files


GOOD_IDS = {f"https://good.example/g{i}" for i in range(30)}


def write_archive(folder: Path) -> dict[str, Case]:
    """The hostile archive; returns each bad file's name as the build prints it -> its case."""
    folder.mkdir(parents=True)
    for name, data in good_files().items():
        (folder / name).write_bytes(data)
    shown = {}
    base = os.fsencode(folder)
    for case in hostile_cases():
        path = base + b"/" + case.name
        if case.link_to is not None:
            os.symlink(case.link_to, path)
        else:
            with open(path, "wb") as handle:
                handle.write(case.data)
        shown[(base + b"/" + case.name).decode("utf-8", "backslashreplace")] = case
    return shown


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def run_capped(args: list[str], folder: Path) -> tuple[int, str, str, float, int]:
    """``python -m recommender ARGS`` under the memory cap: exit code, stdout, stderr,
    wall seconds, peak RSS in bytes."""
    out, err = folder / "stdout", folder / "stderr"
    env = child_env()
    started = time.perf_counter()
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "recommender", *args], env=env,
                                   stdout=stdout, stderr=stderr, preexec_fn=_cap_memory)
        _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return (process.returncode, out.read_text("utf-8"), err.read_text("utf-8"), elapsed,
            usage.ru_maxrss * 1024)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Case]]:
    folder = tmp_path_factory.mktemp("hostile")
    return folder, write_archive(folder / "feed")


def test_the_campaign_is_big_enough() -> None:
    cases = hostile_cases()
    assert len(cases) >= 250
    assert len({c.name for c in cases}) == len(cases)


@pytest.mark.slow
@pytest.mark.campaign
def test_a_build_of_the_hostile_archive_indexes_every_good_file_and_reports_every_bad_one(
        hostile: tuple[Path, dict[str, Case]]) -> None:
    folder, cases = hostile
    index = folder / "index"
    code, stdout, stderr, elapsed, peak = run_capped(
        ["build", str(folder / "feed"), "--index", str(index), "--model", "hashing"], folder)
    print(f"\nhostile build: {len(cases)} bad + {len(GOOD_IDS)} good files, "
          f"{elapsed:.2f} s, peak RSS {peak / 2**20:.0f} MB (cap {MEMORY_CAP / 2**30:.0f} GB)")
    assert "Traceback" not in stderr
    assert code == 0, stderr[-2000:]
    assert stdout.startswith(f"Indexed {len(GOOD_IDS)} articles ({len(GOOD_IDS)} files + 0 "
                             "related entries;")
    skipped = {}
    for line in stderr.splitlines():
        assert line.startswith("Skipped "), line  # nothing else is said, no traceback
        name, _, reason = line.removeprefix("Skipped ").partition(": ")
        skipped[name] = reason
    assert set(skipped) == set(cases)
    wrong = {name: (skipped[name], case.reason) for name, case in cases.items()
             if case.reason not in skipped[name]}
    assert wrong == {}
    rows = [json.loads(line) for line in (index / "candidates.jsonl").open(encoding="utf-8")]
    assert sorted(r["id"] for r in rows) == sorted(GOOD_IDS)
    assert {r["kind"] for r in rows} == {"file"}
    titles = {r["id"]: r["title"] for r in rows}
    assert titles["https://good.example/g24"] == "Line separated title"
    assert elapsed <= TIME_TARGET and peak <= MEMORY_CAP


@pytest.mark.slow
@pytest.mark.campaign
def test_strict_fails_on_the_first_bad_file_with_one_line(
        hostile: tuple[Path, dict[str, Case]]) -> None:
    folder, cases = hostile
    code, stdout, stderr, _, _ = run_capped(
        ["build", str(folder / "feed"), "--index", str(folder / "strict"), "--model", "hashing",
         "--strict"], folder)
    assert (code, stdout) == (1, "")
    assert stderr.count("\n") == 1 and stderr.startswith("Error: ")
    named = [case for name, case in cases.items() if stderr.endswith(f", {name}.\n")]
    assert len(named) == 1 and named[0].reason in stderr
    assert not (folder / "strict").exists()


def test_no_articles_found_names_the_reasons(tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "a.md").write_bytes(doc('title: "  "'))
    (feed / "b.md").write_bytes(_bomb(9, 9, "images: TOP"))
    result = CliRunner().invoke(app, ["build", str(feed), "--index", str(tmp_path / "ix"),
                                      "--model", "hashing"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: no articles found (2 unreadable files: {feed / 'a.md'}: no title; "
        f"{feed / 'b.md'}: YAML refused at front-matter line 5: aliases expand to more than "
        f"1000 values (an alias bomb?)), {feed}. Point at feed files (.md, .txt, .yaml, .yml) "
        "with front matter\n")


@pytest.mark.campaign
def test_parsing_on_every_core_gives_the_same_reports(
        hostile: tuple[Path, dict[str, Case]], monkeypatch: pytest.MonkeyPatch) -> None:
    import recommender.articles as articles

    folder, cases = hostile
    serial = articles.load_articles(folder / "feed")
    monkeypatch.setattr(articles, "PARALLEL_FROM", 10)
    parallel = articles.load_articles(folder / "feed")
    assert sorted(a.id for a in parallel.articles) == sorted(GOOD_IDS)
    assert parallel.articles == serial.articles
    assert [(str(e.path), e.reason) for e in parallel.errors] == [
        (str(e.path), e.reason) for e in serial.errors]
    assert {str(e.path) for e in parallel.errors} == set(cases)


def _stdin_is_an_article(data: bytes) -> bool:
    """What `suggest` makes of standard input: front matter (validated like a file) when the
    text starts with `---`, else a plain title; bytes that are not UTF-8 text are an error."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return "\x00" in text or text.lstrip("\ufeff").startswith("---") or not text.strip()


@pytest.mark.campaign
def test_suggest_on_stdin_gives_a_clean_error_for_every_hostile_text(
        hostile: tuple[Path, dict[str, Case]], monkeypatch) -> None:
    """Every text goes through what `suggest` does with stdin (read_queries): it gives an
    article or raises RecommenderError, the one kind the CLI prints as one `Error:` line;
    anything else would be a traceback. A sample goes through the whole command."""
    folder, cases = hostile
    index = folder / "stdin-index"
    good = folder / "good-only"
    good.mkdir()
    (good / "a.md").write_bytes(doc('title: "Good"', 'webUrl: "https://good.example/a"'))
    runner = CliRunner()
    assert runner.invoke(app, ["build", str(good), "--index", str(index), "--model",
                               "hashing"]).exit_code == 0
    texts = [case for case in cases.values()
             if case.link_to is None and case.data != doc("title: Fine")]
    for case in texts:  # links and names are not texts; a good text with a bad name is good
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(case.data)))
        try:
            read_queries([], None, None, strict=False)
            refused = False
        except RecommenderError as exc:
            refused = True
            assert str(exc).endswith("<stdin>.") or "query has no title" in str(exc)
        assert refused == _stdin_is_an_article(case.data), case.name
    for case in texts[::12]:
        result = runner.invoke(app, ["suggest", "--index", str(index)], input=case.data)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            case.name, result.exception)
        assert "Traceback" not in result.output
        if _stdin_is_an_article(case.data):
            assert result.exit_code == 1, (case.name, result.output)
            lines = result.stderr.splitlines()
            assert len(lines) == 1 and lines[0].startswith("Error: "), (case.name, lines)
        else:  # a plain title
            assert result.exit_code == 0, (case.name, result.output)
    assert len(texts) >= 250
