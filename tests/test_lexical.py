from __future__ import annotations

import numpy as np
import pytest

from recommender.lexical import Bm25Scorer, build_bm25, tokenize

TEXTS = [
    "Harbor city bans delivery drones over parks",
    "Council vote grounds park drones in the harbor city",
    "Chipmaker opens solar powered fab in the desert",
    "",
    "Drones drones drones everywhere",
]


def test_tokenize_lowercases_and_drops_stop_words() -> None:
    assert tokenize("The Harbor's drones, and 2 parks!") == ["harbor", "drones", "parks"]


@pytest.mark.parametrize("query", ["drones over the harbor", "solar fab", "nothing matches",
                                   "drones drones park"])
def test_numpy_scores_equal_bm25s_scores(tmp_path, query) -> None:
    import bm25s

    build_bm25(TEXTS, tmp_path / "bm25")
    ours = Bm25Scorer(tmp_path / "bm25")
    theirs = bm25s.BM25.load(str(tmp_path / "bm25"))
    words = list(dict.fromkeys(tokenize(query)))
    expected = (theirs.get_scores([w for w in words if w in theirs.vocab_dict])
                if any(w in theirs.vocab_dict for w in words) else np.zeros(len(TEXTS)))
    assert np.allclose(ours.scores(query), expected, atol=1e-6)
    assert ours.scores(query).shape == (len(TEXTS),)
