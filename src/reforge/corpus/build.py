"""Build a corpus program at one optimisation level into a debug and a stripped binary.

Each build compiles the program's translation units with DWARF, links the debug
binary, and makes the stripped binary with ``strip --strip-all`` of that same
file, so code bytes and addresses are identical by construction (and checked
with `verify_identical_code`). Builds are cached by a hash of every input::

    result = build_program(BuildRequest(get_program("t01_crossfile_calls"), "O2"), settings)
    print(result.ok, result.stripped_path)

Artefacts of one build live in ``data_dir/builds/<program>/<opt>-<variant>/``:
``obj/`` (object files), ``pre/`` (``gcc -E`` output with line markers),
``<program>.debug``, ``<program>`` (stripped) and ``build.json`` (the stamp with
every `BuildResult` field).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import logging
import multiprocessing
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from elftools.common.exceptions import ELFError
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile
from tqdm.auto import tqdm

from reforge.config import Settings
from reforge.corpus.manifest import Manifest
from reforge.corpus.tarball import file_sha256, source_root
from reforge.errors import BuildError, ConfigError, CorpusError

logger = logging.getLogger(__name__)

OPT_LEVELS: tuple[str, ...] = ("O0", "O1", "O2", "O3")
BASE_CFLAGS: tuple[str, ...] = (
    "-g",
    "-std=c11",
    "-fno-omit-frame-pointer",
    "-mno-omit-leaf-frame-pointer",
)

# Wall-clock limit of one compiler, linker or strip command, in seconds.
COMMAND_TIMEOUT_SECONDS = 600

# Part of the input hash: raise it when the build procedure changes in a way
# that the flags do not show, so cached builds are redone.
BUILD_RECIPE_VERSION = 1

CC = "gcc"
STRIP = "strip"
_INSTALL_HINTS = {CC: "install gcc", STRIP: "install binutils"}

# Lines of compiler or linker output that name the cause of a failure.
_ERROR_LINE_RE = re.compile(r"\berror\b|undefined reference|multiple definition", re.IGNORECASE)

Variant = Literal["nopie", "pie"]


@dataclass(frozen=True, slots=True)
class BuildRequest:
    """One program at one optimisation level, as a position-dependent or PIE binary."""

    manifest: Manifest
    opt: str
    pie: bool = False

    def __post_init__(self) -> None:
        if self.opt not in OPT_LEVELS:
            raise ConfigError(
                f"optimisation level {self.opt!r} for {self.manifest.name!r} is not one of "
                f"{', '.join(OPT_LEVELS)}"
            )

    @property
    def variant(self) -> Variant:
        """``pie`` or ``nopie``, the name of the build folder's suffix."""
        return "pie" if self.pie else "nopie"


@dataclass(slots=True)
class BuildResult:
    """The outcome of one build, as recorded in its ``build.json`` stamp."""

    program: str
    opt: str
    variant: Variant
    ok: bool
    cached: bool
    """True when the stamp and binaries of an earlier identical build were reused."""
    debug_path: Path | None
    """The linked binary with DWARF; None when the build failed."""
    stripped_path: Path | None
    """``strip --strip-all`` of `debug_path`; None when the build failed."""
    debug_sha256: str | None
    stripped_sha256: str | None
    compiler: str
    """First line of ``gcc --version``."""
    strip_version: str
    """First line of ``strip --version``."""
    flags: list[str]
    """Compile flags of every translation unit, without file names."""
    ldflags: list[str]
    """Link flags; the ``-l`` flags among them follow the object files on the command line."""
    input_hash: str
    """sha256 over everything that changes the binaries; the cache key."""
    source_root: Path
    """Folder the compiler ran in; source paths are relative to it."""
    preprocessed: dict[str, Path] = field(default_factory=dict)
    """Source path as compiled -> its ``gcc -E`` output made with the same flags."""
    error: str | None = None
    """On failure: program, level, command and the first error line of the tool."""
    seconds: float = 0.0
    """Wall time of this call; a cache hit reports the time of the check."""

    def to_json(self) -> dict[str, Any]:
        """Return the result as JSON-ready data (paths as strings)."""
        data = {item.name: getattr(self, item.name) for item in dataclasses.fields(self)}
        for key in ("debug_path", "stripped_path", "source_root"):
            data[key] = None if data[key] is None else str(data[key])
        data["preprocessed"] = {source: str(path) for source, path in self.preprocessed.items()}
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BuildResult:
        """Rebuild a result from `to_json` output; raises KeyError or TypeError on bad data."""
        values = {item.name: data[item.name] for item in dataclasses.fields(cls)}
        for key in ("debug_path", "stripped_path", "source_root"):
            values[key] = None if values[key] is None else Path(values[key])
        values["preprocessed"] = {
            source: Path(path) for source, path in values["preprocessed"].items()
        }
        return cls(**values)


def build_dir(settings: Settings, program: str, opt: str, variant: Variant) -> Path:
    """Return the folder that contains the artefacts of one build."""
    return settings.data_dir / "builds" / program / f"{opt}-{variant}"


def compile_flags(manifest: Manifest, opt: str, *, pie: bool, root: Path) -> list[str]:
    """Return the compile flags of every translation unit of `manifest`, without file names.

    `root` is the absolute source root; ``-fdebug-prefix-map`` maps it to ``.``
    so no absolute path of the source tree ends up in the DWARF.
    """
    manifest_std = [flag for flag in manifest.cflags if flag.startswith("-std=")]
    base = list(BASE_CFLAGS)
    if manifest_std:
        # gcc uses the last -std= of its command line, so the manifest's last one wins.
        base = [manifest_std[-1] if flag.startswith("-std=") else flag for flag in base]
    extra = [flag for flag in manifest.cflags if not flag.startswith("-std=")]
    return [
        *base,
        "-fpie" if pie else "-fno-pie",
        f"-fdebug-prefix-map={root}=.",
        "-I.",
        *(f"-I{folder}" for folder in manifest.include_dirs),
        *(f"-D{define}" for define in manifest.defines),
        *extra,
        f"-{opt}",
    ]


def link_flags(manifest: Manifest, *, pie: bool) -> list[str]:
    """Return the link flags: ``-pie`` or ``-no-pie``, then one ``-l`` per library."""
    return ["-pie" if pie else "-no-pie", *(f"-l{lib}" for lib in manifest.libs)]


def compute_input_hash(
    manifest: Manifest,
    opt: str,
    variant: Variant,
    root: Path,
    *,
    flags: list[str],
    ldflags: list[str],
    toolchain: tuple[str, str],
) -> str:
    """Return the sha256 of everything that changes the binaries of one build.

    The hash covers the recipe version, the manifest's build fields (with the
    tarball sha256 of a real-world program), the level and variant, both flag lists,
    and the compiler and strip versions. It also covers the bytes of every source,
    every listed header and every ``.h`` file directly inside the source root and
    the include dirs.
    """
    payload = {
        "recipe": BUILD_RECIPE_VERSION,
        "manifest": manifest.build_fields(),
        "opt": opt,
        "variant": variant,
        "flags": flags,
        "ldflags": ldflags,
        "compiler": toolchain[0],
        "strip": toolchain[1],
        "files": _input_file_digests(manifest, root),
    }
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


def build_program(request: BuildRequest, settings: Settings) -> BuildResult:
    """Build one program at one level, or return the cached build with the same inputs.

    A compile, link or strip failure, a missing tool or tarball and a timeout give
    ``ok=False`` with the message in `BuildResult.error` instead of an exception.
    """
    started = time.monotonic()
    manifest = request.manifest

    # Locate the sources and the toolchain. A failure here is a failed build, not an exception.
    try:
        root = source_root(manifest, settings).resolve()
        toolchain = toolchain_versions(request)
    except CorpusError as exc:
        return _early_failure(request, exc, started)

    # Derive the flags and the cache key. A matching stamp ends the build here.
    flags = compile_flags(manifest, request.opt, pie=request.pie, root=root)
    ldflags = link_flags(manifest, pie=request.pie)
    input_hash = compute_input_hash(
        manifest,
        request.opt,
        request.variant,
        root,
        flags=flags,
        ldflags=ldflags,
        toolchain=toolchain,
    )
    final_dir = build_dir(settings, manifest.name, request.opt, request.variant)
    cached = _load_cached(final_dir, input_hash)
    if cached is not None:
        cached.cached = True
        cached.seconds = time.monotonic() - started
        logger.debug("build of %s at %s is cached in %s", manifest.name, request.opt, final_dir)
        return cached

    result = BuildResult(
        program=manifest.name,
        opt=request.opt,
        variant=request.variant,
        ok=False,
        cached=False,
        debug_path=None,
        stripped_path=None,
        debug_sha256=None,
        stripped_sha256=None,
        compiler=toolchain[0],
        strip_version=toolchain[1],
        flags=flags,
        ldflags=ldflags,
        input_hash=input_hash,
        source_root=root,
    )
    _build_into(result, request, final_dir, started)
    return result


def build_programs(
    requests: Iterable[BuildRequest],
    settings: Settings,
    *,
    workers: int | None = None,
    progress: bool = True,
) -> list[BuildResult]:
    """Build many programs in parallel processes; results come back in request order.

    Requests for the same program, level and variant are built once. A failed or
    crashed build becomes an ``ok=False`` result and never stops the others.
    """
    requests = list(requests)
    unique = _unique_requests(requests)
    worker_count = min(workers or settings.effective_workers, len(unique))

    # Extract each tarball once here, so parallel builds of one program do not
    # all extract it. An error here reappears in that program's failed results.
    for manifest in {request.manifest.name: request.manifest for request in unique}.values():
        if manifest.kind == "realworld":
            with contextlib.suppress(CorpusError):
                source_root(manifest, settings)

    if worker_count <= 1:
        by_key = _build_sequentially(unique, settings, progress=progress)
    else:
        by_key = _build_in_pool(unique, settings, worker_count, progress=progress)
    return [by_key[_request_key(request)] for request in requests]


def verify_identical_code(debug_path: Path, stripped_path: Path) -> None:
    """Check that two ELF files load the same bytes at the same addresses.

    Compares the ELF type, machine and entry point, every program header except
    its file offset, and the name, type, flags, address, size and contents of
    every ``SHF_ALLOC`` section. Raises `BuildError` naming the first difference.
    """
    try:
        with Path(debug_path).open("rb") as debug_file, Path(stripped_path).open("rb") as stripped:
            debug_elf = ELFFile(debug_file)
            stripped_elf = ELFFile(stripped)
            difference = (
                _header_difference(debug_elf, stripped_elf)
                or _segment_difference(debug_elf, stripped_elf)
                or _section_difference(debug_elf, stripped_elf)
            )
    except (ELFError, OSError) as exc:
        raise BuildError(f"cannot compare {debug_path} with {stripped_path}: {exc}") from exc
    if difference:
        raise BuildError(
            f"{stripped_path} does not load the same code as {debug_path}: {difference}; "
            "strip changed allocated content, so check the binutils version"
        )


def toolchain_versions(request: BuildRequest) -> tuple[str, str]:
    """Return the first lines of ``gcc --version`` and ``strip --version``.

    Raises `BuildError` (naming the request) when a tool is missing or fails.
    """
    return _tool_version(CC, request), _tool_version(STRIP, request)


# --- building ---------------------------------------------------------------


def _build_into(
    result: BuildResult, request: BuildRequest, final_dir: Path, started: float
) -> None:
    """Run the build steps in a fresh folder, then move it to `final_dir` with its stamp.

    The stamp is written for failures too, so the folder always shows the last
    attempt. Only a stamp with ``ok`` true counts as a cache hit.
    """
    final_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{final_dir.name}-", dir=final_dir.parent))
    work.chmod(0o755)  # mkdtemp makes it private; build artefacts are not secret
    try:
        try:
            _run_build_steps(result, request, work, final_dir)
            result.ok = True
            logger.info("built %s at %s (%s)", result.program, result.opt, result.variant)
        except BuildError as exc:
            result.error = str(exc)
            result.preprocessed = {}
            logger.warning("%s", exc)
        result.seconds = time.monotonic() - started
        _write_stamp(work / "build.json", result)
        _replace_dir(work, final_dir)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)


def _run_build_steps(
    result: BuildResult, request: BuildRequest, work: Path, final_dir: Path
) -> None:
    manifest = request.manifest
    root = result.source_root

    # Compile each translation unit from the source root with its relative path,
    # so DWARF file names are relative and the same at every level.
    objects = []
    for source in manifest.sources:
        obj = Path("obj") / Path(source).with_suffix(".o")
        (work / obj).parent.mkdir(parents=True, exist_ok=True)
        _run([CC, "-c", *result.flags, source, "-o", str(work / obj)], root, request)
        objects.append(str(obj))

    # Preprocess with the same flags for the source oracle; gcc -E keeps line markers.
    for source in manifest.sources:
        preprocessed = Path("pre") / Path(source).with_suffix(".i")
        (work / preprocessed).parent.mkdir(parents=True, exist_ok=True)
        _run([CC, "-E", *result.flags, source, "-o", str(work / preprocessed)], root, request)
        result.preprocessed[source] = final_dir / preprocessed

    # Link the debug binary, then strip that same file into the stripped binary.
    debug_name = f"{manifest.name}.debug"
    pie_flag, *lib_flags = result.ldflags
    _run([CC, pie_flag, "-o", debug_name, *objects, *lib_flags], work, request)
    _run([STRIP, "--strip-all", "-o", manifest.name, debug_name], work, request)
    verify_identical_code(work / debug_name, work / manifest.name)

    result.debug_path = final_dir / debug_name
    result.stripped_path = final_dir / manifest.name
    result.debug_sha256 = file_sha256(work / debug_name)
    result.stripped_sha256 = file_sha256(work / manifest.name)


def _run(command: list[str], cwd: Path, request: BuildRequest) -> None:
    """Run one toolchain command and raise `BuildError` with its first error line on failure."""
    logger.debug("running %s in %s", shlex.join(command), cwd)
    try:
        completed = subprocess.run(
            command,
            cwd=cwd,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=COMMAND_TIMEOUT_SECONDS,
            check=False,
            env=_c_locale_env(),
        )
    except FileNotFoundError as exc:
        raise _command_error(request, command, _missing_tool_message(command[0])) from exc
    except subprocess.TimeoutExpired as exc:
        message = f"timed out after {COMMAND_TIMEOUT_SECONDS} s"
        raise _command_error(request, command, message) from exc
    except OSError as exc:
        raise _command_error(request, command, f"failed to start {command[0]!r}: {exc}") from exc

    if completed.returncode != 0:
        raise _command_error(request, command, _first_error_line(completed))
    if completed.stderr.strip():
        logger.debug("%s printed: %s", command[0], completed.stderr.strip())


def _first_error_line(completed: subprocess.CompletedProcess[str]) -> str:
    lines = [line.strip() for line in completed.stderr.splitlines() if line.strip()]
    for line in lines:
        if _ERROR_LINE_RE.search(line):
            return line
    if lines:
        return lines[0]
    return f"exit status {completed.returncode} without a message"


def _command_error(request: BuildRequest, command: list[str], reason: str) -> BuildError:
    level = request.opt if not request.pie else f"{request.opt} (pie)"
    return BuildError(
        f"build of {request.manifest.name} at {level} failed: {shlex.join(command)}: {reason}",
        program=request.manifest.name,
        opt=request.opt,
        command=command,
        first_error=reason,
    )


def _missing_tool_message(tool: str) -> str:
    hint = _INSTALL_HINTS.get(tool, f"install {tool}")
    return f"{tool!r} not found on PATH; {hint} or fix PATH"


def _c_locale_env() -> dict[str, str]:
    # The C locale gives English messages with ASCII quotes, whatever the user's locale.
    return {**os.environ, "LC_ALL": "C"}


def _tool_version(tool: str, request: BuildRequest) -> str:
    command = [tool, "--version"]
    executable = shutil.which(tool)
    if executable is None:
        raise _command_error(request, command, _missing_tool_message(tool))
    try:
        return _first_version_line(executable)
    except (OSError, subprocess.SubprocessError) as exc:
        raise _command_error(request, command, str(exc)) from exc


@functools.lru_cache(maxsize=8)
def _first_version_line(executable: str) -> str:
    completed = subprocess.run(
        [executable, "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=_c_locale_env(),
    )
    return completed.stdout.splitlines()[0].strip() if completed.stdout else ""


def _early_failure(request: BuildRequest, exc: CorpusError, started: float) -> BuildResult:
    """Return the result of a build that failed before its source root or tools were known."""
    message = str(exc)
    if not isinstance(exc, BuildError):
        message = f"build of {request.manifest.name} at {request.opt} failed: {message}"
    logger.warning("%s", message)
    return BuildResult(
        program=request.manifest.name,
        opt=request.opt,
        variant=request.variant,
        ok=False,
        cached=False,
        debug_path=None,
        stripped_path=None,
        debug_sha256=None,
        stripped_sha256=None,
        compiler="",
        strip_version="",
        flags=[],
        ldflags=[],
        input_hash="",
        source_root=request.manifest.manifest_path.parent,
        error=message,
        seconds=time.monotonic() - started,
    )


# --- cache --------------------------------------------------------------------


def _input_file_digests(manifest: Manifest, root: Path) -> dict[str, str | None]:
    """Map each input file (relative to `root`) to its sha256, or None when it is missing."""
    relative_paths = set(manifest.sources) | set(manifest.headers)
    for folder in (".", *manifest.include_dirs):
        directory = root / folder
        if directory.is_dir():
            relative_paths.update(
                header.relative_to(root).as_posix() for header in directory.glob("*.h")
            )

    digests: dict[str, str | None] = {}
    for relative in sorted(relative_paths):
        try:
            digests[relative] = hashlib.sha256((root / relative).read_bytes()).hexdigest()
        except FileNotFoundError:
            # The compiler reports the missing file with a clearer message.
            digests[relative] = None
    return digests


def _load_cached(final_dir: Path, input_hash: str) -> BuildResult | None:
    """Return the stamped result when it matches `input_hash` and its files are intact.

    Any problem with the stamp or the files counts as a cache miss.
    """
    try:
        data = json.loads((final_dir / "build.json").read_text(encoding="utf-8"))
        if data.get("input_hash") != input_hash or data.get("ok") is not True:
            return None
        result = BuildResult.from_json(data)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None

    if result.debug_path is None or result.stripped_path is None:
        return None
    try:
        intact = (
            file_sha256(result.debug_path) == result.debug_sha256
            and file_sha256(result.stripped_path) == result.stripped_sha256
            and all(path.is_file() for path in result.preprocessed.values())
        )
    except CorpusError:
        return None
    return result if intact else None


def _write_stamp(path: Path, result: BuildResult) -> None:
    stamp = {"recipe": BUILD_RECIPE_VERSION, **result.to_json()}
    path.write_text(json.dumps(stamp, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _replace_dir(work: Path, final_dir: Path) -> None:
    """Move `work` to `final_dir`, moving an older `final_dir` aside first."""
    for _ in range(3):
        if final_dir.exists():
            trash = Path(tempfile.mkdtemp(prefix=f".{final_dir.name}-old-", dir=final_dir.parent))
            # Another process may have moved it away first.
            with contextlib.suppress(FileNotFoundError):
                final_dir.rename(trash / "old")
            shutil.rmtree(trash, ignore_errors=True)
        try:
            work.rename(final_dir)
            return
        except OSError:
            # Another build of the same request finished in between; try again.
            continue
    raise BuildError(f"cannot move build folder {work} to {final_dir}: it keeps being replaced")


# --- parallel builds ----------------------------------------------------------


def _request_key(request: BuildRequest) -> tuple[str, str, bool]:
    return (request.manifest.name, request.opt, request.pie)


def _unique_requests(requests: list[BuildRequest]) -> list[BuildRequest]:
    """Drop repeated requests; raise ConfigError when two differ but share a build folder."""
    unique: dict[tuple[str, str, bool], BuildRequest] = {}
    for request in requests:
        key = _request_key(request)
        earlier = unique.get(key)
        if earlier is None:
            unique[key] = request
        elif (
            earlier.manifest != request.manifest
            or earlier.manifest.manifest_path != request.manifest.manifest_path
        ):
            raise ConfigError(
                f"two different manifests for program {key[0]!r} "
                f"({earlier.manifest.manifest_path} and {request.manifest.manifest_path}) "
                f"would build into the same folder; rename one program"
            )
    return list(unique.values())


def _build_sequentially(
    requests: list[BuildRequest], settings: Settings, *, progress: bool
) -> dict[tuple[str, str, bool], BuildResult]:
    results = {}
    with tqdm(total=len(requests), desc="build", unit="build", disable=not progress) as bar:
        for request in requests:
            try:
                results[_request_key(request)] = build_program(request, settings)
            except Exception as exc:
                results[_request_key(request)] = _crashed_result(request, exc)
            bar.update()
    return results


def _build_in_pool(
    requests: list[BuildRequest], settings: Settings, worker_count: int, *, progress: bool
) -> dict[tuple[str, str, bool], BuildResult]:
    results = {}
    # NOTE: "spawn" instead of Linux's default "fork": tqdm leaves a monitor
    # thread running (even for a disabled bar), and forking a process with
    # threads can deadlock the child. Spawned workers also see the current
    # environment (PATH), unlike a forkserver started earlier.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=worker_count, mp_context=context) as pool:
        futures: dict[Future[BuildResult], BuildRequest] = {
            pool.submit(build_program, request, settings): request for request in requests
        }
        with tqdm(total=len(requests), desc="build", unit="build", disable=not progress) as bar:
            for future in as_completed(futures):
                request = futures[future]
                try:
                    results[_request_key(request)] = future.result()
                except Exception as exc:
                    results[_request_key(request)] = _crashed_result(request, exc)
                bar.update()
    return results


def _crashed_result(request: BuildRequest, exc: Exception) -> BuildResult:
    """Turn an unexpected exception of one build into a failed result, logged at ERROR."""
    logger.error(
        "build of %s at %s crashed: %r", request.manifest.name, request.opt, exc, exc_info=exc
    )
    error = BuildError(
        f"build of {request.manifest.name} at {request.opt} crashed with {exc!r}; "
        "this is a bug in reforge, so report it with the traceback from the log"
    )
    return _early_failure(request, error, time.monotonic())


# --- ELF comparison -------------------------------------------------------------


def _header_difference(debug: ELFFile, stripped: ELFFile) -> str | None:
    for key in ("e_type", "e_machine", "e_entry", "e_phnum"):
        if debug.header[key] != stripped.header[key]:
            return f"ELF header {key} is {debug.header[key]!r} vs {stripped.header[key]!r}"
    return None


def _segment_difference(debug: ELFFile, stripped: ELFFile) -> str | None:
    # p_offset may legitimately move, but nothing the loader maps may change.
    keys = ("p_type", "p_flags", "p_vaddr", "p_paddr", "p_filesz", "p_memsz", "p_align")
    for index, (left, right) in enumerate(
        zip(debug.iter_segments(), stripped.iter_segments(), strict=True)
    ):
        for key in keys:
            if left[key] != right[key]:
                return (
                    f"program header {index} ({left['p_type']}) {key} is "
                    f"{_show(left[key])} vs {_show(right[key])}"
                )
    return None


def _section_difference(debug: ELFFile, stripped: ELFFile) -> str | None:
    debug_sections = _allocated_sections(debug)
    stripped_sections = _allocated_sections(stripped)
    if list(debug_sections) != list(stripped_sections):
        return f"allocated sections {list(debug_sections)} vs {list(stripped_sections)}"
    for name, left in debug_sections.items():
        right = stripped_sections[name]
        for key in ("sh_type", "sh_flags", "sh_addr", "sh_size"):
            if left[key] != right[key]:
                return f"section {name!r} {key} is {_show(left[key])} vs {_show(right[key])}"
        if left["sh_type"] != "SHT_NOBITS" and left.data() != right.data():
            return f"section {name!r} has different contents"
    return None


def _allocated_sections(elf: ELFFile) -> dict[str, Any]:
    return {
        section.name: section
        for section in elf.iter_sections()
        if section["sh_flags"] & SH_FLAGS.SHF_ALLOC
    }


def _show(value: object) -> str:
    return f"{value:#x}" if isinstance(value, int) else repr(value)
