"""Ghidra-style rewriting of decompiler text, on hand-written inputs."""

from __future__ import annotations

import pytest

from reforge.binary.presentation import NORETURN_COMMENT, Symbols, ghidra_type_name, present

BASE = 0x400000


def _symbols() -> Symbols:
    image = bytearray(0x5000)
    strings = {0x2010: b"hello %s\n\x00", 0x2020: b'say "hi"\x00', 0x2030: b"\x01\x02\x00"}
    for offset, data in strings.items():
        image[offset : offset + len(data)] = data
    image[0x4010:0x4018] = (BASE + 0x2010).to_bytes(8, "little")  # a pointer to a string
    return Symbols(
        image=bytes(image),
        image_base=BASE,
        function_names={0x401136: "FUN_00401136", 0x401000: "entry"},
        plt_stubs={0x401030: "printf", 0x401040: "exit"},
        got_slots={0x403FD8: "__libc_start_main", 0x404018: "printf"},
        data_symbols={0x404080: "stderr"},
        noreturn=frozenset({0x401040}),
        code_ranges=((0x401000, 0x402000),),
        readonly_ranges=((0x402000, 0x403000),),
        data_ranges=((0x402000, 0x403000), (0x404000, 0x405000)),
        writable_ranges=((0x404000, 0x405000),),
    )


def test_function_names() -> None:
    text = "void func_401136(void)\n{\n  func_0x00401030(1);\n  func_0x00401500();\n}\n"
    result = present(text, _symbols()).text
    assert "void FUN_00401136(void)" in result
    assert "printf(1);" in result
    assert "FUN_00401500();" in result
    assert "func_" not in result


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("xunknown1", "undefined"),
        ("xunknown2", "undefined2"),
        ("xunknown4", "undefined4"),
        ("xunknown8", "undefined8"),
        ("int1", "char"),
        ("int2", "short"),
        ("int4", "int"),
        ("int8", "long"),
        ("uint1", "byte"),
        ("uint2", "ushort"),
        ("uint4", "uint"),
        ("uint8", "ulong"),
        ("float4", "float"),
        ("float8", "double"),
        ("float10", "float10"),
        ("xunknown8 *", "undefined8 *"),
        ("bool", "bool"),
    ],
)
def test_type_names(raw: str, shown: str) -> None:
    assert ghidra_type_name(raw) == shown


def test_types_in_casts_and_declarations() -> None:
    text = "  xunknown8 *pxVar1;\n  uVar2 = *(uint4 *)(param_1 + 8);\n  iVar3 = (int8)iVar4;\n"
    result = present(text, _symbols()).text
    assert "undefined8 *puVar1;" in result
    assert "*(uint *)(param_1 + 8)" in result
    assert "(long)iVar4" in result


def test_identifier_containing_type_untouched() -> None:
    text = "  xunknown8_foo = int4_bar + my_int4;\n"
    assert present(text, _symbols()).text == text


def test_string_and_comment_contents_untouched() -> None:
    text = (
        "  /* WARNING: xunknown8 func_0x00401030 xStack_c */\n"
        '  puts("int4 xunknown8 func_0x00401030");\n'
    )
    result = present(text, _symbols()).text
    assert "/* WARNING: xunknown8 func_0x00401030 xStack_c */" in result
    assert '"int4 xunknown8 func_0x00401030"' in result


def test_string_literal_for_call_argument() -> None:
    text = (
        "  func_0x00401030(0x402010,param_1);\n  pcVar1 = 0x402020;\n  func_0x00401030(0x402030);\n"
    )
    result = present(text, _symbols()).text
    assert 'printf("hello %s\\n",param_1);' in result
    assert 'pcVar1 = "say \\"hi\\"";' in result
    # Bytes that are not printable text stay an address.
    assert "printf(&DAT_00402030);" in result


def test_data_names() -> None:
    text = (
        "  func_0x00401030(xRam0000000000404080);\n"
        "  uVar1 = pcRam0000000000404018;\n"
        "  uVar2 = xRam0000000000404100;\n"
        "  uVar3 = ppcRam0000000000404010;\n"
    )
    result = present(text, _symbols()).text
    assert "printf(stderr);" in result
    assert "uVar1 = PTR_printf_00404018;" in result
    assert "uVar2 = DAT_00404100;" in result
    assert "uVar3 = PTR_s_hello_s_n_00402010_00404010;" in result
    assert "Ram" not in result


def test_got_indirect_call_named() -> None:
    text = "  (*pcRam0000000000403fd8)(func_401136,param_2);\n"
    result = present(text, _symbols()).text
    assert result == "  __libc_start_main(FUN_00401136,param_2);\n"


def test_stack_variables_renamed() -> None:
    text = (
        "  xunknown4 xStack_c;\n"
        "  int4 iStack_10;\n"
        "  xunknown1 axStack_28 [16];\n"
        "  xStack_c = iStack_10;\n"
    )
    presentation = present(text, _symbols())
    assert "undefined4 local_c;" in presentation.text
    assert "int local_10;" in presentation.text
    assert "undefined local_28 [16];" in presentation.text
    assert "local_c = local_10;" in presentation.text
    assert presentation.renames["xStack_c"] == "local_c"


def test_stack_name_collision_deterministic() -> None:
    text = "  int4 iStack_10;\n  uint4 uStack_10;\n  iStack_10 = uStack_10;\n"
    first = present(text, _symbols())
    second = present(text, _symbols())
    assert first.text == second.text
    assert first.renames == {"iStack_10": "local_10", "uStack_10": "local_10_1"}
    assert "local_10 = local_10_1;" in first.text


def test_noreturn_call_loses_return() -> None:
    text = (
        "  if (param_1 < 2) {\n"
        "    xVar1 = func_0x00401040(1);\n"
        "    return xVar1;\n"
        "  }\n"
        "  return 0;\n"
    )
    result = present(text, _symbols()).text
    assert NORETURN_COMMENT in result
    assert "    exit(1);\n  }" in result
    assert "return xVar1" not in result
    assert "uVar1" not in result


def test_goto_labels() -> None:
    text = "  goto code_r0x00401235;\ncode_r0x00401235:\n"
    result = present(text, _symbols()).text
    assert result == "  goto LAB_00401235;\nLAB_00401235:\n"
