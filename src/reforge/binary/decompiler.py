"""The flatline boundary: one decompiler session, one function at a time.

This is the only module that calls flatline, and the only place where its
errors (`flatline.FlatlineError` subclasses raised, or an `flatline.ErrorItem` in
the result) become `FunctionDecompileError` with a stable code::

    decompiler = FunctionDecompiler(patched, max_instructions=100_000)
    result = decompiler.decompile(0x401136)      # flatline.DecompileResult
"""

from __future__ import annotations

import flatline

from reforge.binary.patching import FunctionImages, PatchedImage
from reforge.errors import DecompilerError

LANGUAGE_ID = "x86:LE:64:default"
COMPILER_SPEC = "gcc"

_BUDGET_MESSAGE = "maximum allowable instructions"


class FunctionDecompileError(DecompilerError):
    """The decompiler failed on one function; `code` is stable, the message is flatline's."""

    def __init__(self, message: str, *, code: str, address: int) -> None:
        super().__init__(message)
        self.code = code
        self.address = address


class FunctionDecompiler:
    """A flatline session plus the per-function images of one binary."""

    def __init__(self, patched: PatchedImage, *, max_instructions: int) -> None:
        self._images = FunctionImages(patched)
        self._base = patched.image_base
        try:
            self._budget = flatline.AnalysisBudget(max_instructions=max_instructions)
            self._session = flatline.DecompilerSession()
        except flatline.FlatlineError as exc:
            raise DecompilerError(
                f"Cannot start the flatline decompiler ({exc.category}: {exc}). "
                "Check that flatline and ghidra-sleigh are installed in this environment."
            ) from exc

    def decompile(self, entry: int) -> flatline.DecompileResult:
        """Decompile the function at Ghidra address `entry` with P-code (``enriched``)."""
        request = flatline.DecompileRequest(
            memory_image=self._images.image_for(entry),
            base_address=self._base,
            function_address=entry,
            language_id=LANGUAGE_ID,
            compiler_spec=COMPILER_SPEC,
            analysis_budget=self._budget,
            enriched=True,
        )
        try:
            result = self._session.decompile_function(request)
        except flatline.FlatlineError as exc:
            raise FunctionDecompileError(
                f"flatline raised {type(exc).__name__} at {entry:#x}: {exc}",
                code=exc.category or "internal_error",
                address=entry,
            ) from exc
        if result.error is not None:
            raise FunctionDecompileError(
                f"decompiling {entry:#x} failed: {result.error.message}",
                code=error_code(result.error.category, result.error.message),
                address=entry,
            )
        return result

    def close(self) -> None:
        self._session.close()


def error_code(category: str, message: str) -> str:
    """Return the stable code of a flatline error category and message."""
    if _BUDGET_MESSAGE in message.lower():
        return "budget_exceeded"
    return category or "internal_error"


def check_decompiler() -> None:
    """Open and close one session, so a broken installation fails before any work starts."""
    try:
        with flatline.DecompilerSession() as session:
            pairs = session.list_language_compilers()
    except flatline.FlatlineError as exc:
        raise DecompilerError(
            f"Cannot start the flatline decompiler ({exc.category}: {exc}). "
            "Check that flatline and ghidra-sleigh are installed in this environment."
        ) from exc
    if not any(p.language_id == LANGUAGE_ID and p.compiler_spec == COMPILER_SPEC for p in pairs):
        raise DecompilerError(
            f"The flatline runtime data has no {LANGUAGE_ID}/{COMPILER_SPEC} language. "
            "Reinstall ghidra-sleigh."
        )
