"""Loader tests against gcc output, checked with readelf / objdump of the same files."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from reforge.binary import PIE_GHIDRA_OFFSET, load_binary
from reforge.errors import BinaryError, NotElfError, TruncatedBinaryError, UnsupportedBinaryError

from .helpers import Build


def _readelf(*args: str) -> str:
    return subprocess.run(["readelf", *args], check=True, capture_output=True, text=True).stdout


def test_not_elf_rejected(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just some text, not a binary\n")
    with pytest.raises(NotElfError) as error:
        load_binary(path)
    assert str(path) in str(error.value)


def test_empty_file_rejected(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    with pytest.raises(NotElfError):
        load_binary(path)


def test_truncated_header_rejected(tmp_path: Path, builds: dict[str, Build]) -> None:
    path = tmp_path / "header-only"
    path.write_bytes(builds["O0"].stripped.read_bytes()[:40])
    with pytest.raises(TruncatedBinaryError) as error:
        load_binary(path)
    assert str(path) in str(error.value)


def test_truncated_segments_rejected(tmp_path: Path, builds: dict[str, Build]) -> None:
    data = builds["O0"].stripped.read_bytes()
    path = tmp_path / "half"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(TruncatedBinaryError) as error:
        load_binary(path)
    assert str(path) in str(error.value)


def test_32_bit_class_rejected(tmp_path: Path, builds: dict[str, Build]) -> None:
    data = bytearray(builds["O0"].stripped.read_bytes())
    data[4] = 1  # EI_CLASS = ELFCLASS32
    path = tmp_path / "class32"
    path.write_bytes(data)
    with pytest.raises(UnsupportedBinaryError) as error:
        load_binary(path)
    assert str(path) in str(error.value)
    assert "64-bit" in str(error.value)


def test_non_x86_machine_rejected(tmp_path: Path, builds: dict[str, Build]) -> None:
    data = bytearray(builds["O0"].stripped.read_bytes())
    data[18:20] = (183).to_bytes(2, "little")  # EM_AARCH64
    path = tmp_path / "aarch64"
    path.write_bytes(data)
    with pytest.raises(UnsupportedBinaryError) as error:
        load_binary(path)
    assert str(path) in str(error.value)
    assert "183" in str(error.value)


def test_object_file_rejected(tmp_path: Path) -> None:
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    source = tmp_path / "unit.c"
    source.write_text("int f(int x) { return x + 1; }\n")
    subprocess.run(["gcc", "-c", "-o", str(tmp_path / "unit.o"), str(source)], check=True)
    with pytest.raises(UnsupportedBinaryError):
        load_binary(tmp_path / "unit.o")


def test_errors_are_value_errors(tmp_path: Path) -> None:
    path = tmp_path / "x"
    path.write_bytes(b"MZ\x90\x00")
    with pytest.raises(ValueError):
        load_binary(path)


def test_non_pie_image_base(builds: dict[str, Build]) -> None:
    binary = load_binary(builds["O0"].stripped)
    loads = re.findall(
        r"^\s+LOAD\s+0x[0-9a-f]+ (0x[0-9a-f]+)", _readelf("-lW", str(builds["O0"].stripped)), re.M
    )
    assert binary.elf_type == "ET_EXEC"
    assert binary.ghidra_offset == 0
    assert binary.image_base == min(int(address, 16) for address in loads)


def test_pie_image_base(builds: dict[str, Build]) -> None:
    build = builds["O0-pie"]
    binary = load_binary(build.stripped)
    entry = int(
        re.search(
            r"Entry point address:\s+(0x[0-9a-f]+)", _readelf("-h", str(build.stripped))
        ).group(1),
        16,
    )
    assert binary.elf_type == "ET_DYN"
    assert binary.image_base == 0x100000
    assert binary.ghidra_offset == PIE_GHIDRA_OFFSET
    assert binary.entry == entry + 0x100000
    assert binary.to_elf(binary.entry) == entry


def test_image_holds_text_bytes(builds: dict[str, Build]) -> None:
    build = builds["O2"]
    binary = load_binary(build.stripped)
    text = next(s for s in binary.sections if s.name == ".text")
    line = next(
        line for line in _readelf("-SW", str(build.stripped)).splitlines() if " .text " in line
    )
    file_offset = int(line.split()[4], 16)
    expected = build.stripped.read_bytes()[file_offset : file_offset + 64]
    assert binary.read(text.start, 64) == expected


@pytest.mark.parametrize("key", ["O0", "O2-pie"])
def test_plt_stubs_match_objdump(builds: dict[str, Build], key: str) -> None:
    build = builds[key]
    binary = load_binary(build.stripped)
    expected = {name: address + build.ghidra_offset for name, address in build.plt_stubs().items()}
    found = {name: address for address, name in binary.plt_stubs.items()}
    for name in ("malloc", "memcpy", "printf", "strlen", "exit", "puts"):
        assert found[name] == expected[name], name


def test_got_slots_match_relocations(builds: dict[str, Build]) -> None:
    build = builds["O2-pie"]
    binary = load_binary(build.stripped)
    relocations = re.findall(
        r"^([0-9a-f]+)\s+\S+\s+R_X86_64_(?:JUMP_SLO|GLOB_DAT)\S*\s+\S+\s+(\w+)",
        _readelf("-rW", str(build.stripped)),
        re.MULTILINE,
    )
    assert relocations
    for offset, name in relocations:
        assert binary.got_slots[int(offset, 16) + 0x100000] == name
        assert binary.imports[int(offset, 16) + 0x100000] == name


def test_copy_relocation_names_stderr(builds: dict[str, Build]) -> None:
    build = builds["O0"]
    binary = load_binary(build.stripped)
    match = re.search(
        r"^([0-9a-f]+)\s+\S+\s+R_X86_64_COPY\s+\S+\s+stderr",
        _readelf("-rW", str(build.stripped)),
        re.M,
    )
    assert match is not None
    assert binary.data_symbols[int(match.group(1), 16)] == "stderr"


def test_fdes_match_readelf(builds: dict[str, Build]) -> None:
    build = builds["O2"]
    binary = load_binary(build.stripped)
    ranges = re.findall(
        r"FDE cie=\w+ pc=([0-9a-f]+)\.\.([0-9a-f]+)",
        _readelf("--debug-dump=frames", str(build.stripped)),
    )
    expected = sorted((int(start, 16), int(end, 16)) for start, end in ranges if start != end)
    assert [(fde.start, fde.end) for fde in binary.fdes] == expected


def test_cold_fde_is_fragment(builds: dict[str, Build]) -> None:
    build = builds["O2"]
    binary = load_binary(build.stripped)
    cold = build.symbols()["dispatch.cold"]
    fde = next(fde for fde in binary.fdes if fde.start == cold)
    assert fde.is_fragment
    assert not next(
        fde for fde in binary.fdes if fde.start == build.symbols()["dispatch"]
    ).is_fragment


def test_missing_file_is_binary_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-binary"
    with pytest.raises(BinaryError, match="No such file") as error:
        load_binary(missing)
    assert str(missing) in str(error.value)


def test_32_bit_message_names_class(tmp_path: Path, builds: dict[str, Build]) -> None:
    data = bytearray(builds["O0"].stripped.read_bytes())
    data[4] = 1
    path = tmp_path / "class32"
    path.write_bytes(data)
    with pytest.raises(UnsupportedBinaryError, match=r"EI_CLASS is 1 \(32-bit\), not 2"):
        load_binary(path)
