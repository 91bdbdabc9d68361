"""Hold-out discipline: no training prompt may leak into the suites that judge the adapter.

Three checks, all between the training data files (``training/data/*.jsonl``, any format
:mod:`harness.training_data` reads) and the suite cases (``suites/*.yaml``):

* exact overlap: the same prompt after normalisation (case, punctuation, whitespace);
* near-duplicates: cosine similarity of all-MiniLM-L6-v2 embeddings above a threshold,
  so a paraphrase of a suite prompt in the training data is caught too;
* TruthfulQA: no question of the evaluation split (odd rows) may occur in training data.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import HarnessError
from harness.schema import Suite

DEFAULT_THRESHOLD = 0.9


@dataclass(frozen=True)
class Text:
    """One prompt and where it came from (``where`` = ``file:line``, ``case`` = case id or '')."""

    where: str
    text: str
    case: str = ""


@dataclass(frozen=True)
class Overlap:
    training: Text
    suite: Text | None  # None: a TruthfulQA evaluation question
    kind: str  # "exact", "near" or "truthfulqa"
    cosine: float | None = None

    def __str__(self) -> str:
        if self.suite is None:
            return f"{self.training.where} ~ TruthfulQA evaluation question {self.training.case} (exact)"
        score = f"cos={self.cosine:.2f}" if self.cosine is not None else "exact"
        return f"{self.training.where} ~ {self.suite.where} ({self.suite.case}) {score}"


@dataclass
class HoldoutReport:
    overlaps: list[Overlap] = field(default_factory=list)
    n_training: int = 0
    n_suite: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.overlaps

    def summary(self, limit: int = 20) -> str:
        head = (f"hold-out check: {len(self.overlaps)} overlap(s) between {self.n_training} training prompts "
                f"and {self.n_suite} suite prompts")
        lines = [head, *(f"  {o}" for o in self.overlaps[:limit])]
        if len(self.overlaps) > limit:
            lines.append(f"  ... and {len(self.overlaps) - limit} more")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)


def normalise(text: str) -> str:
    """Lower case, punctuation dropped, whitespace collapsed.

    >>> normalise("  What's the  BEST stock?! ")
    'what s the best stock'
    """
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())


def _shown(path: Path) -> str:
    """A path relative to the working directory when it lies below it (as users type it)."""
    try:
        return os.path.relpath(path) if not os.path.relpath(path).startswith("..") else str(path)
    except ValueError:
        return str(path)


def training_files(paths: Sequence[str | Path]) -> list[Path]:
    """JSONL files named directly, or every ``*.jsonl`` below the named directories."""
    found: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found.extend(sorted(path.rglob("*.jsonl")))
        elif path.is_file():
            found.append(path)
        else:
            raise HarnessError(
                f"{name}: no such training data file or directory. The hold-out check compares the adapter's "
                "training prompts with the suites' (a leaked prompt makes a pass meaningless): name the data the "
                "adapter was trained on with --training FILE_OR_DIR ..."
            )
    return found


def training_prompts(paths: Sequence[str | Path]) -> list[Text]:
    """The user-visible prompt of every row of every training file (a malformed row is an error)."""
    from harness.training_data import prompt_texts, read_data_file

    out = []
    for path in training_files(paths):
        # every row must parse: a hold-out check that skips rows could miss a leaked prompt
        data = read_data_file(path, skip_invalid=False, display=_shown(path))
        out.extend(Text(f"{_shown(path)}:{line}", text) for line, text in prompt_texts(data))
    return out


def case_text(prompt: str | None, messages: list | None) -> str:
    """What the model is asked: the user turns, or the question inside a TruthfulQA MC prompt."""
    from harness.sources.truthfulqa import QA_PREAMBLE

    if messages:
        return "\n".join(m.content for m in messages if m.role == "user")
    text = prompt or ""
    if text.startswith(QA_PREAMBLE):  # the few-shot preamble is the same in every MC case
        text = text[len(QA_PREAMBLE):].strip().removeprefix("Q:").removesuffix("A:").strip()
    return text


def suite_prompts(paths: Sequence[str | Path], loaded: Sequence[Suite] | None = None) -> tuple[list[Text], list[str]]:
    """(prompts of every suite case, notes on suites skipped for lack of data); ``loaded`` avoids re-reading."""
    from harness.loader import load_suites

    out: list[Text] = []
    notes = []
    for suite in loaded if loaded is not None else load_suites([str(p) for p in paths]):
        if suite.skip_reason:
            notes.append(f"{suite.path}: not checked ({suite.skip_reason[:120]})")
        seen = set()
        for case in suite.cases:
            text = case_text(case.prompt, case.messages)
            if text and text not in seen:  # MC and generation cases share one question
                seen.add(text)
                out.append(Text(f"{_shown(Path(suite.path))}:{case.line}", text, case.id))
    return out, notes


def truthfulqa_eval_questions(base_dir: Path) -> list[str] | None:
    """The evaluation-split (odd rows) questions, or None when no TruthfulQA data is available."""
    from harness.sources import SourceUnavailable
    from harness.sources.truthfulqa import load_rows, split_indices
    from harness.sources.truthfulqa_pairs import TruthfulQATrainParams, resolve_dir

    directory = resolve_dir(TruthfulQATrainParams(), base_dir)
    try:
        generation, _ = load_rows(str(directory) if directory else None, base_dir)
    except SourceUnavailable:
        return None
    return [generation[i]["question"] for i in split_indices(len(generation), "eval")]


def find_overlaps(
    training: Sequence[Text],
    suites: Sequence[Text],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    eval_questions: Sequence[str] = (),
) -> list[Overlap]:
    """Exact, near-duplicate (cosine > threshold) and TruthfulQA-evaluation overlaps."""
    found: list[Overlap] = []
    by_norm: dict[str, list[Text]] = {}
    for s in suites:
        by_norm.setdefault(normalise(s.text), []).append(s)
    exact_pairs = set()
    for t in training:
        for s in by_norm.get(normalise(t.text), []):
            found.append(Overlap(t, s, "exact"))
            exact_pairs.add((t.where, s.where, s.case))
    questions = {normalise(q): q for q in eval_questions}
    for t in training:
        if normalise(t.text) in questions:
            found.append(Overlap(Text(t.where, t.text, repr(questions[normalise(t.text)][:60])), None, "truthfulqa"))
    if training and suites:
        from harness.backends.embedder import get_embedder

        embedder = get_embedder()
        # Each distinct text is encoded once, in one batch (preference files repeat prompts).
        unique = list(dict.fromkeys([*(t.text for t in training), *(s.text for s in suites)]))
        vectors = embedder.encode(unique)
        row = {text: i for i, text in enumerate(unique)}
        train_vecs = vectors[[row[t.text] for t in training]]
        suite_vecs = vectors[[row[s.text] for s in suites]]
        sims = train_vecs @ suite_vecs.T
        for i, j in (sims > threshold).nonzero().tolist():
            t, s = training[i], suites[j]
            if (t.where, s.where, s.case) not in exact_pairs:
                found.append(Overlap(t, s, "near", float(sims[i, j])))
    return found


def check_holdout(
    training: Sequence[str | Path] = ("training/data",),
    suites: Sequence[str | Path] = ("suites",),
    *,
    threshold: float = DEFAULT_THRESHOLD,
    truthfulqa_dir: Path | None = None,
    loaded_suites: Sequence[Suite] | None = None,
) -> HoldoutReport:
    """Run the three checks over files/directories; the report lists each offending pair."""
    if not 0.0 < threshold <= 1.0:
        raise HarnessError(f"hold-out similarity threshold must be in (0, 1], got {threshold}")
    train = training_prompts(training)
    cases, notes = suite_prompts(suites, loaded_suites)
    base = truthfulqa_dir or Path(suites[0] if Path(suites[0]).is_dir() else Path(suites[0]).parent)
    questions = truthfulqa_eval_questions(base)
    if questions is None:
        notes.append("TruthfulQA data not available: the evaluation-split question check was skipped")
    overlaps = find_overlaps(train, cases, threshold=threshold, eval_questions=questions or ())
    return HoldoutReport(overlaps, len(train), len(cases), notes)
