"""Model providers: the `Provider` interface, its request and reply types, and the registry.

The concrete providers (`openai_compat`, `baseline`) are imported lazily by
`get_provider`, so importing this package pulls in neither httpx nor numpy.
"""

from reforge.llm.providers.base import (
    ChatMessage,
    ModelReply,
    ModelRequest,
    Provider,
    ProviderFactory,
    ResponseFormat,
    ServerBusyError,
    get_provider,
    provider_names,
    register_provider,
    unregister_provider,
)

__all__ = [
    "ChatMessage",
    "ModelReply",
    "ModelRequest",
    "Provider",
    "ProviderFactory",
    "ResponseFormat",
    "ServerBusyError",
    "get_provider",
    "provider_names",
    "register_provider",
    "unregister_provider",
]
