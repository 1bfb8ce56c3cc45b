"""A small corpus store for the API, runner and store-query tests, filled without the decompiler.

Two programs, ``kestrel`` and ``osprey``, are built at O0 and O2 (variant
``nopie``), plus one ``pie`` build of ``kestrel`` at O0 that every default
query must leave out. Each function is listed in `FUNCTIONS` with its tier,
so the tests can count by hand what each filter returns.

The decompiled code of every function is written like Ghidra output and names
no ground truth: no DWARF name, no source file, no program name. The one
exception is ``log_message``, whose code prints its own name in a string
literal (as an assert message would), so its name reaches the prompt
legitimately and its join row has ``leak=True``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reforge.store.blobs import put_blob
from reforge.store.db import Store
from reforge.store.models import (
    Alignment,
    BinaryFunction,
    Build,
    DwarfFunction,
    JoinedFunction,
    Program,
)

PROGRAMS = ("kestrel", "osprey")
OPTS = ("O0", "O2")
LEAK_FUNCTION = "log_message"


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """One function of the fixture: its ground truth and its decompiled side."""

    name: str
    tier: str | None
    """Confidence tier; None for a joined function that no tier accepts."""
    c_raw: str | None
    """Decompiled C; None for a DWARF function the decompiler did not find."""
    calls: str | None = None
    cfg: str | None = None
    variables: str | None = None


def _code(body: str) -> str:
    return body.strip("\n") + "\n"


FUNCTIONS: dict[str, list[FunctionSpec]] = {
    "kestrel": [
        FunctionSpec(
            "parse_header",
            "GOLD",
            _code(
                """
int FUN_{va}(FILE *param_1,uint *param_2)
{{
  size_t sVar1;
  int iVar2;

  sVar1 = fread(param_2,1,0x10,param_1);
  if (sVar1 != 0x10) {{
    return -1;
  }}
  iVar2 = memcmp(param_2,"KHDR",4);
  if (iVar2 != 0) {{
    fputs("bad magic in input\\n",stderr);
    return -2;
  }}
  return 0;
}}
"""
            ),
            calls="fread, memcmp, fputs",
            cfg="blocks 5, edges 6, cyclomatic 3",
            variables="param_1: FILE * (parameter, RDI)\nparam_2: uint * (parameter, RSI)",
        ),
        FunctionSpec(
            "read_config_file",
            "GOLD",
            _code(
                """
int FUN_{va}(char *param_1)
{{
  FILE *__stream;
  char *pcVar1;
  char local_118 [264];

  __stream = fopen(param_1,"r");
  if (__stream == (FILE *)0x0) {{
    perror("cannot open settings");
    return -1;
  }}
  while (pcVar1 = fgets(local_118,0x100,__stream), pcVar1 != (char *)0x0) {{
    FUN_00401900(local_118);
  }}
  fclose(__stream);
  return 0;
}}
"""
            ),
            calls="fopen, perror, fgets, FUN_00401900, fclose",
            cfg="blocks 6, edges 7, cyclomatic 3",
            variables="param_1: char * (parameter, RDI)\nlocal_118: char[264] (local, stack)",
        ),
        FunctionSpec(
            "compute_checksum",
            "GOLD",
            _code(
                """
uint FUN_{va}(byte *param_1,long param_2)
{{
  uint uVar1;
  long lVar2;

  uVar1 = 0xffffffff;
  for (lVar2 = 0; lVar2 < param_2; lVar2 = lVar2 + 1) {{
    uVar1 = uVar1 >> 8 ^ *(uint *)(&DAT_00404000 + (ulong)((param_1[lVar2] ^ uVar1) & 0xff) * 4);
  }}
  return ~uVar1;
}}
"""
            ),
            calls="(none)",
            cfg="blocks 4, edges 5, cyclomatic 2",
            variables="param_1: byte * (parameter, RDI)\nparam_2: long (parameter, RSI)",
        ),
        FunctionSpec(
            "free_buffer",
            "GOLD",
            _code(
                """
void FUN_{va}(void **param_1)
{{
  if (*param_1 != (void *)0x0) {{
    free(*param_1);
    *param_1 = (void *)0x0;
  }}
  return;
}}
"""
            ),
            calls="free",
            cfg="blocks 3, edges 3, cyclomatic 2",
            variables="param_1: void ** (parameter, RDI)",
        ),
        FunctionSpec(
            "init_table",
            "GOLD",
            _code(
                """
long * FUN_{va}(ulong param_1)
{{
  long *plVar1;

  plVar1 = (long *)calloc(param_1,0x18);
  if (plVar1 == (long *)0x0) {{
    abort();
  }}
  return plVar1;
}}
"""
            ),
            calls="calloc, abort",
            cfg="blocks 3, edges 3, cyclomatic 2",
            variables="param_1: ulong (parameter, RDI)",
        ),
        FunctionSpec(
            LEAK_FUNCTION,
            "GOLD",
            _code(
                """
void FUN_{va}(char *param_1)
{{
  fprintf(stderr,"log_message: %s\\n",param_1);
  fflush(stderr);
  return;
}}
"""
            ),
            calls="fprintf, fflush",
            cfg="blocks 1, edges 0, cyclomatic 1",
            variables="param_1: char * (parameter, RDI)",
        ),
        FunctionSpec(
            "list_append",
            "SILVER",
            _code(
                """
void FUN_{va}(long *param_1,long param_2)
{{
  long *plVar1;

  plVar1 = (long *)malloc(0x10);
  *plVar1 = param_2;
  plVar1[1] = *param_1;
  *param_1 = (long)plVar1;
  return;
}}
"""
            ),
            calls="malloc",
        ),
        FunctionSpec(
            "weak_match",
            "BRONZE",
            _code(
                """
int FUN_{va}(int param_1)
{{
  return param_1 * 3 + 7;
}}
"""
            ),
        ),
        FunctionSpec(
            "untiered_helper",
            None,
            _code(
                """
void FUN_{va}(void)
{{
  return;
}}
"""
            ),
        ),
        FunctionSpec("inlined_everywhere", None, None),
    ],
    "osprey": [
        FunctionSpec(
            "encode_base64",
            "GOLD",
            _code(
                """
long FUN_{va}(byte *param_1,long param_2,char *param_3)
{{
  long lVar1;
  long lVar2;

  lVar2 = 0;
  for (lVar1 = 0; lVar1 < param_2; lVar1 = lVar1 + 3) {{
    param_3[lVar2] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
                     [param_1[lVar1] >> 2];
    lVar2 = lVar2 + 4;
  }}
  return lVar2;
}}
"""
            ),
            calls="(none)",
            cfg="blocks 4, edges 5, cyclomatic 2",
            variables="param_1: byte * (parameter, RDI)",
        ),
        FunctionSpec(
            "decode_packet",
            "GOLD",
            _code(
                """
int FUN_{va}(byte *param_1,int param_2,uint *param_3)
{{
  if (param_2 < 4) {{
    return -1;
  }}
  *param_3 = (uint)*param_1 << 8 | (uint)param_1[1];
  memcpy(param_3 + 1,param_1 + 2,(long)(param_2 + -2));
  return 0;
}}
"""
            ),
            calls="memcpy",
            cfg="blocks 3, edges 3, cyclomatic 2",
            variables="param_3: uint * (parameter, RDX)",
        ),
        FunctionSpec(
            "send_reply",
            "GOLD",
            _code(
                """
long FUN_{va}(int param_1,void *param_2,size_t param_3)
{{
  ssize_t sVar1;

  sVar1 = send(param_1,param_2,param_3,0);
  if (sVar1 < 0) {{
    perror("send failed");
  }}
  return sVar1;
}}
"""
            ),
            calls="send, perror",
            cfg="blocks 3, edges 3, cyclomatic 2",
            variables="param_1: int (parameter, EDI)",
        ),
        FunctionSpec(
            "close_socket",
            "SILVER",
            _code(
                """
void FUN_{va}(int *param_1)
{{
  close(*param_1);
  *param_1 = -1;
  return;
}}
"""
            ),
            calls="close",
        ),
    ],
}

# Entry addresses of the builds differ, so a function's code differs between opt levels.
_BASE_VA = {"O0": 0x401000, "O2": 0x402000}


@dataclass(frozen=True, slots=True)
class FixtureFunction:
    """One stored DWARF function and what the tests need to know about it."""

    uid: str
    program: str
    opt: str
    variant: str
    name: str
    decl_file: str
    tier: str | None
    c_raw: str | None
    ghidra_name: str | None
    entry_va: int | None
    """Entry address of the decompiled function; None when it has none."""


@dataclass(slots=True)
class Corpus:
    """Every function the fixture stored, with helpers to select them as the API does."""

    functions: list[FixtureFunction] = field(default_factory=list)

    def select(
        self,
        *,
        opt: str | None = None,
        tier: str | None = None,
        program: str | None = None,
        variant: str = "nopie",
    ) -> list[FixtureFunction]:
        """Return the tiered, decompiled functions that match, in the LLM view's order."""
        chosen = [
            function
            for function in self.functions
            if function.variant == variant
            and function.tier is not None
            and function.c_raw is not None
            and (opt is None or function.opt == opt)
            and (tier is None or function.tier == tier)
            and (program is None or function.program == program)
        ]
        return sorted(chosen, key=lambda f: (f.program, f.opt, f.entry_va))

    def by_uid(self, uid: str) -> FixtureFunction:
        """Return the function stored under `uid`."""
        return next(function for function in self.functions if function.uid == uid)

    def names(self) -> set[str]:
        """Return every ground-truth function name of the fixture."""
        return {function.name for function in self.functions}


def _add_function(
    session, build: Build, program: str, opt: str, variant: str, index: int, spec: FunctionSpec
) -> FixtureFunction:
    low = _BASE_VA[opt] + 0x100 * index
    decl_file = f"src/{program}_{spec.name.split('_')[0]}.c"
    uid = f"{program}:{opt}:{variant}:{0x2D + 0x40 * index:#x}"
    dwarf = DwarfFunction(
        build_id=build.id,
        uid=uid,
        die_offset=0x2D + 0x40 * index,
        cu_offset=0x0B,
        cu_name=decl_file,
        name=spec.name,
        low_pc=low,
        high_pc=low + 0x80,
        ranges=[[low, low + 0x80]],
        decl_file=decl_file,
        decl_line=10 * (index + 1),
        decl_column=1,
        dominant_file=decl_file,
        verdict="ACCEPT",
    )
    session.add(dwarf)
    session.flush()
    stable_key = f"{program}:{decl_file}:{10 * (index + 1)}:1:{spec.name}"
    session.add(
        Alignment(dwarf_function_id=dwarf.id, kind="MATCH", overlap=1.0, stable_key=stable_key)
    )

    binary = None
    c_raw = None
    ghidra_name = None
    if spec.c_raw is not None:
        ghidra_name = f"FUN_{low:08x}"
        c_raw = spec.c_raw.format(va=f"{low:08x}")
        binary = BinaryFunction(
            build_id=build.id,
            entry_va=low,
            ghidra_entry_va=low,
            ghidra_name=ghidra_name,
            body_ranges=[[low, low + 0x80]],
            size=0x80,
            status="ok",
            c_raw_sha256=put_blob(session, c_raw),
            calls_text=spec.calls,
            cfg_text=spec.cfg,
            variables_text=spec.variables,
            loc_decompiled=c_raw.count("\n"),
            bb_count=3 + index % 3,
            cyclomatic=1 + index % 3,
            instruction_count=20 + index,
            cfg_completeness="HIGH",
            warning_codes=["W_UNREACHABLE"] if index == 2 else [],
        )
        session.add(binary)
        session.flush()
    session.add(
        JoinedFunction(
            build_id=build.id,
            dwarf_function_id=dwarf.id,
            binary_function_id=binary.id if binary else None,
            match_kind="JOINED_STRONG" if binary else "NO_MATCH",
            overlap=1.0 if binary else 0.0,
            confidence_tier=spec.tier,
            gold_reject_reason=None if spec.tier == "GOLD" else "join_strength",
            leak=spec.name == LEAK_FUNCTION,
            leak_tokens=[spec.name] if spec.name == LEAK_FUNCTION else [],
            stable_key=stable_key,
        )
    )
    return FixtureFunction(
        uid=uid,
        program=program,
        opt=opt,
        variant=variant,
        name=spec.name,
        decl_file=decl_file,
        tier=spec.tier,
        c_raw=c_raw,
        ghidra_name=ghidra_name,
        entry_va=low if binary else None,
    )


def fill_corpus(store: Store) -> Corpus:
    """Insert both programs, their builds and functions; return what was stored."""
    corpus = Corpus()
    with store.session() as session:
        builds: list[tuple[str, str, str, list[FunctionSpec]]] = [
            (program, opt, "nopie", FUNCTIONS[program]) for program in PROGRAMS for opt in OPTS
        ]
        builds.append(("kestrel", "O0", "pie", FUNCTIONS["kestrel"][:1]))
        programs: dict[str, Program] = {}
        for program, opt, variant, specs in builds:
            if program not in programs:
                programs[program] = Program(name=program, kind="synthetic")
                session.add(programs[program])
                session.flush()
            build = Build(program_id=programs[program].id, opt=opt, variant=variant, ok=True)
            session.add(build)
            session.flush()
            for index, spec in enumerate(specs):
                corpus.functions.append(
                    _add_function(session, build, program, opt, variant, index, spec)
                )
    return corpus
