"""``similarity``: is the output closer in meaning to the good references than to the bad?

Texts are embedded by the process-wide embedder of the backend layer
(:mod:`harness.backends.embedder`: all-MiniLM-L6-v2, offline, loaded at most once per process
and only for texts whose embedding is not in the run store yet).
"""

from __future__ import annotations

from pydantic import Field

from harness.backends.embedder import get_embedder
from harness.scorer_api import Params, Score, ScoreInput, clamp01, scorer

# With no bad references there is nothing to compare against, so the output must reach
# this cosine similarity to its closest good reference (plus ``margin``).
ABSOLUTE_BAR = 0.5


# Below this cosine to every good reference an answer is off-topic, whatever the bad ones say:
# on TruthfulQA, another question's answer reaches 0.256 at the 95th percentile (median 0.08),
# while informative on-topic answers have a median of 0.73 (benchmarks/validate_scorers.py).
OFF_TOPIC_FLOOR = 0.3


class SimilarityParams(Params):
    good: list[str] = Field(min_length=1)
    bad: list[str] = []
    margin: float = 0.0
    floor: float = Field(OFF_TOPIC_FLOOR, ge=0.0, le=1.0)


def _quote(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= width else text[: width - 3] + "...")


def _prefetch(items: list[tuple[ScoreInput, SimilarityParams]]) -> None:
    texts = [t for inp, p in items for t in ((inp.output or "").strip(), *p.good, *p.bad) if t]
    if texts:
        get_embedder().prefetch(texts)


@scorer("similarity", params=SimilarityParams, needs="output", prepare=_prefetch)
def similarity(inp: ScoreInput, params: SimilarityParams) -> Score:
    """Output closer (max cosine, all-MiniLM-L6-v2) to a good reference than to any bad one.

    With bad references: passes iff best_good - best_bad > margin, and
    value = (1 + best_good - best_bad) / 2 clipped to [0, 1] (0.5 = a tie).
    Without: passes iff best_good >= 0.5 + margin, and value = best_good clipped to [0, 1].
    An empty output, or one below ``floor`` (default 0.3) to every good reference, is
    off-topic: it fails with value 0, so a tie between unrelated references is no pass.
    """
    output = (inp.output or "").strip()
    if not output:
        return Score(0.0, False, "empty output")
    refs = [*params.good, *params.bad]
    sims = get_embedder().similarities(output, refs)
    good_sims, bad_sims = sims[: len(params.good)], sims[len(params.good) :]
    g = max(range(len(good_sims)), key=good_sims.__getitem__)
    good_part = f"closest good {good_sims[g]:.2f} ({_quote(params.good[g])})"
    if good_sims[g] < params.floor:
        return Score(0.0, False, f"off-topic: {good_part} is below the floor {params.floor:g}")
    if not bad_sims:
        passed = good_sims[g] >= ABSOLUTE_BAR + params.margin
        bar = f"needs >= {ABSOLUTE_BAR + params.margin:.2f} with no bad references"
        return Score(clamp01(good_sims[g]), passed, f"{good_part}; {bar}")
    b = max(range(len(bad_sims)), key=bad_sims.__getitem__)
    diff = good_sims[g] - bad_sims[b]
    passed = diff > params.margin
    explanation = f"{good_part}, closest bad {bad_sims[b]:.2f} ({_quote(params.bad[b])})"
    if params.margin:
        explanation += f"; difference {diff:+.2f} needs > {params.margin:g}"
    return Score(clamp01((1.0 + diff) / 2.0), passed, explanation)
