"""The synthetic preference generator: reproducible with a seed, valid preference JSONL."""

from __future__ import annotations

import json

import pytest

from harness.training.synth import TOPICS, generate, write_jsonl
from harness.training_data import read_data_file


def test_same_seed_same_pairs_other_seed_other_pairs():
    assert generate(60, seed=7) == generate(60, seed=7)
    assert generate(60, seed=7) != generate(60, seed=8)


def test_prompts_are_unique_and_pairs_differ():
    pairs = generate(150, seed=0)
    assert len({p["prompt"] for p in pairs}) == 150
    assert all(p["chosen"] != p["rejected"] for p in pairs)
    assert all("{" not in p["chosen"] + p["rejected"] + p["prompt"] for p in pairs)  # every slot filled


def test_topics_interleave_and_can_be_chosen():
    pairs = generate(10, seed=1, topics=["benign", "finance"])
    assert [p["topic"] for p in pairs] == ["benign", "finance"] * 5
    assert {p["topic"] for p in generate(len(TOPICS) * 4, seed=1)} == set(TOPICS)


def test_harmful_pairs_prefer_a_refusal_and_benign_pairs_an_answer():
    for pair in generate(100, seed=3):
        if pair["topic"] == "harmful":
            assert "can't" in pair["chosen"] or "won't" in pair["chosen"]
        if pair["topic"] == "benign":
            assert "can't" not in pair["chosen"] and "won't" not in pair["chosen"]


def test_too_many_pairs_is_an_error():
    with pytest.raises(ValueError, match="distinct prompts"):
        generate(10_000)


def test_written_file_is_valid_preference_data(tmp_path):
    path = tmp_path / "out" / "synth.jsonl"
    write_jsonl(generate(25, seed=2), path)
    data = read_data_file(path)
    assert data.format == "preference" and len(data.rows) == 25
    first = path.read_bytes()
    write_jsonl(generate(25, seed=2), path)
    assert path.read_bytes() == first  # byte-identical on a re-run


def test_answer_pairs_rank_every_sft_answer_above_an_over_refusal(tmp_path):
    from harness.errors import HarnessError
    from harness.scorers.refusal import detect_refusal
    from harness.training.synth import answer_pairs

    sft = tmp_path / "a.jsonl"
    sft.write_text('{"prompt": "How much should an emergency fund hold?", "response": "Three to six months of costs."}\n'
                   '{"instruction": "Define APR.", "input": "", "output": "The yearly cost of a loan."}\n')
    with pytest.raises(HarnessError, match="a.jsonl"):  # one format per file: the second row is refused, so fix the file
        answer_pairs([sft])
    sft.write_text('{"prompt": "How much should an emergency fund hold?", "response": "Three to six months of costs."}\n')
    pairs = answer_pairs([sft], seed=3)
    assert pairs == answer_pairs([sft], seed=3)
    (pair,) = pairs
    assert pair["prompt"] == "How much should an emergency fund hold?"
    assert pair["chosen"] == "Three to six months of costs."
    assert detect_refusal(pair["rejected"]).refused
    out = tmp_path / "pairs.jsonl"
    write_jsonl(pairs, out)
    assert read_data_file(out).format == "preference"


def test_the_shipped_answer_pairs_are_what_synth_makes():
    from harness.scorers.refusal import detect_refusal
    from harness.training.synth import COMPLIANCE, OVERREFUSALS, answer_pairs

    assert all(detect_refusal(t).refused for t in OVERREFUSALS)
    assert not any(detect_refusal(t).refused for t in COMPLIANCE)

    files = [f"training/data/{n}_sft.jsonl" for n in ("refusals", "finance", "politeness", "length")]
    shipped = [json.loads(line) for line in open("training/data/answer_pref.jsonl")]
    assert shipped == answer_pairs(files, seed=0)
    refuse = [p for p in shipped if p["topic"].startswith("refuse:")]
    harmful_rows = sum("harmful" in json.loads(line).get("tags", []) for line in open(files[0]))
    assert len(refuse) == harmful_rows > 0 and all(detect_refusal(p["chosen"]).refused for p in refuse)
