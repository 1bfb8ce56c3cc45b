"""Reply parsing: one table of reply shapes, each with the name a reader would take from it."""

from __future__ import annotations

import random

import pytest

from reforge.llm.parsing import Candidate, ParsedReply, parse_reply

# (reply text, reasoning, expected name, expected method)
ACCEPTED = [
    pytest.param("parse_config", None, "parse_config", "bare", id="bare"),
    pytest.param("  parse_config\n", None, "parse_config", "bare", id="bare-whitespace"),
    pytest.param("ParseConfig", None, "ParseConfig", "bare", id="bare-keeps-case"),
    pytest.param("`parse_config`", None, "parse_config", "bare", id="bare-backticked"),
    pytest.param("'parse_config'", None, "parse_config", "bare", id="single-quoted"),
    pytest.param("parse_config()", None, "parse_config", "bare", id="trailing-parens"),
    pytest.param("parse_config.", None, "parse_config", "bare", id="trailing-full-stop"),
    pytest.param("**parse_config**", None, "parse_config", "bare", id="markdown-bold"),
    pytest.param("_start", None, "_start", "bare", id="leading-underscore"),
    pytest.param("Function name: parse_config", None, "parse_config", "labelled", id="label"),
    pytest.param(
        "**Function name:** `parse_config()`", None, "parse_config", "labelled", id="bold-label"
    ),
    pytest.param(
        "It reads the settings file.\nName: load_settings",
        None,
        "load_settings",
        "labelled",
        id="label-after-prose",
    ),
    pytest.param(
        "Name: first_guess\nOn reflection:\nFinal name: second_guess",
        None,
        "second_guess",
        "labelled",
        id="last-label-wins",
    ),
    pytest.param("```text\nparse_config\n```", None, "parse_config", "fence", id="fence-text"),
    pytest.param("```\nparse_config\n```", None, "parse_config", "fence", id="fence-plain"),
    pytest.param(
        "```c\nint parse_config(const char *path)\n```",
        None,
        "parse_config",
        "fence",
        id="fence-c-prototype",
    ),
    pytest.param(
        "static int *parse_config(void)", None, "parse_config", "prototype", id="prototype"
    ),
    pytest.param('{"name": "parse_config"}', None, "parse_config", "json", id="json-name"),
    pytest.param(
        '{"function_name": "parse_config", "reason": "reads keys"}',
        None,
        "parse_config",
        "json",
        id="json-function-name",
    ),
    pytest.param(
        '```json\n{"name": "parse_config"}\n```', None, "parse_config", "json", id="json-fenced"
    ),
    pytest.param(
        'Here is my answer: {"name": "parse_config"} as requested.',
        None,
        "parse_config",
        "json",
        id="json-in-prose",
    ),
    pytest.param(
        "I would name this function `parse_config`, because it reads key=value lines.",
        None,
        "parse_config",
        "backtick",
        id="prose-one-backtick",
    ),
    pytest.param(
        "It calls `fopen` and `fgets` in a loop, so I would name it `read_lines`.",
        None,
        "read_lines",
        "backtick",
        id="prose-named-among-several",
    ),
    pytest.param(
        "It calls `fopen` and `fgets`. Suggested: **`read_lines`**",
        None,
        "read_lines",
        "backtick",
        id="prose-bold-among-several",
    ),
    pytest.param(
        "The function name is parse_config.", None, "parse_config", "labelled", id="phrase"
    ),
    pytest.param(
        "<think>It calls `fopen`, maybe `open_file`.</think>\nread_config",
        None,
        "read_config",
        "bare",
        id="think-block-stripped",
    ),
    pytest.param(
        "the model thought here</think>\n\nread_config",
        None,
        "read_config",
        "bare",
        id="think-close-only",
    ),
    pytest.param(
        "",
        "It opens the file and loops. Name: read_config",
        "read_config",
        "reasoning",
        id="reasoning-label",
    ),
    pytest.param(
        "",
        "It calls `fopen`, then `fgets`; a good name is `read_config`.",
        "read_config",
        "reasoning",
        id="reasoning-last-backtick",
    ),
    pytest.param(
        "<think>The loop reads lines, so `read_lines`.</think>",
        None,
        "read_lines",
        "reasoning",
        id="think-only",
    ),
]


@pytest.mark.parametrize(("text", "reasoning", "name", "method"), ACCEPTED)
def test_accepted(text: str, reasoning: str | None, name: str, method: str) -> None:
    parsed = parse_reply(text, reasoning)
    assert parsed.parse_ok
    assert parsed.error is None
    assert parsed.name == name
    assert parsed.method == method
    assert parsed.candidates == [Candidate(name)]


# (reply text, reasoning, error code)
REJECTED = [
    pytest.param("", None, "empty", id="empty"),
    pytest.param("   \n ", None, "empty", id="whitespace"),
    pytest.param(None, None, "empty", id="none"),
    pytest.param("Hmm, this one is hard to say.", None, "no_name", id="garbage-prose"),
    pytest.param("parse-config", None, "invalid_identifier", id="hyphenated"),
    pytest.param("3d_render", None, "invalid_identifier", id="leading-digit"),
    pytest.param("a" * 81, None, "too_long", id="too-long"),
    pytest.param('{"name": "parse_', None, "invalid_json", id="truncated-json"),
    pytest.param('{"name": "parse config"}', None, "invalid_identifier", id="json-bad-name"),
    pytest.param(
        "It calls `malloc` and then `memcpy`.", None, "ambiguous", id="two-backticks-ambiguous"
    ),
    pytest.param("", "I am not sure what this does.", "reasoning_only", id="reasoning-no-name"),
]


@pytest.mark.parametrize(("text", "reasoning", "error"), REJECTED)
def test_rejected(text: str | None, reasoning: str | None, error: str) -> None:
    parsed = parse_reply(text, reasoning)
    assert parsed == ParsedReply(
        name=None, candidates=[], parse_ok=False, error=error, method=parsed.method
    )


def test_max_length_accepted() -> None:
    parsed = parse_reply("a" * 80)
    assert parsed.parse_ok
    assert parsed.name == "a" * 80


def test_text_wins_over_reasoning() -> None:
    parsed = parse_reply("final_answer", "I considered `other_name`.")
    assert parsed.name == "final_answer"


TOP_K = [
    pytest.param(
        '{"candidates": [{"name": "read_config", "confidence": 0.7},'
        ' {"name": "load_settings", "confidence": 0.2}, {"name": "init", "confidence": 0.1}]}',
        [Candidate("read_config", 0.7), Candidate("load_settings", 0.2), Candidate("init", 0.1)],
        "json_topk",
        id="json-candidates",
    ),
    pytest.param(
        '["read_config", "load_settings"]',
        [Candidate("read_config"), Candidate("load_settings")],
        "json_topk",
        id="json-array",
    ),
    pytest.param(
        '{"candidates": [{"name": "a1", "confidence": 70}, {"name": "b2", "confidence": "30%"}]}',
        [Candidate("a1", 0.7), Candidate("b2", 0.3)],
        "json_topk",
        id="json-percentages",
    ),
    pytest.param(
        '{"candidates": [{"name": "bad name"}, {"name": "good_name", "confidence": 2000}]}',
        [Candidate("good_name", None)],
        "json_topk",
        id="json-skips-invalid",
    ),
    pytest.param(
        '{"candidates": [{"name": "same"}, {"name": "same"}, {"name": "other"}]}',
        [Candidate("same"), Candidate("other")],
        "json_topk",
        id="json-deduplicated",
    ),
    pytest.param(
        "1. read_config (0.8)\n2. load_settings - reads the file\n3. `init`",
        [Candidate("read_config", 0.8), Candidate("load_settings"), Candidate("init")],
        "list",
        id="numbered-list",
    ),
]


@pytest.mark.parametrize(("text", "candidates", "method"), TOP_K)
def test_top_k(text: str, candidates: list[Candidate], method: str) -> None:
    parsed = parse_reply(text, top_k=3)
    assert parsed.parse_ok
    assert parsed.candidates == candidates
    assert parsed.name == candidates[0].name
    assert parsed.method == method


def test_top_k_truncates_to_request() -> None:
    parsed = parse_reply('["a", "b", "c", "d"]', top_k=2)
    assert [candidate.name for candidate in parsed.candidates] == ["a", "b"]


def test_top_k_order_is_the_models() -> None:
    text = (
        '{"candidates": [{"name": "low", "confidence": 0.1}, {"name": "high", "confidence": 0.9}]}'
    )
    parsed = parse_reply(text, top_k=5)
    assert parsed.name == "low"


def test_invalid_arguments_raise() -> None:
    with pytest.raises(ValueError, match="top_k"):
        parse_reply("x", top_k=0)
    with pytest.raises(TypeError):
        parse_reply(b"bytes")  # type: ignore[arg-type]


def test_random_text_never_raises() -> None:
    rng = random.Random(20240601)
    alphabet = "ab_1 `*{}[]\"':()<>/\n#-.,think" + "é"
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        parsed = parse_reply(text, rng.choice([None, text[::-1]]), top_k=rng.randint(1, 4))
        assert parsed.parse_ok == (parsed.name is not None)
        assert parsed.parse_ok == (parsed.error is None)


@pytest.mark.parametrize(
    "text",
    ["{", "[[[", '{"candidates": 5}', "```", "```json\n", "<think>", "**", "()", "`", "\x00\x01"],
)
def test_malformed_never_raises(text: str) -> None:
    parsed = parse_reply(text, top_k=3)
    assert not parsed.parse_ok
    assert parsed.error is not None
