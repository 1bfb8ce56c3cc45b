"""Tests of building programs into debug and stripped binaries, checked against binutils."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from corpus_helpers import TWO_FILE_SOURCES, WriteCase

from reforge.config import Settings
from reforge.corpus import build as build_module
from reforge.corpus.build import (
    BASE_CFLAGS,
    BuildRequest,
    BuildResult,
    build_program,
    build_programs,
    compile_flags,
    link_flags,
    verify_identical_code,
)
from reforge.corpus.manifest import Manifest, load_manifest
from reforge.errors import BuildError, ConfigError

BROKEN_SOURCE = "int broken(int x)\n{\n    return x + 1\n}\n"


def run_tool(*command: str | Path) -> str:
    return subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        check=True,
        env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"},
    ).stdout


def section_names(path: Path) -> set[str]:
    """Return the section names that ``readelf -S -W`` lists for `path`."""
    names = set()
    for line in run_tool("readelf", "-S", "-W", path).splitlines():
        match = re.match(r"\s*\[\s*\d+\]\s+(\S+)", line)
        if match:
            names.add(match.group(1))
    return names


def section_address(path: Path, name: str) -> str:
    for line in run_tool("readelf", "-S", "-W", path).splitlines():
        fields = re.sub(r"\[\s*(\d+)\]", r"[\1]", line).split()
        if len(fields) > 3 and fields[1] == name:
            return fields[3]
    raise AssertionError(f"section {name} not in {path}")


def section_bytes(path: Path, name: str, tmp_path: Path) -> bytes:
    """Return a section's contents as dumped by ``objcopy -O binary --only-section``."""
    output = tmp_path / f"{path.name}{name}.bin"
    run_tool("objcopy", "-O", "binary", f"--only-section={name}", path, output)
    return output.read_bytes()


def elf_type(path: Path) -> str:
    match = re.search(r"Type:\s+(\w+)", run_tool("readelf", "-h", path))
    assert match is not None
    return match.group(1)


def sha256sum(path: Path) -> str:
    return run_tool("sha256sum", path).split()[0]


def mtimes(result: BuildResult) -> dict[Path, int]:
    assert result.debug_path is not None
    assert result.stripped_path is not None
    paths = [result.debug_path, result.stripped_path, result.debug_path.parent / "build.json"]
    return {path: path.stat().st_mtime_ns for path in paths}


@pytest.fixture
def two_file(write_case: WriteCase) -> Manifest:
    return write_case("t99_two_files")


@pytest.fixture
def built_pair(two_file: Manifest, settings: Settings) -> tuple[BuildResult, BuildResult]:
    """The two-file program built at O0 and O2 in one call with two worker processes."""
    requests = [BuildRequest(two_file, "O0"), BuildRequest(two_file, "O2")]
    o0, o2 = build_programs(requests, settings, workers=2, progress=False)
    return o0, o2


# --- flags --------------------------------------------------------------------


def test_compile_flags_order(write_case: WriteCase, tmp_path: Path) -> None:
    manifest = write_case(
        "t86_flags", include_dirs=["inc"], defines=["A=1", "B"], cflags=["-fno-inline"]
    )
    root = tmp_path / "cases" / "t86_flags"

    flags = compile_flags(manifest, "O3", pie=False, root=root)

    assert flags == [
        *BASE_CFLAGS,
        "-fno-pie",
        f"-fdebug-prefix-map={root}=.",
        "-I.",
        "-Iinc",
        "-DA=1",
        "-DB",
        "-fno-inline",
        "-O3",
    ]


def test_manifest_std_replaces_base_std(write_case: WriteCase, tmp_path: Path) -> None:
    manifest = write_case("t85_std", cflags=["-std=gnu11", "-w"])

    flags = compile_flags(manifest, "O1", pie=True, root=tmp_path)

    assert "-std=gnu11" in flags
    assert "-std=c11" not in flags
    assert flags.count("-std=gnu11") == 1
    assert "-fpie" in flags
    assert flags[-1] == "-O1"


def test_link_flags(write_case: WriteCase) -> None:
    manifest = write_case("t84_libs", libs=["m", "dl"])

    assert link_flags(manifest, pie=False) == ["-no-pie", "-lm", "-ldl"]
    assert link_flags(manifest, pie=True) == ["-pie", "-lm", "-ldl"]


def test_unknown_opt_level_rejected(two_file: Manifest) -> None:
    with pytest.raises(ConfigError, match=r"'O4'"):
        BuildRequest(two_file, "O4")


# --- a real build -------------------------------------------------------------


def test_build_makes_both_binaries(
    built_pair: tuple[BuildResult, BuildResult], settings: Settings
) -> None:
    for result, opt in zip(built_pair, ("O0", "O2"), strict=True):
        assert result.ok, result.error
        assert result.error is None
        assert not result.cached
        assert result.opt == opt
        assert result.variant == "nopie"
        folder = settings.data_dir / "builds" / "t99_two_files" / f"{opt}-nopie"
        assert result.debug_path == folder / "t99_two_files.debug"
        assert result.stripped_path == folder / "t99_two_files"
        assert result.debug_path.is_file()
        assert result.stripped_path.is_file()
        assert (folder / "obj" / "main.o").is_file()
        assert (folder / "obj" / "util.o").is_file()


def test_stripped_has_no_symbols_or_dwarf(built_pair: tuple[BuildResult, BuildResult]) -> None:
    for result in built_pair:
        assert result.debug_path is not None
        assert result.stripped_path is not None
        debug_sections = section_names(result.debug_path)
        stripped_sections = section_names(result.stripped_path)

        assert ".symtab" in debug_sections
        assert ".debug_info" in debug_sections
        assert ".symtab" not in stripped_sections
        assert ".debug_info" not in stripped_sections
        assert not any(name.startswith(".debug") for name in stripped_sections)


def test_sha256_matches_sha256sum(built_pair: tuple[BuildResult, BuildResult]) -> None:
    for result in built_pair:
        assert result.debug_path is not None
        assert result.stripped_path is not None
        assert result.debug_sha256 == sha256sum(result.debug_path)
        assert result.stripped_sha256 == sha256sum(result.stripped_path)


def test_code_sections_identical(
    built_pair: tuple[BuildResult, BuildResult], tmp_path: Path
) -> None:
    for result in built_pair:
        assert result.debug_path is not None
        assert result.stripped_path is not None
        for name in (".text", ".rodata", ".data", ".plt"):
            debug_bytes = section_bytes(result.debug_path, name, tmp_path)
            assert debug_bytes
            assert debug_bytes == section_bytes(result.stripped_path, name, tmp_path)
            assert section_address(result.debug_path, name) == section_address(
                result.stripped_path, name
            )
        assert elf_type(result.stripped_path) == "EXEC"


def test_stripped_binary_runs(built_pair: tuple[BuildResult, BuildResult]) -> None:
    for result in built_pair:
        assert result.stripped_path is not None
        completed = subprocess.run(
            [result.stripped_path], capture_output=True, text=True, check=True
        )
        assert completed.stdout == "41\n"


def test_levels_differ_in_flags_and_code(
    built_pair: tuple[BuildResult, BuildResult], tmp_path: Path
) -> None:
    o0, o2 = built_pair
    assert o0.stripped_path is not None
    assert o2.stripped_path is not None

    assert o0.flags[-1] == "-O0"
    assert o2.flags[-1] == "-O2"
    assert o0.input_hash != o2.input_hash
    assert section_bytes(o0.stripped_path, ".text", tmp_path) != section_bytes(
        o2.stripped_path, ".text", tmp_path
    )


def test_dwarf_paths_relative(built_pair: tuple[BuildResult, BuildResult], tmp_path: Path) -> None:
    case_folder = str(tmp_path / "cases" / "t99_two_files")
    for result in built_pair:
        assert result.debug_path is not None
        info = run_tool("readelf", "--debug-dump=info", result.debug_path)
        comp_dirs = re.findall(r"DW_AT_comp_dir\s*:.*?:\s*(\S+)\s*$", info, flags=re.MULTILINE)
        names = re.findall(r"DW_AT_name\s*:.*?:\s*(\S+\.c)\s*$", info, flags=re.MULTILINE)

        assert comp_dirs == [".", "."]
        assert sorted(names) == ["main.c", "util.c"]
        assert case_folder.encode() not in result.debug_path.read_bytes()


def test_toolchain_recorded(built_pair: tuple[BuildResult, BuildResult]) -> None:
    gcc_line = run_tool("gcc", "--version").splitlines()[0]
    strip_line = run_tool("strip", "--version").splitlines()[0]
    for result in built_pair:
        assert result.compiler == gcc_line
        assert result.strip_version == strip_line
        assert result.ldflags == ["-no-pie"]


def test_preprocessed_files_keep_line_markers(
    built_pair: tuple[BuildResult, BuildResult],
) -> None:
    for result in built_pair:
        assert sorted(result.preprocessed) == ["main.c", "util.c"]
        main_text = result.preprocessed["main.c"].read_text()

        assert '# 1 "main.c"' in main_text
        assert re.search(r'^# 1 "util\.h" 1$', main_text, flags=re.MULTILINE)
        assert "int add_twice(int a, int b);" in main_text
        assert "#include" not in main_text


def test_stamp_records_result(built_pair: tuple[BuildResult, BuildResult]) -> None:
    for result in built_pair:
        assert result.debug_path is not None
        stamp = json.loads((result.debug_path.parent / "build.json").read_text())

        assert stamp["input_hash"] == result.input_hash
        assert stamp["ok"] is True
        assert stamp["stripped_sha256"] == result.stripped_sha256
        assert stamp["flags"] == result.flags
        assert stamp["preprocessed"]["util.c"] == str(result.preprocessed["util.c"])


def test_no_temporary_folders_left(
    built_pair: tuple[BuildResult, BuildResult], settings: Settings
) -> None:
    program_dir = settings.data_dir / "builds" / "t99_two_files"

    assert sorted(path.name for path in program_dir.iterdir()) == ["O0-nopie", "O2-nopie"]


# --- cache ----------------------------------------------------------------------


def test_second_build_is_cached(
    built_pair: tuple[BuildResult, BuildResult], two_file: Manifest, settings: Settings
) -> None:
    first = built_pair[1]
    before = mtimes(first)

    again = build_program(BuildRequest(two_file, "O2"), settings)

    assert again.ok
    assert again.cached
    assert again.input_hash == first.input_hash
    assert again.stripped_sha256 == first.stripped_sha256
    assert again.preprocessed == first.preprocessed
    assert mtimes(again) == before


def test_changed_flag_rebuilds(
    built_pair: tuple[BuildResult, BuildResult], write_case: WriteCase, settings: Settings
) -> None:
    first = built_pair[1]
    changed = write_case("t99_two_files", cflags=["-fno-inline"])

    again = build_program(BuildRequest(changed, "O2"), settings)

    assert again.ok, again.error
    assert not again.cached
    assert "-fno-inline" in again.flags
    assert again.input_hash != first.input_hash


def test_changed_source_byte_rebuilds(
    built_pair: tuple[BuildResult, BuildResult], two_file: Manifest, settings: Settings
) -> None:
    first = built_pair[0]
    util = two_file.manifest_path.parent / "util.c"
    util.write_text(TWO_FILE_SOURCES["util.c"].replace("a + b + b", "a + b + b + 1"))

    again = build_program(BuildRequest(two_file, "O0"), settings)

    assert again.ok, again.error
    assert not again.cached
    assert again.input_hash != first.input_hash
    assert again.stripped_path is not None
    completed = subprocess.run([again.stripped_path], capture_output=True, text=True, check=True)
    assert completed.stdout == "42\n"


def test_tampered_binary_rebuilds(
    built_pair: tuple[BuildResult, BuildResult], two_file: Manifest, settings: Settings
) -> None:
    first = built_pair[0]
    assert first.stripped_path is not None
    first.stripped_path.write_bytes(first.stripped_path.read_bytes() + b"\0")

    again = build_program(BuildRequest(two_file, "O0"), settings)

    assert not again.cached
    assert again.stripped_sha256 == first.stripped_sha256
    assert again.stripped_path is not None
    assert sha256sum(again.stripped_path) == first.stripped_sha256


def test_duplicate_requests_build_once(two_file: Manifest, settings: Settings) -> None:
    request = BuildRequest(two_file, "O1")

    first, second = build_programs([request, request], settings, workers=2, progress=False)

    assert first is second
    assert first.ok, first.error


# --- PIE --------------------------------------------------------------------------


def test_pie_build_is_dyn(two_file: Manifest, settings: Settings, tmp_path: Path) -> None:
    result = build_program(BuildRequest(two_file, "O2", pie=True), settings)

    assert result.ok, result.error
    assert result.variant == "pie"
    assert result.stripped_path is not None
    assert result.debug_path is not None
    assert result.stripped_path.parent.name == "O2-pie"
    assert elf_type(result.stripped_path) == "DYN"
    assert elf_type(result.debug_path) == "DYN"
    assert "-fpie" in result.flags
    assert result.ldflags == ["-pie"]
    assert section_bytes(result.debug_path, ".text", tmp_path) == section_bytes(
        result.stripped_path, ".text", tmp_path
    )
    completed = subprocess.run([result.stripped_path], capture_output=True, text=True, check=True)
    assert completed.stdout == "41\n"


# --- failures ---------------------------------------------------------------------


def gcc_first_error(folder: Path, source: str) -> str:
    """Return the first line with 'error' that gcc itself prints for `source`."""
    completed = subprocess.run(
        ["gcc", "-c", "-std=c11", source, "-o", "/dev/null"],
        cwd=folder,
        capture_output=True,
        text=True,
        env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert completed.returncode != 0
    return next(line for line in completed.stderr.splitlines() if "error" in line)


def test_broken_source_fails_sibling_succeeds(
    write_case: WriteCase, two_file: Manifest, settings: Settings
) -> None:
    broken = write_case(
        "t83_broken",
        files={"main.c": "int main(void) { return 0; }\n", "bad.c": BROKEN_SOURCE},
        sources=["main.c", "bad.c"],
        headers=[],
    )
    requests = [BuildRequest(broken, "O2"), BuildRequest(two_file, "O2")]

    failed, good = build_programs(requests, settings, workers=2, progress=False)

    assert not failed.ok
    assert failed.error is not None
    assert failed.error.startswith("build of t83_broken at O2 failed: gcc -c ")
    assert gcc_first_error(broken.manifest_path.parent, "bad.c") in failed.error
    assert failed.debug_path is None
    assert failed.stripped_path is None
    assert good.ok, good.error
    stamp = json.loads((settings.data_dir / "builds/t83_broken/O2-nopie/build.json").read_text())
    assert stamp["ok"] is False
    assert stamp["error"] == failed.error


def test_failed_build_is_not_cached(write_case: WriteCase, settings: Settings) -> None:
    broken = write_case(
        "t82_fixed_later",
        files={"main.c": "int main(void) { return 0; }\n", "bad.c": BROKEN_SOURCE},
        sources=["main.c", "bad.c"],
        headers=[],
    )
    assert not build_program(BuildRequest(broken, "O0"), settings).ok
    (broken.manifest_path.parent / "bad.c").write_text(BROKEN_SOURCE.replace("+ 1", "+ 1;"))

    fixed = build_program(BuildRequest(broken, "O0"), settings)

    assert fixed.ok, fixed.error
    assert not fixed.cached


def test_link_error_reported(write_case: WriteCase, settings: Settings) -> None:
    manifest = write_case(
        "t81_link",
        files={
            "main.c": "int missing_function(void);\nint main(void) { return missing_function(); }\n"
        },
        sources=["main.c"],
        headers=[],
    )

    result = build_program(BuildRequest(manifest, "O1"), settings)

    assert not result.ok
    assert result.error is not None
    assert "build of t81_link at O1 failed: gcc -no-pie -o t81_link.debug" in result.error
    assert "undefined reference to `missing_function'" in result.error


def test_missing_source_file_reported(write_case: WriteCase, settings: Settings) -> None:
    manifest = write_case("t80_missing", sources=["main.c", "util.c", "absent.c"])

    result = build_program(BuildRequest(manifest, "O0"), settings)

    assert not result.ok
    assert result.error is not None
    assert "absent.c: No such file or directory" in result.error


def test_missing_compiler_reported(
    two_file: Manifest, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty_bin = tmp_path / "empty-bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))

    result = build_program(BuildRequest(two_file, "O0"), settings)

    assert not result.ok
    assert result.error is not None
    assert result.error.startswith("build of t99_two_files at O0 failed: gcc --version: ")
    assert "'gcc' not found on PATH" in result.error


def write_fake_tool(folder: Path, name: str, body: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / name
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o755)


def test_compiler_timeout_reported(
    two_file: Manifest, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_bin = tmp_path / "fake-bin"
    write_fake_tool(
        fake_bin,
        "gcc",
        'if [ "$1" = --version ]; then echo "gcc (fake) 0.1"; exit 0; fi\nsleep 30\n',
    )
    monkeypatch.setenv("PATH", f"{fake_bin}:/usr/bin:/bin")
    monkeypatch.setattr(build_module, "COMMAND_TIMEOUT_SECONDS", 1)

    result = build_program(BuildRequest(two_file, "O0"), settings)

    assert not result.ok
    assert result.compiler == "gcc (fake) 0.1"
    assert result.error is not None
    assert result.error.startswith("build of t99_two_files at O0 failed: gcc -c ")
    assert result.error.endswith(": timed out after 1 s")


def test_missing_tarball_is_a_failed_build(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "ghost.toml"
    path.write_text(
        'name = "ghost"\nkind = "realworld"\ndescription = "x"\nsources = ["a.c"]\n'
        'main_file = "a.c"\n[tarball]\nfile = "ghost-0.tar.gz"\n'
        f'sha256 = "{"0" * 64}"\nroot = "ghost-0"\n'
    )
    result = build_program(BuildRequest(load_manifest(path), "O0"), settings)

    assert not result.ok
    assert result.error is not None
    assert result.error.startswith("build of ghost at O0 failed: tarball 'ghost-0.tar.gz'")
    assert "REFORGE_TARBALL_DIR" in result.error


# --- verify_identical_code ----------------------------------------------------------


def test_verify_accepts_strip_output(built_pair: tuple[BuildResult, BuildResult]) -> None:
    for result in built_pair:
        assert result.debug_path is not None
        assert result.stripped_path is not None
        verify_identical_code(result.debug_path, result.stripped_path)


def text_file_offset(path: Path) -> int:
    for line in run_tool("readelf", "-S", "-W", path).splitlines():
        fields = re.sub(r"\[\s*(\d+)\]", r"[\1]", line).split()
        if len(fields) > 4 and fields[1] == ".text":
            return int(fields[4], 16)
    raise AssertionError(f".text not in {path}")


def test_verify_names_differing_section(
    built_pair: tuple[BuildResult, BuildResult], tmp_path: Path
) -> None:
    result = built_pair[0]
    assert result.debug_path is not None
    assert result.stripped_path is not None
    patched = tmp_path / "patched"
    data = bytearray(result.stripped_path.read_bytes())
    data[text_file_offset(result.stripped_path)] ^= 0xFF
    patched.write_bytes(bytes(data))

    with pytest.raises(BuildError, match=r"section '\.text' has different contents"):
        verify_identical_code(result.debug_path, patched)


def test_verify_rejects_other_program(built_pair: tuple[BuildResult, BuildResult]) -> None:
    o0, o2 = built_pair
    assert o0.debug_path is not None
    assert o2.stripped_path is not None

    with pytest.raises(BuildError, match=r"does not load the same code"):
        verify_identical_code(o0.debug_path, o2.stripped_path)


def test_verify_rejects_non_elf(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not an ELF file\n")

    with pytest.raises(BuildError, match=r"cannot compare"):
        verify_identical_code(text, text)


# --- real-world programs ------------------------------------------------------------

RequireTarball = Callable[[str], Manifest]


def run_pipeline(first: list[str | Path], second: list[str | Path], data: bytes) -> bytes:
    """Feed `data` to `first`, its output to `second`, and return what `second` prints."""
    middle = subprocess.run(
        [str(part) for part in first], input=data, capture_output=True, check=False
    )
    assert middle.returncode == 0, middle.stderr
    assert middle.stdout != data
    final = subprocess.run(
        [str(part) for part in second], input=middle.stdout, capture_output=True, check=False
    )
    assert final.returncode == 0, final.stderr
    return final.stdout


def assert_stripped_pair(result: BuildResult) -> None:
    assert result.ok, result.error
    assert result.debug_path is not None
    assert result.stripped_path is not None
    assert ".debug_info" in section_names(result.debug_path)
    assert ".symtab" not in section_names(result.stripped_path)
    assert result.stripped_sha256 == sha256sum(result.stripped_path)
    assert str(result.source_root).encode() not in result.debug_path.read_bytes()


@pytest.mark.realworld
def test_zlib_and_bzip2_build_and_run(
    require_tarball: RequireTarball, realworld_settings: Settings
) -> None:
    zlib = require_tarball("zlib")
    bzip2 = require_tarball("bzip2")

    zlib_o0, bzip2_o2 = build_programs(
        [BuildRequest(zlib, "O0"), BuildRequest(bzip2, "O2")],
        realworld_settings,
        workers=2,
        progress=False,
    )

    assert_stripped_pair(zlib_o0)
    assert_stripped_pair(bzip2_o2)
    assert zlib_o0.stripped_path is not None
    assert bzip2_o2.stripped_path is not None
    minigzip = zlib_o0.stripped_path
    assert run_pipeline([minigzip], [minigzip, "-d"], b"hi\n") == b"hi\n"
    bzip2_binary = bzip2_o2.stripped_path
    text = b"reforge " * 1000
    assert run_pipeline([bzip2_binary, "-c"], [bzip2_binary, "-dc"], text) == text


@pytest.mark.realworld
def test_lua_builds_and_runs(require_tarball: RequireTarball, realworld_settings: Settings) -> None:
    lua = require_tarball("lua")

    result = build_program(BuildRequest(lua, "O0"), realworld_settings)

    assert_stripped_pair(result)
    assert result.stripped_path is not None
    completed = subprocess.run(
        [result.stripped_path, "-e", "print(1+1)"], capture_output=True, text=True, check=True
    )
    assert completed.stdout == "2\n"
    assert sorted(result.preprocessed) == sorted(lua.sources)
    assert "src/luac.c" not in result.preprocessed


@pytest.mark.realworld
def test_shipped_smoke_runs(require_tarball: RequireTarball, realworld_settings: Settings) -> None:
    for name in ("zlib", "bzip2", "lua"):
        manifest = require_tarball(name)
        result = build_program(BuildRequest(manifest, "O0"), realworld_settings)
        assert result.ok, result.error
        assert result.stripped_path is not None

        completed = subprocess.run(
            [result.stripped_path, *manifest.run_args],
            input=manifest.stdin.encode(),
            capture_output=True,
            check=False,
        )

        assert completed.returncode == 0, completed.stderr
        assert completed.stdout
