"""Settings read from the environment and an optional ``.env`` file.

Every setting has the prefix ``REFORGE_`` except the OpenRouter key, which keeps
the name other tools use::

    settings = get_settings()
    print(settings.database_url)
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_TARBALL_DIRS = (Path("../shared/corpus/debian"), Path("corpus/debian"))


class Settings(BaseSettings):
    """Runtime configuration of reforge."""

    model_config = SettingsConfigDict(
        env_prefix="REFORGE_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    data_dir: Path = Field(
        default=Path("reforge-data"),
        description="Folder for build artefacts, reports and the default SQLite database.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; defaults to a SQLite file inside data_dir.",
    )
    tarball_dir: Path | None = Field(
        default=None,
        description="Folder with real-world source tarballs; searched in known places if unset.",
    )
    workers: int = Field(
        default=0, ge=0, description="Worker processes for builds and decompilation; 0 = all cores."
    )
    decompile_max_instructions: int = Field(
        default=100_000,
        gt=0,
        description="Per-function P-code instruction budget of the decompiler.",
    )
    decompile_timeout: float = Field(
        default=60.0,
        gt=0,
        description="Wall-clock seconds one function may take in the decompiler before its "
        "worker is stopped and the function recorded as timed out.",
    )
    llm_base_url: str | None = Field(
        default=None, description="OpenAI-compatible base URL (vLLM, Ollama, llama.cpp server)."
    )
    llm_api_key: SecretStr | None = Field(
        default=None, description="API key for llm_base_url, if that server needs one."
    )
    openrouter_api_key: SecretStr | None = Field(
        default=None,
        validation_alias="OPENROUTER_API_KEY",
        description="OpenRouter API key; enables the OpenRouter provider.",
    )
    openrouter_base_url: str = Field(default="https://openrouter.ai/api/v1")
    budget_usd: float = Field(default=300.0, ge=0, description="Spending ceiling of a run in USD.")
    api_url: str = Field(default="http://127.0.0.1:8080", description="Where `reforge serve` runs.")
    api_token: SecretStr | None = Field(
        default=None, description="Bearer token required by write endpoints when set."
    )
    redis_url: str = Field(default="redis://127.0.0.1:6379/0")
    demo_models: str = Field(
        default="gpt4o-mini",
        description="Comma-separated catalog labels or slugs the main job asks when a model "
        "API is configured (OPENROUTER_API_KEY or REFORGE_LLM_BASE_URL).",
    )
    demo_concurrency: int = Field(default=8, ge=1, le=256, description="Parallel model calls.")

    @field_validator("data_dir", mode="after")
    @classmethod
    def _absolute_data_dir(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def effective_database_url(self) -> str:
        """The configured database URL, or the SQLite file under `data_dir`."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'reforge.sqlite'}"

    @property
    def effective_workers(self) -> int:
        """Worker process count, with 0 meaning every available core."""
        if self.workers > 0:
            return self.workers
        return max(1, len(os.sched_getaffinity(0)))

    def find_tarball_dir(self) -> Path | None:
        """Return the configured tarball folder, or the first known one that exists."""
        if self.tarball_dir is not None:
            return self.tarball_dir.expanduser().resolve()
        for candidate in DEFAULT_TARBALL_DIRS:
            if candidate.is_dir():
                return candidate.resolve()
        return None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read once."""
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings so the next `get_settings` reads the environment again."""
    get_settings.cache_clear()
