from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import DATA, feed_file
from typer.testing import CliRunner

from recommender.articles import parse_front_matter
from recommender.cli import app

runner = CliRunner()
NEW = sorted((DATA / "new").glob("*.md"))


def run(*args: str, input: str | None = None):
    return runner.invoke(app, [str(a) for a in args], input=input)


@pytest.fixture(scope="module")
def built_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("cli") / "ix"
    result = run("build", DATA, "--index", target, "--model", "hashing")
    assert result.exit_code == 0, result.output
    assert "Indexed" in result.stdout and "encoded" in result.stdout
    return target


@pytest.fixture
def index(built_once: Path, tmp_path: Path) -> Path:
    """A private copy of one build of data/: tests may add to it or damage it."""
    # The index is a link to a generation folder beside it: copy the folder holding both.
    shutil.copytree(built_once.parent, tmp_path / "copy", symlinks=True)
    return tmp_path / "copy" / built_once.name


def test_suggest_yaml_is_a_related_list_in_the_feed_schema(index: Path) -> None:
    result = run("suggest", NEW[0], "--index", index, "-k", "3")
    assert result.exit_code == 0, result.output
    related = yaml.safe_load(result.stdout)["related"]
    assert len(related) == 3
    assert {"title", "publishedDateTime", "webUrl", "provider"} <= set(related[0])
    assert set(related[0]["provider"]) == {"name", "domain"}


def test_suggest_json_for_a_folder(index: Path) -> None:
    result = run("suggest", DATA / "new", "--index", index, "--format", "json", "-k", "4",
                 "--explain")
    assert result.exit_code == 0, result.output
    objects = json.loads(result.stdout)
    assert [o["input"] for o in objects] == [str(p) for p in NEW]
    for obj in objects:
        assert obj["webUrl"].startswith("https://")
        assert len(obj["related"]) == 4
        assert all("score" in r and "explain" in r for r in obj["related"])
        assert obj["webUrl"] not in [r["webUrl"] for r in obj["related"]]


def test_suggest_table_and_title_query(index: Path) -> None:
    result = run("suggest", "--index", index, "--title", "Robotaxi permits suspended",
                 "--excerpt", "Port Alder paused Wayline", "-f", "table", "--explain")
    assert result.exit_code == 0, result.output
    assert "score" in result.stdout and "shared words" in result.stdout


def test_suggest_reads_stdin(index: Path) -> None:
    result = run("suggest", "--index", index, "-f", "json", input=NEW[0].read_text())
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["webUrl"].startswith("https://")


def test_write_and_dry_run(index: Path, tmp_path: Path) -> None:
    target = tmp_path / NEW[0].name
    original = NEW[0].read_text()
    target.write_text(original)
    dry = run("suggest", target, "--index", index, "--write", "--dry-run", "-k", "2")
    assert dry.exit_code == 0 and "+related:" in dry.stdout and "1 would change" in dry.stdout
    assert target.read_text() == original
    wet = run("suggest", target, "--index", index, "--write", "-k", "2")
    assert wet.exit_code == 0 and "1 changed" in wet.stdout
    written = target.read_text()
    assert written.startswith(original[: original.rindex("---")])
    again = run("suggest", target, "--index", index, "--write", "-k", "2")
    assert "0 changed" in again.stdout and target.read_text() == written


def test_errors_are_one_line_with_exit_1(tmp_path: Path) -> None:
    result = run("suggest", NEW[0], "--index", tmp_path / "none")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no index at ")
    assert "recommender build" in result.stderr and "Traceback" not in result.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run("build", empty, "--index", tmp_path / "ix", "--model", "hashing")
    assert result.exit_code == 1 and result.stderr.startswith("Error: no articles found")
    result = run("build", DATA, "--index", tmp_path / "ix", "--model", "/no/such/model")
    assert result.exit_code == 1 and "unknown model" in result.stderr


def test_usage_errors_exit_2(index: Path) -> None:
    assert run("suggest", NEW[0], "--index", index, "--format", "xml").exit_code == 2
    assert run("suggest", "--index", index, "--write", "--title", "x").exit_code == 2
    assert run("build").exit_code == 2


def test_broken_files_are_reported_and_strict_fails(tmp_path: Path) -> None:
    archive = tmp_path / "a"
    feed_file(archive, "ok.md", "Fine article", url="https://x.example/ok")
    (archive / "bad.md").write_bytes(b"\xff\xfe binary-ish")
    result = run("build", archive, "--index", tmp_path / "ix", "--model", "hashing")
    assert result.exit_code == 0
    assert f"Skipped {archive / 'bad.md'}: not UTF-8 text" in result.stderr
    strict = run("build", archive, "--index", tmp_path / "ix2", "--model", "hashing",
                 "--strict")
    assert strict.exit_code == 1 and "not UTF-8" in strict.stderr


def test_add_command(index: Path, tmp_path: Path) -> None:
    new = feed_file(tmp_path / "n", "n.md", "A brand new article", url="https://x.example/n")
    result = run("add", new, "--index", index)
    assert result.exit_code == 0, result.output
    assert "1 encoded" in result.stdout


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = run("--debug", "suggest", NEW[0], "--index", tmp_path / "none")
    assert result.exit_code == 1 and result.exception is not None


def test_help_imports_nothing_heavy() -> None:
    code = ("import sys; from recommender.cli import app; from typer.testing import CliRunner;"
            "CliRunner().invoke(app, ['--help']); CliRunner().invoke(app, ['suggest', '--help']);"
            "heavy = {'numpy', 'torch', 'sentence_transformers', 'onnxruntime', 'faiss'};"
            "print(sorted(heavy & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_python_dash_m_entry_point() -> None:
    out = subprocess.run([sys.executable, "-m", "recommender", "--help"], capture_output=True,
                         text=True, check=True)
    assert "suggest" in out.stdout and "build" in out.stdout


def test_evaluate_prints_the_table_and_writes_the_report(index: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = run("evaluate", DATA, "--index", index, "--out", out, "--methods",
                 "recommender,dense,recency")
    assert result.exit_code == 0, result.output
    assert "| method | ndcg@10 |" in result.stdout and "| recency |" in result.stdout
    assert "0 texts encoded" in result.stderr  # every vector came from the index
    payload = json.loads((out / "results.json").read_text())
    assert {"queries", "reachable_queries", "ceiling", "k", "methods"} <= set(payload)
    assert set(payload["methods"]) == {"recommender", "dense", "recency"}
    assert (out / "report.html").read_text().startswith("<!DOCTYPE html>")


def test_evaluate_without_curated_lists_exits_1(index: Path) -> None:
    result = run("evaluate", DATA / "new", "--index", index)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no articles with curated related lists")


def six_curated(folder: Path) -> Path:
    related = [{"title": f"Curated {n}", "webUrl": f"https://c{n}.example/story",
                "date": f"2026-03-0{n}T10:00:00Z"} for n in range(1, 7)]
    return feed_file(folder, "six.md", "Veltrix Kestrel-9 chip sales climb",
                     "Veltrix says Kestrel-9 inference chip orders doubled.",
                     "2026-03-08T10:00:00Z", "https://x.example/six", "Desk", related=related)


def test_suggest_write_keeps_every_curated_entry(index: Path, tmp_path: Path) -> None:
    target = six_curated(tmp_path / "a")
    before = target.read_text()
    curated = before[before.index("related:"):before.index("---", 4)]
    result = run("suggest", target, "--index", index, "--write", "-k", "2")
    assert result.exit_code == 0, result.output
    assert target.read_text() == before  # 6 curated entries already fill k = 2
    assert result.stdout == ("1 file: 0 changed, 1 unchanged; 0 entries added, 0 updated, "
                             "0 removed; 6 curated entries kept.\n")
    result = run("suggest", target, "--index", index, "--write", "-k", "8")
    assert result.stdout == ("1 file: 1 changed, 0 unchanged; 2 entries added, 0 updated, "
                             "0 removed; 6 curated entries kept.\n")
    after = target.read_text()
    assert curated in after and len(parse_front_matter(after)["related"]) == 8
    result = run("suggest", target, "--index", index, "--write", "-k", "7")
    assert result.stdout == ("1 file: 1 changed, 0 unchanged; 0 entries added, 0 updated, "
                             "1 removed; 6 curated entries kept.\n")
    result = run("suggest", target, "--index", index, "--dry-run", "--replace", "-k", "1")
    # The one suggestion is the entry the product wrote before: neither added nor removed.
    assert result.stdout.endswith("1 file: 1 would change, 0 unchanged; 0 entries added, "
                                  "0 updated, 0 removed; 0 curated entries kept, "
                                  "6 removed (--replace).\n")
    assert "-  - title: \"Curated 1\"" in result.stdout


def test_suggest_dash_reads_the_article_from_stdin(index: Path) -> None:
    from_stdin = run("suggest", "-", "--index", index, "-f", "json", input=NEW[0].read_text())
    from_file = run("suggest", NEW[0], "--index", index, "-f", "json")
    assert from_stdin.exit_code == 0, from_stdin.output
    assert json.loads(from_stdin.stdout)[0]["related"] == \
        json.loads(from_file.stdout)[0]["related"]
    assert run("suggest", "-", "--index", index, "--write", input="x").exit_code == 2


@pytest.mark.parametrize("args", [
    ("build", DATA, "--backend", "foo"), ("build", DATA, "--vector-index", "ivf"),
    ("suggest", NEW[0], "--format", "csv"), ("suggest", NEW[0], "--exclude-url", "http://["),
    ("suggest", NEW[0], "--replace"), ("suggest", NEW[0], "-k", "0"),
    ("refresh", DATA, "--since", "7days"), ("evaluate", DATA, "--methods", "dense,foo"),
    ("evaluate", DATA, "--since", "2026-13-01"), ("evaluate", DATA, "--until", "soon"),
    ("evaluate", DATA, "--seed", "-1"), ("evaluate", DATA, "-k", "100000"),
    ("build", DATA, "--batch-size", "99999999999")])
def test_every_command_line_mistake_exits_2(index: Path, args: tuple) -> None:
    result = run(*args, "--index", index)
    assert result.exit_code == 2, result.output
    assert ("Traceback" not in result.output and "Invalid value" in result.output) \
        or "Error:" in result.output


def test_choice_errors_name_the_allowed_values(index: Path) -> None:
    result = run("build", DATA, "--index", index, "--backend", "foo")
    assert "'foo' is not one of auto, sentence-transformers" in result.output


def test_build_and_add_summaries_count_in_words(tmp_path: Path) -> None:
    one = feed_file(tmp_path / "a", "one.md", "A lone article", url="https://x.example/1")
    result = run("build", one, "--index", tmp_path / "ix", "--model", "hashing")
    assert result.stdout.startswith(
        f"Indexed 1 article (1 file + 0 related entries; 1 encoded, 0 reused) into "
        f"{tmp_path / 'ix'} in ")
    assert result.stderr == ""  # no progress bars (of the BM25 library either) off a terminal
    two = feed_file(tmp_path / "b", "two.md", "A second article", url="https://x.example/2",
                    related=[{"title": "Linked", "webUrl": "https://x.example/3"}])
    result = run("add", two, "--index", tmp_path / "ix")
    assert result.stdout.startswith(
        f"Added 1 file to {tmp_path / 'ix'}, which now holds 3 articles (2 files + 1 related "
        "entry; 2 encoded, 1 reused), in ")
    assert result.stderr == ""


def test_table_on_a_narrow_terminal_and_long_provider_names(tmp_path: Path) -> None:
    archive = tmp_path / "a"
    feed_file(archive, "x.md", "Robot barista opens cafe", url="https://x.example/1",
              provider="The Extremely Long Provider Name Gazette")
    assert run("build", archive, "--index", tmp_path / "ix", "--model", "hashing").exit_code == 0
    result = runner.invoke(app, ["suggest", "--index", str(tmp_path / "ix"), "--title",
                                 "Robot cafe", "-f", "table", "--explain"], env={"COLUMNS": "5"})
    assert result.exit_code == 0, result.output
    row = result.stdout.splitlines()[3]  # title, blank line, header, first row
    assert row.startswith("   1  0.") and "  The Extremely Long…   Ro" in row


def test_help_says_what_write_and_dry_run_do() -> None:
    for command in ("suggest", "refresh"):
        text = " ".join(run(command, "--help").stdout.split())
        assert "write nothing (with or without --write)" in text
        assert "--replace" in text and "entries the product did not write stay" in text
