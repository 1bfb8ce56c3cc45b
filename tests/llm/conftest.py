"""Fixtures of the model-provider tests: a scripted OpenAI-compatible server and clients of it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from reforge.llm.providers import get_provider
from reforge.llm.providers.openai_compat import OpenAICompatibleProvider
from reforge.llm.scripted_server import ScriptedServer

# A made-up key with a distinctive body, so a leak is easy to find in any text.
TEST_API_KEY = "sk-or-v1-reforgetest-0123456789abcdef0123456789abcdef"

# Decompiled code as it appears in a prompt: string literals and calls carry the meaning.
C_PROMPT = """Suggest a name for this function.

```c
void FUN_00401136(char *param_1)
{
  size_t sVar1;

  sVar1 = strlen(param_1);
  if (sVar1 == 0) {
    puts("usage: config file");
    return;
  }
  fopen(param_1,"r");
  return;
}
```
"""


@pytest.fixture
def api_key() -> str:
    """The API key the scripted server requires."""
    return TEST_API_KEY


@pytest.fixture
def c_prompt() -> str:
    """A prompt with decompiled code in a C fence."""
    return C_PROMPT


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    """A scripted server that requires `TEST_API_KEY`."""
    with ScriptedServer(api_key=TEST_API_KEY) as running:
        yield running


@pytest.fixture
async def openrouter(server: ScriptedServer) -> AsyncIterator[OpenAICompatibleProvider]:
    """The OpenRouter provider pointed at the scripted server, with a 0.5 s timeout."""
    provider = get_provider(
        "openrouter", api_key=TEST_API_KEY, base_url=server.base_url, timeout=0.5
    )
    assert isinstance(provider, OpenAICompatibleProvider)
    yield provider
    await provider.aclose()
