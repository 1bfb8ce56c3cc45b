"""The exception tree of reforge.

Every error that reforge raises on purpose derives from `ReforgeError`.
Third-party errors (pyelftools, flatline, httpx, SQLAlchemy) are translated
into this tree at exactly one boundary each and chained with ``from``.
User-facing errors also subclass the matching builtin, so callers that catch
``ValueError`` or ``OSError`` keep working::

    ReforgeError
    ├── ConfigError (ValueError)             invalid setting or manifest
    ├── CorpusError                           corpus problems
    │   ├── ManifestError (ValueError)        unreadable or invalid manifest
    │   ├── TarballError (OSError)            missing tarball, wrong sha256
    │   └── BuildError                        compiler, linker or strip failed
    ├── BinaryError (ValueError)              the input is not a usable binary
    │   ├── NotElfError                       not an ELF file at all
    │   ├── TruncatedBinaryError              ELF whose data ends early
    │   └── UnsupportedBinaryError            32-bit, non-x86-64, ...
    ├── DebugInfoError (ValueError)           missing or malformed DWARF
    ├── DecompilerError                       flatline failed for a function
    ├── ModelApiError                         a model provider call failed
    │   ├── RateLimitError                    HTTP 429 (retryable, honours Retry-After)
    │   ├── TransientModelError               5xx, timeout, error inside a 200 body
    │   └── PermanentModelError               4xx other than 429, bad request
    ├── BudgetExceededError                   the next call would cross the budget
    ├── StoreError                            database failures
    │   └── NotFoundError (LookupError)       a requested row does not exist
    └── ReplyParseError (ValueError)          a model reply holds no usable name

Messages name the offending input (a path, an address in hex, a model id) and
say what to do next.
"""

from __future__ import annotations


class ReforgeError(Exception):
    """Base class of every error raised by reforge."""


class ConfigError(ReforgeError, ValueError):
    """A setting or option has an invalid value."""


class CorpusError(ReforgeError):
    """A corpus program cannot be listed, fetched or built."""


class ManifestError(CorpusError, ValueError):
    """A program manifest cannot be read or is invalid."""


class TarballError(CorpusError, OSError):
    """A source tarball is missing, unreadable or has the wrong sha256."""


class BuildError(CorpusError):
    """Compiling, linking or stripping one program at one level failed."""

    def __init__(
        self,
        message: str,
        *,
        program: str = "",
        opt: str = "",
        command: list[str] | None = None,
        first_error: str = "",
    ) -> None:
        super().__init__(message)
        self.program = program
        self.opt = opt
        self.command = command or []
        self.first_error = first_error


class StaleArtifactError(CorpusError):
    """A build's binary is missing or differs from the sha256 the build recorded."""


class BinaryError(ReforgeError, ValueError):
    """A file cannot be used as an x86-64 ELF binary."""


class NotElfError(BinaryError):
    """The file does not start with the ELF magic bytes."""


class TruncatedBinaryError(BinaryError):
    """The ELF headers point past the end of the file."""


class UnsupportedBinaryError(BinaryError):
    """The ELF is valid but not a 64-bit little-endian x86-64 file."""


class DebugInfoError(ReforgeError, ValueError):
    """DWARF debug information is missing or malformed."""


class DecompilerError(ReforgeError):
    """The decompiler failed on one function."""


class ModelApiError(ReforgeError):
    """A call to a model provider failed."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RateLimitError(ModelApiError):
    """The provider answered HTTP 429; `retry_after` is in seconds when given."""

    def __init__(
        self, message: str, *, status: int | None = 429, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class TransientModelError(ModelApiError):
    """A failure that may succeed on retry: 5xx, timeout, error inside a 200 body."""


class PermanentModelError(ModelApiError):
    """A failure that a retry cannot fix: bad request, unknown model, no credit."""


class BudgetExceededError(ReforgeError):
    """The next call would push the spent budget past its ceiling."""


class StoreError(ReforgeError):
    """A database operation failed."""


class NotFoundError(StoreError, LookupError):
    """A requested row does not exist."""


class ReplyParseError(ReforgeError, ValueError):
    """A model reply contains no usable function name."""
