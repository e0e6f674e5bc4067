"""What a user of ``evaluate`` reads beyond the scores: errors, topics, defaults, leftovers."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from recommender.articles import Article
from recommender.errors import RecommenderError
from recommender.evaluate import evaluate, published_between, query_topic


@pytest.mark.parametrize(("topics", "topic"), [
    (("AI", "Robotics"), "Robotics"),      # the first topic that is not the generic one
    ((" ai ", "Chips", "Law"), "Chips"),    # 'AI' in any case and spacing is generic
    (("AI",), "AI"),                        # only the generic one: that one
    ((), "(no topic)"),
])
def test_a_query_is_filed_under_its_specific_topic(topics: tuple[str, ...], topic: str) -> None:
    assert query_topic(Article(id="https://x.example/a", title="A", topics=topics)) == topic


def test_an_unknown_method_names_the_choices(archive, tmp_path, encoder) -> None:
    with pytest.raises(RecommenderError) as caught:
        evaluate([archive], tmp_path / "ix", encoder=encoder, methods=["dense", "magic"])
    assert str(caught.value) == ("unknown method 'magic', --methods. Choose from recommender, "
                                 "dense, bm25, recency, random")


def test_no_curated_lists_names_the_paths(tmp_path: Path, encoder) -> None:
    from conftest import feed_file

    feed_file(tmp_path / "a", "x.md", "Lonely", url="https://x.example/a")
    feed_file(tmp_path / "b", "y.md", "Alone", url="https://x.example/b")
    with pytest.raises(RecommenderError) as caught:
        evaluate([tmp_path / "a", tmp_path / "b"], tmp_path / "ix", encoder=encoder)
    assert str(caught.value) == (
        f"no articles with curated related lists, {tmp_path / 'a'}, {tmp_path / 'b'}. "
        "Evaluation needs feed files whose related: list is not empty")


def test_a_bad_date_bound_says_which_option_and_how_to_write_it() -> None:
    with pytest.raises(RecommenderError) as caught:
        published_between(None, "yesterday")
    error = caught.value
    assert (error.where, error.fix) == ("--since/--until", "Use YYYY-MM-DD")
    assert "publishedDateTime" not in error.what and "'yesterday'" in error.what
    assert str(error) == f"{error.what}, --since/--until. Use YYYY-MM-DD"


def test_an_undated_article_is_in_no_date_range() -> None:
    undated = Article(id="https://x.example/a", title="A")
    for since, until in (("2026-01-10", None), (None, "2026-01-10")):
        keep = published_between(since, until)
        assert keep is not None and not keep(undated)
    assert published_between(None, None) is None


def test_defaults_are_k_10_and_seed_0(archive, tmp_path: Path, encoder) -> None:
    default = evaluate([archive], tmp_path / "ix", encoder=encoder).results
    explicit = evaluate([archive], tmp_path / "ix", encoder=encoder, k=10, seed=0).results
    other_seed = evaluate([archive], tmp_path / "ix", encoder=encoder, seed=1).results
    assert default.k == 10 and default.ks == [1, 5, 10]
    assert default.significance == explicit.significance
    assert default.significance != other_seed.significance  # the seed reaches the statistics


def test_the_temporary_pool_index_is_removed_and_progress_is_reported(
        archive, tmp_path: Path, encoder, monkeypatch: pytest.MonkeyPatch) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    calls: list[tuple[int, int]] = []
    evaluate([archive], tmp_path / "ix", encoder=encoder,
             progress=lambda done, total: calls.append((done, total)))
    assert list(scratch.iterdir()) == []
    assert calls and calls[-1] == (7, 7)  # every text of the 7-article pool encoded
