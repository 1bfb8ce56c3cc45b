"""Reply parsing: the function name (or ranked candidates) a model's answer contains.

Models answer in many shapes, and the parser accepts the common ones::

    parse_reply("`parse_config`")                      # bare name in backticks
    parse_reply('{"name": "parse_config"}')            # JSON
    parse_reply('{"candidates": [{"name": "a", "confidence": 0.7}]}', top_k=3)
    parse_reply("", reasoning="... so the name is `parse_config`.")

The rules, tried in this order on the text after removing ``<think>`` blocks:

1. JSON: the whole text, a ```` ```json ```` fence or the outermost ``{...}`` /
   ``[...]`` in it. Keys ``name``, ``function_name``, ``functionName``,
   ``suggested_name``, ``function``, ``answer``; a ``candidates`` (or ``names``,
   ``suggestions``, ``predictions``) list of strings or of objects with ``name``
   and ``confidence``; a bare JSON array or string.
2. A fenced block: its single line is the name, or its first line is a C
   prototype and the declared name is taken.
3. A labelled line (``Function name: x``, ``Name = x``, ``**Answer:** x``); the
   last such line wins, because models restate their final choice last.
4. The whole text is one name, possibly quoted, bold, followed by ``()`` or a
   full stop, or written as a C prototype.
5. A numbered or bulleted list of names, in order, for top-k answers.
6. Prose with backticked identifiers. One distinct identifier is the name.
   With several, the answer is the one in bold, else the one after a phrase
   such as "name it", "named" or "name is"; otherwise the reply is ambiguous
   and `parse_ok` is False. The first backticked name is never guessed, because
   models often quote the functions the code calls before giving their answer.
7. A phrase such as "the function name is x" without backticks.

When the text is empty, the reasoning (the ``reasoning`` argument plus the
``<think>`` blocks) is searched for its last labelled line, else its last
backticked identifier.

A name must match the C identifier syntax ``[A-Za-z_][A-Za-z0-9_]*`` and be at
most 80 characters long. Its case is kept; scoring normalises later. The parser
never raises for bad input: it returns ``parse_ok=False`` with an error code.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Literal

MAX_NAME_LENGTH = 80
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

ParseMethod = Literal[
    "json",
    "json_topk",
    "fence",
    "labelled",
    "bare",
    "prototype",
    "list",
    "backtick",
    "reasoning",
    "none",
]
ParseErrorCode = Literal[
    "empty",
    "no_name",
    "ambiguous",
    "too_long",
    "invalid_identifier",
    "invalid_json",
    "reasoning_only",
]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One proposed name with the model's confidence, if it gave one."""

    name: str
    """Identifier as the model wrote it, without quotes or ``()``."""
    confidence: float | None = None
    """Confidence in [0, 1]; percentages are divided by 100; None when absent or invalid."""


@dataclass(frozen=True, slots=True)
class ParsedReply:
    """Outcome of parsing one reply."""

    name: str | None
    """Best name (the first candidate), or None when parsing failed."""
    candidates: list[Candidate] = field(default_factory=list)
    """Ranked candidates in the model's order, at most `top_k`; empty when parsing failed."""
    parse_ok: bool = False
    """True when a valid name was found."""
    error: ParseErrorCode | None = None
    """Error code of a failed parse; None on success."""
    method: ParseMethod = "none"
    """Rule that produced the name (see the module docstring)."""


_THINK_BLOCK = re.compile(r"<(think|thinking|reasoning)>(.*?)</\1>", re.DOTALL | re.IGNORECASE)
_THINK_OPEN = re.compile(r"<(?:think|thinking|reasoning)>", re.IGNORECASE)
_THINK_CLOSE = re.compile(r"</(?:think|thinking|reasoning)>", re.IGNORECASE)
_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n?(.*?)(?:```|\Z)", re.DOTALL)
_INLINE_CODE = re.compile(r"`([^`\n]+)`")
_BOLD = re.compile(r"\*\*([^*\n]+)\*\*")
_LABEL_LINE = re.compile(
    r"""(?:^|(?<=[.!?])[ \t]+)[ \t>#*_-]*
        (?:(?:final|suggested|proposed|recommended|best|my)\s+)?
        (?:function\s+)?(?:name|answer)\b[*_\s]*
        (?:\(s\))?\s*[:=]\s*(?P<value>.+)$""",
    re.IGNORECASE | re.MULTILINE | re.VERBOSE,
)
_LABEL_PREFIX = re.compile(
    r"^(?:(?:final|suggested|proposed|recommended|best|my)\s+)?(?:function\s+)?(?:name|answer)"
    r"[*_\s]*[:=]\s*",
    re.IGNORECASE,
)
_NAMING_PHRASE = re.compile(
    r"""(?:\bname\s+(?:it|this(?:\s+function)?)
         |\b(?:be\s+)?named
         |\bcall(?:ed)?\s+(?:it|this(?:\s+function)?)
         |\bname\s+(?:is|would\s+be|should\s+be|could\s+be|will\s+be)
         |\bname\s+for\s+(?:it|this(?:\s+function)?)\s+(?:is|would\s+be)
        )\s*[:=]?\s*[*"'`“‘\s]*(?P<name>[A-Za-z_][A-Za-z0-9_]*)""",
    re.IGNORECASE | re.VERBOSE,
)
_PHRASE_STOP_WORDS = frozenset(
    {"it", "this", "the", "a", "an", "not", "after", "something", "because", "based", "as", "by"}
)
_LIST_ITEM = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s+(?P<value>.+?)\s*$")
_PROTOTYPE = re.compile(
    r"^(?P<prefix>[A-Za-z_][\w\s*]*?[\s*])(?P<name>[A-Za-z_]\w*)\s*\([^()]*\)\s*;?\s*$"
)
_C_TYPE_WORDS_TEXT = """
    void char short int long float double signed unsigned bool const static inline extern
    volatile register struct union enum FILE undefined undefined1 undefined2 undefined4
    undefined8 byte uint ulong ushort uchar longlong ulonglong code"""
_C_TYPE_WORDS = frozenset(_C_TYPE_WORDS_TEXT.split())
_LIST_NOTE = re.compile(r"\s+[-–—:]\s+|\s*\(|:\s+")
_BRACKETED_CONFIDENCE = re.compile(
    r"\(\s*(?:confidence\s*[:=]?\s*)?(\d+(?:\.\d+)?%?)\s*\)", re.IGNORECASE
)
_TRAILING_ARGUMENTS = re.compile(r"\s*\([^()]*\)$")
_QUOTES = "`'\"“”‘’«»"
_TRAILING_PUNCTUATION = ".,;:!?"
_JSON_NAME_KEYS = ("name", "function_name", "functionName", "suggested_name", "function", "answer")
_JSON_LIST_KEYS = ("candidates", "names", "suggestions", "predictions")


def parse_reply(text: str | None, reasoning: str | None = None, *, top_k: int = 1) -> ParsedReply:
    """Extract the function name, or up to `top_k` ranked candidates, from a model reply.

    Never raises for malformed replies; raise TypeError or ValueError only for
    invalid arguments.
    """
    if text is not None and not isinstance(text, str):
        raise TypeError(f"parse_reply expects text as str or None, got {type(text).__name__}")
    if reasoning is not None and not isinstance(reasoning, str):
        raise TypeError(
            f"parse_reply expects reasoning as str or None, got {type(reasoning).__name__}"
        )
    if top_k < 1:
        raise ValueError(f"parse_reply top_k must be at least 1, got {top_k!r}")

    body, thoughts = split_think_blocks(text or "")
    if body.strip():
        return _parse_answer(body.strip(), top_k)
    all_reasoning = "\n".join(part for part in (reasoning, *thoughts) if part and part.strip())
    if all_reasoning:
        return _parse_reasoning(all_reasoning)
    return _failure("empty")


def split_think_blocks(text: str) -> tuple[str, list[str]]:
    """Return `text` without ``<think>`` blocks, and the contents of those blocks.

    An opening tag that is never closed starts reasoning that runs to the end.
    A closing tag without an opening tag (some hosts drop the opening one) ends
    reasoning that began at the start of the text.
    """
    thoughts = [match.group(2) for match in _THINK_BLOCK.finditer(text)]
    remaining = _THINK_BLOCK.sub(" ", text)
    close = _THINK_CLOSE.search(remaining)
    if close:
        thoughts.append(_THINK_OPEN.sub(" ", remaining[: close.start()]))
        remaining = remaining[close.end() :]
    opening = _THINK_OPEN.search(remaining)
    if opening:
        thoughts.append(remaining[opening.end() :])
        remaining = remaining[: opening.start()]
    return remaining, thoughts


def clean_name(value: str) -> str:
    """Strip decoration from a proposed name: quotes, bold, a label, ``()`` and end punctuation."""
    cleaned = value.strip()
    for _ in range(4):
        previous = cleaned
        cleaned = cleaned.replace("**", "").strip()
        cleaned = _LABEL_PREFIX.sub("", cleaned)
        cleaned = cleaned.strip().strip(_QUOTES).strip()
        if len(cleaned) > 1 and cleaned[0] == cleaned[-1] == "*":
            cleaned = cleaned[1:-1].strip()
        cleaned = cleaned.rstrip(_TRAILING_PUNCTUATION).strip()
        cleaned = _TRAILING_ARGUMENTS.sub("", cleaned).strip()
        if cleaned == previous:
            break
    return cleaned


def check_name(name: str) -> ParseErrorCode | None:
    """Return the error code that makes `name` unusable, or None if it is a valid name."""
    if not name:
        return "empty"
    if not IDENTIFIER.fullmatch(name):
        return "invalid_identifier"
    if len(name) > MAX_NAME_LENGTH:
        return "too_long"
    return None


def _parse_answer(body: str, top_k: int) -> ParsedReply:
    # Each rule returns None when it does not apply, so the next one is tried.
    json_value, json_error = _find_json(body)
    if json_value is not None:
        parsed = _from_json(json_value, top_k)
        if parsed is not None:
            return parsed
    for rule in (_from_fence, _from_labelled_line, _from_whole_text, _from_list, _from_backticks):
        parsed = rule(body, top_k)
        if parsed is not None:
            return parsed
    phrase = _from_naming_phrase(body)
    if phrase is not None:
        return phrase
    return _failure(_diagnose(body, json_error))


def _parse_reasoning(reasoning: str) -> ParsedReply:
    for match in reversed(list(_LABEL_LINE.finditer(reasoning))):
        name = clean_name(match.group("value"))
        if check_name(name) is None:
            return _success([Candidate(name)], "reasoning")
    for raw in reversed(_INLINE_CODE.findall(reasoning)):
        name = clean_name(raw)
        if check_name(name) is None:
            return _success([Candidate(name)], "reasoning")
    return _failure("reasoning_only", "reasoning")


def _find_json(body: str) -> tuple[object | None, bool]:
    """Return the JSON value in `body` and whether text that looked like JSON failed to parse."""
    primary = [body]
    fence = _FENCE.search(body)
    if fence and fence.group(1).lower() in ("json", ""):
        primary.append(fence.group(2))
    embedded = []
    for opener, closer in (("{", "}"), ("[", "]")):
        start, end = body.find(opener), body.rfind(closer)
        if 0 <= start < end:
            embedded.append(body[start : end + 1])
    looked_like_json = any(text.strip()[:1] in ("{", "[") for text in primary)
    for candidate in (*primary, *embedded):
        stripped = candidate.strip()
        if not stripped or stripped[0] not in '{["':
            continue
        try:
            return json.loads(stripped), False
        except ValueError:
            continue
    return None, looked_like_json


def _from_json(value: object, top_k: int) -> ParsedReply | None:
    if isinstance(value, str):
        return _from_values([value], top_k, "json")
    if isinstance(value, list):
        return _from_values(value, top_k, "json_topk")
    if not isinstance(value, dict):
        return None
    for key in _JSON_LIST_KEYS:
        items = value.get(key)
        if isinstance(items, list):
            return _from_values(items, top_k, "json_topk")
    if _json_name(value) is not None:
        return _from_values([value], top_k, "json")
    return None


def _from_values(items: list[object], top_k: int, method: ParseMethod) -> ParsedReply:
    candidates: list[Candidate] = []
    errors: list[ParseErrorCode] = []
    for item in items:
        raw_name = item if isinstance(item, str) else None
        confidence = None
        if isinstance(item, dict):
            raw_name = _json_name(item)
            confidence = _confidence(
                item.get("confidence", item.get("score", item.get("probability")))
            )
        if raw_name is None:
            errors.append("no_name")
            continue
        name = clean_name(raw_name)
        error = check_name(name)
        if error is not None:
            errors.append(error)
        elif all(existing.name != name for existing in candidates):
            candidates.append(Candidate(name, confidence))
    if not candidates:
        return _failure(errors[0] if errors else "no_name", method)
    return _success(candidates[:top_k], method)


def _json_name(item: dict[object, object]) -> str | None:
    for key in _JSON_NAME_KEYS:
        value = item.get(key)
        if isinstance(value, str):
            return value
    return None


def _confidence(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip().rstrip("%"))
        except ValueError:
            return None
    if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        return None
    if value <= 1:
        return float(value)
    if value <= 100:
        return float(value) / 100.0
    return None


def _from_fence(body: str, top_k: int) -> ParsedReply | None:
    fence = _FENCE.search(body)
    if fence is None:
        return None
    lines = [line.strip() for line in fence.group(2).splitlines() if line.strip()]
    if not lines:
        return None
    if len(lines) == 1:
        name = clean_name(lines[0])
        if check_name(name) is None:
            return _success([Candidate(name)], "fence")
    declared = _prototype_name(lines[0])
    if declared is not None:
        return _success([Candidate(declared)], "fence")
    candidates = _list_candidates(lines)
    if candidates is not None and len(lines) > 1:
        return _success(candidates[:top_k], "fence")
    return None


def _from_labelled_line(body: str, top_k: int) -> ParsedReply | None:
    for match in reversed(list(_LABEL_LINE.finditer(body))):
        value = match.group("value")
        name = clean_name(value)
        if check_name(name) is None:
            return _success([Candidate(name)], "labelled")
        chosen = _from_naming_phrase(value) or _single_backtick(value)
        if chosen is not None:
            return _success(chosen.candidates, "labelled")
    return None


def _from_whole_text(body: str, top_k: int) -> ParsedReply | None:
    # A lone fence marker such as "```json" is an empty block, not the name "json".
    if "\n" in body.strip() or body.lstrip().startswith("```"):
        return None
    name = clean_name(body)
    if check_name(name) is None:
        return _success([Candidate(name)], "bare")
    declared = _prototype_name(body.strip().strip(_QUOTES))
    if declared is not None:
        return _success([Candidate(declared)], "prototype")
    return None


def _from_list(body: str, top_k: int) -> ParsedReply | None:
    items = [
        match.group("value") for line in body.splitlines() if (match := _LIST_ITEM.match(line))
    ]
    if len(items) < 2:
        return None
    candidates = _list_candidates(items)
    if candidates is None or len(candidates) < 2:
        return None
    return _success(candidates[:top_k], "list")


def _list_candidates(items: list[str]) -> list[Candidate] | None:
    """Return one candidate per list item, or None if any item does not start with a name.

    Items may carry a note after the name (``parse_config - reads the file``)
    and a confidence in brackets (``parse_config (0.8)``).
    """
    candidates: list[Candidate] = []
    for item in items:
        value = item.strip()
        marker = _LIST_ITEM.match(value)
        if marker is not None:
            value = marker.group("value")
        head, rest = _split_list_item(value)
        name = clean_name(head)
        if check_name(name) is not None:
            return None
        confidence_match = _BRACKETED_CONFIDENCE.search(rest)
        confidence = _confidence(confidence_match.group(1)) if confidence_match else None
        if all(existing.name != name for existing in candidates):
            candidates.append(Candidate(name, confidence))
    return candidates


def _split_list_item(value: str) -> tuple[str, str]:
    note = _LIST_NOTE.search(value)
    if note is None:
        return value, ""
    return value[: note.start()], value[note.start() :]


def _prototype_name(line: str) -> str | None:
    """Return the declared name if `line` is a C function declaration such as ``int f(void)``."""
    match = _PROTOTYPE.match(line.rstrip("{").strip())
    if match is None:
        return None
    words = re.findall(r"[A-Za-z_]\w*", match.group("prefix"))
    after_tag = False
    for word in words:
        is_type = word in _C_TYPE_WORDS or word.endswith("_t") or after_tag
        if not is_type:
            return None
        after_tag = word in ("struct", "union", "enum")
    name = match.group("name")
    return name if check_name(name) is None else None


def _from_backticks(body: str, top_k: int) -> ParsedReply | None:
    names = _distinct_names(_INLINE_CODE.findall(body))
    if not names:
        return None
    if len(names) == 1:
        return _success([Candidate(names[0])], "backtick")
    bold = _distinct_names(_BOLD.findall(body))
    chosen = [name for name in bold if name in names]
    if len(chosen) == 1:
        return _success([Candidate(chosen[0])], "backtick")
    phrase = _from_naming_phrase(body)
    if phrase is not None and phrase.name in names:
        return ParsedReply(phrase.name, phrase.candidates, True, None, "backtick")
    return _failure("ambiguous", "backtick")


def _single_backtick(text: str) -> ParsedReply | None:
    names = _distinct_names(_INLINE_CODE.findall(text))
    if len(names) == 1:
        return _success([Candidate(names[0])], "backtick")
    return None


def _from_naming_phrase(body: str) -> ParsedReply | None:
    names = _distinct_names([match.group("name") for match in _NAMING_PHRASE.finditer(body)])
    names = [name for name in names if name.lower() not in _PHRASE_STOP_WORDS]
    if len(names) == 1:
        return _success([Candidate(names[0])], "labelled")
    return None


def _distinct_names(values: list[str]) -> list[str]:
    names: list[str] = []
    for value in values:
        name = clean_name(value)
        if check_name(name) is None and name not in names:
            names.append(name)
    return names


def _diagnose(body: str, json_failed: bool) -> ParseErrorCode:
    if json_failed:
        return "invalid_json"
    if "\n" not in body.strip():
        cleaned = clean_name(body)
        error = check_name(cleaned)
        if error == "too_long" or (error == "invalid_identifier" and " " not in cleaned):
            return error
    return "no_name"


def _success(candidates: list[Candidate], method: ParseMethod) -> ParsedReply:
    return ParsedReply(candidates[0].name, candidates, True, None, method)


def _failure(error: ParseErrorCode, method: ParseMethod = "none") -> ParsedReply:
    return ParsedReply(None, [], False, error, method)
