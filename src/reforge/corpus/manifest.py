"""Program manifests: what to compile for one corpus program and how.

A manifest is a small TOML file. A synthetic case keeps it as ``manifest.toml``
in the folder with its sources. A real-world manifest adds a ``[tarball]`` table
that names the upstream source tarball and its sha256::

    manifest = load_manifest(Path("synthetic/t01_crossfile_calls/manifest.toml"))
    print(manifest.sources, manifest.main_file)

Paths inside a manifest (sources, headers, include dirs) are relative to the
case folder, or to the top folder of the extracted tarball for real-world code.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from reforge.errors import ManifestError

# The file name a synthetic case folder uses for its manifest.
MANIFEST_FILENAME = "manifest.toml"

_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*$")
_DEFINE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(=.*)?$")
_LIB_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")

# Manifest fields that change the compiled binary; the rest is documentation
# or run-time input. The build input hash covers exactly these.
BUILD_FIELDS = (
    "name",
    "kind",
    "version",
    "sources",
    "headers",
    "main_file",
    "include_dirs",
    "defines",
    "cflags",
    "libs",
    "tarball",
)


def _check_relative_path(value: str) -> str:
    """Reject a path that is empty, absolute or climbs out of its folder with ``..``."""
    path = PurePosixPath(value)
    if not value or path.is_absolute() or ".." in path.parts:
        raise ValueError(f"path {value!r} must be relative and must not contain '..'")
    return value


class TarballSpec(BaseModel):
    """The upstream source tarball of a real-world program."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str
    """File name of the tarball, searched for in the tarball folders."""
    sha256: str
    """Expected sha256 of the tarball, 64 lowercase hex digits."""
    root: str
    """Top folder inside the tarball; manifest paths are relative to it."""
    apt_package: str | None = None
    """Debian source package that `apt-get source` downloads the tarball with."""
    apt_version: str | None = None
    """Debian version of `apt_package`, with epoch and revision (``1:1.2.13.dfsg-1``)."""

    @field_validator("file")
    @classmethod
    def _plain_file_name(cls, value: str) -> str:
        if not value or "/" in value or value in {".", ".."}:
            raise ValueError(f"tarball file {value!r} must be a plain file name")
        return value

    @field_validator("sha256")
    @classmethod
    def _hex_digest(cls, value: str) -> str:
        if not _SHA256_RE.match(value):
            raise ValueError(f"sha256 {value!r} must be 64 lowercase hex digits")
        return value

    @field_validator("root")
    @classmethod
    def _relative_root(cls, value: str) -> str:
        return _check_relative_path(value)


class Manifest(BaseModel):
    """One corpus program: its sources, compile options and how to run it.

    Two manifests are equal when every field except `manifest_path` is equal,
    so a copy of a case in another folder compares equal to the original.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    """Program name; equals the case folder name (or the file stem of a real-world manifest)."""
    kind: Literal["synthetic", "realworld"]
    """``synthetic`` for cases kept in the repository, ``realworld`` for tarball programs."""
    description: str
    """Summary of the program's purpose, in a sentence or two."""
    version: str = ""
    """Upstream version of a real-world program; empty for synthetic cases."""
    stresses: tuple[str, ...] = ()
    """Compiler and decompiler features the program exercises."""
    sources: tuple[str, ...] = Field(min_length=1)
    """The ``.c`` files to compile, in link order."""
    headers: tuple[str, ...] = ()
    """Headers of the program itself (not system headers)."""
    main_file: str
    """The source file that defines ``main``; one of `sources`."""
    include_dirs: tuple[str, ...] = ()
    """Extra ``-I`` folders; the source root itself is always searched first."""
    defines: tuple[str, ...] = ()
    """Preprocessor definitions, ``NAME`` or ``NAME=VALUE``."""
    cflags: tuple[str, ...] = ()
    """Extra compiler flags; a ``-std=`` here replaces the default ``-std=c11``."""
    libs: tuple[str, ...] = ()
    """Libraries to link, without the ``-l`` prefix (``m`` for libm)."""
    run_args: tuple[str, ...] = ()
    """Command-line arguments for a smoke run of the built program."""
    stdin: str = ""
    """Standard input for a smoke run of the built program."""
    tarball: TarballSpec | None = None
    """Source tarball of a real-world program; None for synthetic cases."""
    manifest_path: Path
    """The manifest file this was loaded from; set by `load_manifest`."""

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not _NAME_RE.match(value):
            raise ValueError(
                f"name {value!r} must start with a letter, digit or '_' and contain only "
                "letters, digits and '_.+-'"
            )
        return value

    @field_validator("sources", "headers", "include_dirs")
    @classmethod
    def _check_paths(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            _check_relative_path(value)
        return values

    @field_validator("sources")
    @classmethod
    def _check_source_suffix(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            if not value.endswith(".c"):
                raise ValueError(f"source {value!r} is not a .c file")
        if len(set(values)) != len(values):
            raise ValueError(f"sources {list(values)!r} list a file twice")
        return values

    @field_validator("main_file")
    @classmethod
    def _check_main_file(cls, value: str) -> str:
        return _check_relative_path(value)

    @field_validator("defines")
    @classmethod
    def _check_defines(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            if not _DEFINE_RE.match(value):
                raise ValueError(f"define {value!r} must look like NAME or NAME=VALUE")
        return values

    @field_validator("cflags")
    @classmethod
    def _check_cflags(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            if not value.startswith("-"):
                raise ValueError(f"cflag {value!r} must start with '-'")
        return values

    @field_validator("libs")
    @classmethod
    def _check_libs(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            if not _LIB_RE.match(value):
                raise ValueError(f"lib {value!r} must be a library name such as 'm', without '-l'")
        return values

    @model_validator(mode="after")
    def _check_consistency(self) -> Manifest:
        if self.main_file not in self.sources:
            raise ValueError(f"main_file {self.main_file!r} is not one of the sources")
        if self.kind == "realworld" and self.tarball is None:
            raise ValueError("a realworld manifest needs a [tarball] table")
        if self.kind == "synthetic" and self.tarball is not None:
            raise ValueError("a synthetic manifest must not have a [tarball] table")
        return self

    def build_fields(self) -> dict[str, Any]:
        """Return the fields that change the compiled binary, as plain JSON-ready data."""
        return self.model_dump(mode="json", include=set(BUILD_FIELDS))

    def _identity(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"manifest_path"})

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Manifest):
            return NotImplemented
        return self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash((self.name, self.kind, self.sources, self.defines, self.cflags))


def load_manifest(path: Path) -> Manifest:
    """Read and validate one manifest file.

    Raises `ManifestError` naming the file and the invalid field when the file
    is missing, is not valid TOML or does not match the schema, and when the
    program name differs from its folder name (``manifest.toml``) or file stem.
    """
    path = Path(path).resolve()
    data = _read_toml(path)

    # The loader owns manifest_path; a manifest that sets it is as invalid as
    # one with any other unknown key.
    if "manifest_path" in data:
        raise ManifestError(
            f"invalid manifest {path}: field 'manifest_path': extra inputs are not permitted "
            "(the loader sets it); remove the key"
        )
    try:
        manifest = Manifest.model_validate({**data, "manifest_path": path})
    except ValidationError as exc:
        raise ManifestError(_describe_validation_error(path, exc)) from exc

    expected = path.parent.name if path.name == MANIFEST_FILENAME else path.stem
    if manifest.name != expected:
        raise ManifestError(
            f"invalid manifest {path}: field 'name': {manifest.name!r} differs from "
            f"{expected!r}; rename the program or its "
            f"{'folder' if path.name == MANIFEST_FILENAME else 'file'} so they match"
        )
    return manifest


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ManifestError(f"manifest {path} not found; check the program name or path") from exc
    except OSError as exc:
        raise ManifestError(f"cannot read manifest {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"manifest {path} is not valid TOML: {exc}") from exc


def _describe_validation_error(path: Path, exc: ValidationError) -> str:
    """Turn pydantic's report into one message with a clause per invalid field, naming it."""
    problems = []
    for error in exc.errors(include_url=False):
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "missing":
            message = "required field is missing"
        elif error["type"] == "extra_forbidden":
            message = "unknown field (check the spelling against the manifest format)"
        elif error["type"] == "tuple_type":
            # The model stores lists as tuples; the TOML author writes an array.
            message = f"should be an array of strings, got {error['input']!r}"
        elif error["type"] != "value_error":
            message = f"{message}, got {error['input']!r}"

        # Errors of the cross-field checks have no location; their message
        # names the fields itself.
        if error["loc"]:
            field = ".".join(str(part) for part in error["loc"])
            problems.append(f"field {field!r}: {message}")
        else:
            problems.append(message)
    return f"invalid manifest {path}: " + "; ".join(problems)
