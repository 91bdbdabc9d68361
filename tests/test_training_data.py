"""Training data files: every format converts for TRL, every bad row is reported as file:line: field: message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import SuiteError
from harness.training_data import DataError, prompt_texts, read_data_file


def write(tmp_path: Path, lines: list, name: str = "data.jsonl") -> Path:
    """Rows as JSONL; a str item is written verbatim (for broken JSON and blank lines)."""
    path = tmp_path / name
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines), encoding="utf-8")
    return path


def error_of(path: Path, **kwargs) -> DataError:
    with pytest.raises(DataError) as info:
        read_data_file(path, **kwargs)
    assert isinstance(info.value, SuiteError)  # the CLI prints it as one located message
    return info.value


GOOD_SFT = {"prompt": "Name a primary colour.", "response": "Red."}


# ------------------------------------------------------------------ formats


def test_messages_become_prompt_completion(tmp_path):
    path = write(tmp_path, [{"messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "Bye"},
        {"role": "assistant", "content": "Goodbye!"},
    ], "id": "meta-is-ignored"}])
    data = read_data_file(path)
    assert data.format == "messages" and data.kind == "sft"
    (row,) = data.rows
    assert [m["content"] for m in row["prompt"]] == ["Be brief.", "Hi", "Hello!", "Bye"]
    assert row["completion"] == [{"role": "assistant", "content": "Goodbye!"}]


def test_prompt_response_and_alpaca(tmp_path):
    pr = read_data_file(write(tmp_path, [GOOD_SFT], "pr.jsonl"))
    assert pr.format == "prompt_response"
    assert pr.rows[0] == {"prompt": [{"role": "user", "content": "Name a primary colour."}],
                          "completion": [{"role": "assistant", "content": "Red."}]}
    alpaca = read_data_file(write(tmp_path, [
        {"instruction": "Summarise.", "input": "A long text.", "output": "Short."},
        {"instruction": "Say hi.", "input": "", "output": "Hi!"},
        {"instruction": "Say bye.", "output": "Bye!"},
    ], "alpaca.jsonl"))
    assert alpaca.format == "alpaca"
    assert [r["prompt"][0]["content"] for r in alpaca.rows] == ["Summarise.\n\nA long text.", "Say hi.", "Say bye."]


def test_text_and_both_preference_formats(tmp_path):
    text = read_data_file(write(tmp_path, [{"text": "Once upon a time."}], "t.jsonl"))
    assert text.format == "text" and text.rows == [{"text": "Once upon a time."}]
    pcr = read_data_file(write(tmp_path, [{"prompt": "Q?", "chosen": "Good.", "rejected": "Bad."}], "p.jsonl"))
    gb = read_data_file(write(tmp_path, [{"prompt": "Q?", "good": "Good.", "bad": "Bad."}], "g.jsonl"))
    assert (pcr.format, gb.format) == ("preference", "good_bad")
    assert pcr.rows == gb.rows == [{
        "prompt": [{"role": "user", "content": "Q?"}],
        "chosen": [{"role": "assistant", "content": "Good."}],
        "rejected": [{"role": "assistant", "content": "Bad."}],
    }]
    assert pcr.kind == gb.kind == "preference"


def test_blank_lines_are_skipped_and_lines_are_physical(tmp_path):
    data = read_data_file(write(tmp_path, ["", GOOD_SFT, "   ", GOOD_SFT]))
    assert data.lines == [2, 4]
    assert len(data.sha256) == 64
    assert prompt_texts(data) == [(2, "Name a primary colour."), (4, "Name a primary colour.")]


# ------------------------------------------------------------------ bad rows


def test_broken_json(tmp_path):
    err = error_of(write(tmp_path, [GOOD_SFT, '{"prompt": "Hi", "response": }']))
    assert str(err).startswith(f"{tmp_path / 'data.jsonl'}:2: invalid JSON:")
    assert err.line == 2


def test_missing_field(tmp_path):
    err = error_of(write(tmp_path, [GOOD_SFT, {"prompt": "Only a prompt", "response": "ok"}, {"response": "No prompt"}]))
    assert str(err).splitlines()[0] == f"{tmp_path / 'data.jsonl'}:3: prompt: required field is missing; add it"


def test_empty_field(tmp_path):
    err = error_of(write(tmp_path, [GOOD_SFT, {"prompt": "Hi", "response": "   "}]))
    assert str(err).splitlines()[0].endswith("data.jsonl:2: response: must not be empty")


def test_wrong_type(tmp_path):
    err = error_of(write(tmp_path, [{"prompt": "Q?", "chosen": "A", "rejected": 3}, {"prompt": "Q?", "chosen": "A", "rejected": "B"}]))
    assert str(err).splitlines()[0].endswith("data.jsonl:1: rejected: must be a string, got a number")
    err = error_of(write(tmp_path, [{"instruction": "Do it", "input": ["x"], "output": "Done"}], "a.jsonl"))
    assert "a.jsonl:1: input: must be a string (or left out), got a list" in str(err)


def test_not_an_object_and_not_utf8(tmp_path):
    err = error_of(write(tmp_path, [GOOD_SFT, "[1, 2]"]))
    assert "data.jsonl:2: each line must be a JSON object, got a list" in str(err)
    path = tmp_path / "latin.jsonl"
    path.write_bytes(json.dumps(GOOD_SFT).encode() + b"\n" + b'{"prompt": "caf\xe9", "response": "x"}\n')
    assert "latin.jsonl:2: not UTF-8 text" in str(error_of(path))


def test_messages_errors_name_the_message(tmp_path):
    rows = [
        {"messages": [{"role": "user", "content": "Hi"}, {"role": "bot", "content": "Hello"}]},
        {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": ""}]},
        {"messages": [{"role": "user", "content": "Hi"}]},
        {"messages": [{"role": "assistant", "content": "Hello"}]},
        {"messages": "Hi"},
        {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]},
    ]
    message = str(error_of(write(tmp_path, rows)))
    assert "data.jsonl:1: messages[1].role: must be one of system, user, assistant, got 'bot'" in message
    assert "data.jsonl:2: messages[1].content: must not be empty" in message
    assert "data.jsonl:3: messages[0].role: the last message must be the assistant's answer to learn" in message
    assert "data.jsonl:4: messages: needs a user message before the final assistant message" in message
    assert "data.jsonl:5: messages: must be a list of {role, content} objects, got a string" in message


def test_identical_chosen_and_rejected(tmp_path):
    err = error_of(write(tmp_path, [{"prompt": "Q?", "good": "Same.", "bad": " Same. "}]))
    assert "data.jsonl:1: bad: is identical to 'good'" in str(err)


def test_mixed_formats_in_one_file(tmp_path):
    rows = [GOOD_SFT, GOOD_SFT, {"prompt": "Q?", "chosen": "A", "rejected": "B"}]
    err = error_of(write(tmp_path, rows))
    assert err.line == 3
    assert "this row is 'preference' (prompt+chosen+rejected) but the file is 'prompt_response'" in str(err)


def test_unknown_format(tmp_path):
    err = error_of(write(tmp_path, [{"question": "Q?", "answer": "A"}]))
    assert "data.jsonl:1: cannot tell the data format from the keys (answer, question)" in str(err)


def test_no_valid_rows_is_refused_even_when_skipping(tmp_path):
    path = write(tmp_path, [{"prompt": "Hi", "response": ""}, "{oops"])
    err = error_of(path, skip_invalid=True)
    assert "no valid rows" in str(err)
    assert "data.jsonl:1: response: must not be empty" in str(err) and "data.jsonl:2: invalid JSON" in str(err)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n", encoding="utf-8")
    assert "no rows: the file is empty" in str(error_of(path))


def test_missing_file(tmp_path):
    assert "cannot read training data" in str(error_of(tmp_path / "nope.jsonl"))


def test_all_bad_rows_are_collected_and_capped(tmp_path):
    rows = [GOOD_SFT] + [{"prompt": f"Q{i}", "response": ""} for i in range(14)]
    message = str(error_of(write(tmp_path, rows)))
    lines = message.splitlines()
    assert lines[0].endswith("data.jsonl:2: response: must not be empty")
    assert sum("must not be empty" in line for line in lines) == 10
    assert "... and 4 more bad rows (14 in total)" in message
    assert "skip_invalid_rows: true" in message  # says how to train without them


def test_skip_invalid_keeps_good_rows_and_reports_the_rest(tmp_path):
    data = read_data_file(write(tmp_path, [GOOD_SFT, {"prompt": "Hi", "response": ""}, GOOD_SFT]), skip_invalid=True)
    assert data.lines == [1, 3]
    assert [str(w) for w in data.skipped] == [f"{tmp_path / 'data.jsonl'}:2: response: must not be empty"]


def test_display_name_is_used_in_messages(tmp_path):
    path = write(tmp_path, [{"prompt": "Hi"}])
    assert str(error_of(path, display="../data/x.jsonl")).startswith("../data/x.jsonl:1: ")
