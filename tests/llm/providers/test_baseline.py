"""Offline baselines: nearest-neighbour retrieval across programs and the most-frequent name."""

from __future__ import annotations

import json

import pytest

from reforge.errors import PermanentModelError
from reforge.llm.parsing import parse_reply
from reforge.llm.providers import ModelRequest, get_provider
from reforge.llm.providers.baseline import (
    NearestNeighbourBaseline,
    TrainingExample,
    TrivialBaseline,
)

QUERY_CODE = """\
void FUN_00101189(char *param_1)
{
  FILE *__stream;
  __stream = fopen(param_1,"r");
  if (__stream == (FILE *)0x0) {
    perror("cannot open config");
    exit(1);
  }
  fgets(local_118,0x100,__stream);
  fclose(__stream);
}
"""

# Same calls and strings: the nearest function of another program.
SIMILAR_CODE = """\
void FUN_00401000(char *param_1)
{
  FILE *pFVar1;
  pFVar1 = fopen(param_1,"r");
  if (pFVar1 == (FILE *)0x0) {
    perror("cannot open");
    exit(1);
  }
  fclose(pFVar1);
}
"""

# Shares only fopen and fclose.
WEAKER_CODE = """\
int FUN_00402000(char *param_1)
{
  long lVar1;
  lVar1 = (long)fopen(param_1,"rb");
  fseek(lVar1,0,2);
  fclose(lVar1);
  return 0;
}
"""

UNRELATED_CODE = """\
int FUN_00403000(int param_1,int param_2)
{
  return (param_1 * 0x1f + param_2) % 0x3d;
}
"""


def _prompt(code: str) -> str:
    return f"Name this function. Think about file handling and configuration.\n\n```c\n{code}```\n"


@pytest.fixture
def examples() -> list[TrainingExample]:
    return [
        TrainingExample(QUERY_CODE, "same_program_twin", "prog_a"),
        TrainingExample(SIMILAR_CODE, "open_config", "prog_b"),
        TrainingExample(WEAKER_CODE, "file_size", "prog_c"),
        TrainingExample(UNRELATED_CODE, "hash_pair", "prog_d"),
    ]


async def test_never_answers_from_same_group(examples: list[TrainingExample]) -> None:
    baseline = get_provider("baseline-nn", examples=examples)
    request = ModelRequest(model="baseline-nn", prompt=_prompt(QUERY_CODE), group="prog_a")
    reply = await baseline.generate(request)
    assert reply.text == "open_config"
    assert all(n["group"] != "prog_a" for n in reply.raw["neighbours"])


async def test_twin_wins_without_group(examples: list[TrainingExample]) -> None:
    """The identical row is the nearest one, so excluding its group is what hides it."""
    baseline = NearestNeighbourBaseline(examples)
    reply = await baseline.generate(ModelRequest(model="baseline-nn", prompt=_prompt(QUERY_CODE)))
    assert reply.text == "same_program_twin"
    top = baseline.neighbours(QUERY_CODE)[0]
    assert top.similarity == pytest.approx(1.0)


async def test_top_k_sorted_by_similarity(examples: list[TrainingExample]) -> None:
    baseline = NearestNeighbourBaseline(examples)
    request = ModelRequest(model="baseline-nn", prompt=_prompt(QUERY_CODE), group="prog_a", top_k=3)
    reply = await baseline.generate(request)
    candidates = json.loads(reply.text)["candidates"]
    assert [c["name"] for c in candidates] == ["open_config", "file_size", "hash_pair"]
    confidences = [c["confidence"] for c in candidates]
    assert confidences == sorted(confidences, reverse=True)
    assert confidences[0] > confidences[1] > 0
    parsed = parse_reply(reply.text, top_k=3)
    assert [c.name for c in parsed.candidates] == ["open_config", "file_size", "hash_pair"]


async def test_top_k_names_distinct() -> None:
    rows = [
        TrainingExample(SIMILAR_CODE, "open_config", "prog_b"),
        TrainingExample(SIMILAR_CODE, "open_config", "prog_c"),
        TrainingExample(WEAKER_CODE, "file_size", "prog_c"),
    ]
    baseline = NearestNeighbourBaseline(rows)
    request = ModelRequest(model="baseline-nn", prompt=_prompt(QUERY_CODE), top_k=2)
    candidates = json.loads((await baseline.generate(request)).text)["candidates"]
    assert [c["name"] for c in candidates] == ["open_config", "file_size"]


async def test_reads_only_the_fenced_code(examples: list[TrainingExample]) -> None:
    """Words of the instructions outside the C fence must not count as code."""
    prose_twin = 'void FUN_00404000(void)\n{\n  puts("name this function think about handling '
    prose_twin += 'and configuration");\n}\n'
    baseline = NearestNeighbourBaseline([*examples, TrainingExample(prose_twin, "prose_twin", "p")])
    request = ModelRequest(model="baseline-nn", prompt=_prompt(QUERY_CODE), group="prog_a", top_k=4)
    reply = await baseline.generate(request)
    similarity = {n["name"]: n["similarity"] for n in reply.raw["neighbours"]}
    assert similarity["prose_twin"] == 0.0
    assert similarity["open_config"] > 0.0
    # The whole prompt, instructions included, would match the twin.
    assert {n.name: n.similarity for n in baseline.neighbours(request.user_text)}["prose_twin"] > 0


async def test_prompt_without_fence_used_whole(examples: list[TrainingExample]) -> None:
    baseline = NearestNeighbourBaseline(examples)
    reply = await baseline.generate(
        ModelRequest(model="baseline-nn", prompt=SIMILAR_CODE, group="prog_b")
    )
    assert reply.text == "same_program_twin"


async def test_zero_cost_and_labelled(examples: list[TrainingExample]) -> None:
    for name in ("baseline-nn", "baseline-trivial"):
        baseline = get_provider(name, examples=examples)
        reply = await baseline.generate(ModelRequest(model=name, prompt=_prompt(QUERY_CODE)))
        assert baseline.is_baseline
        assert "baseline" in baseline.name
        assert reply.input_tokens == 0
        assert reply.output_tokens == 0
        assert reply.cost_usd == 0.0
        assert reply.upstream_provider is None


async def test_json_request_answers_json(examples: list[TrainingExample]) -> None:
    baseline = NearestNeighbourBaseline(examples)
    request = ModelRequest(
        model="baseline-nn", prompt=_prompt(QUERY_CODE), group="prog_a", response_format="json"
    )
    reply = await baseline.generate(request)
    assert json.loads(reply.text) == {"name": "open_config"}


async def test_unfitted_baseline_fails() -> None:
    with pytest.raises(PermanentModelError, match="examples"):
        await NearestNeighbourBaseline().generate(ModelRequest(model="b", prompt="x"))
    with pytest.raises(PermanentModelError, match="examples"):
        await TrivialBaseline().generate(ModelRequest(model="b", prompt="x"))


async def test_only_own_group_fails() -> None:
    baseline = NearestNeighbourBaseline([TrainingExample(QUERY_CODE, "f", "prog_a")])
    request = ModelRequest(model="b", prompt=_prompt(QUERY_CODE), group="prog_a")
    with pytest.raises(PermanentModelError, match="prog_a"):
        await baseline.generate(request)


async def test_trivial_most_frequent() -> None:
    rows = [
        TrainingExample("", "main", "p1"),
        TrainingExample("", "getValue", "p1"),
        TrainingExample("", "get_value", "p2"),
        TrainingExample("", "get_value", "p3"),
        TrainingExample("", "main", "p2"),
        TrainingExample("", "init", "p3"),
    ]
    baseline = get_provider("baseline-trivial", examples=rows)
    reply = await baseline.generate(ModelRequest(model="t", prompt="anything"))
    assert reply.text == "get_value"
    top3 = await baseline.generate(ModelRequest(model="t", prompt="x", top_k=3))
    candidates = json.loads(top3.text)["candidates"]
    assert candidates == [
        {"name": "get_value", "confidence": 0.5},
        {"name": "main", "confidence": pytest.approx(1 / 3, abs=1e-6)},
        {"name": "init", "confidence": pytest.approx(1 / 6, abs=1e-6)},
    ]


async def test_trivial_excludes_own_group() -> None:
    rows = [
        TrainingExample("", "get_value", "p1"),
        TrainingExample("", "get_value", "p1"),
        TrainingExample("", "get_value", "p1"),
        TrainingExample("", "main", "p2"),
        TrainingExample("", "main", "p3"),
    ]
    baseline = TrivialBaseline(rows)
    reply = await baseline.generate(ModelRequest(model="t", prompt="x", group="p1"))
    assert reply.text == "main"
