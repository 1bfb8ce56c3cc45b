"""C sources and build helpers for the DWARF oracle tests.

Each source is small enough to check by hand: the tests look declaration lines
up in the source text and addresses up in ``nm`` output, never in the oracle's
own results.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from reforge.config import Settings

# Plain functions, one static, one taking a pointer, one recursive. noinline
# keeps every function out of line at -O2 too, so nm lists each one.
PLAIN_C = """\
#include <stdio.h>

__attribute__((noinline)) int add_numbers(int a, int b)
{
    return a + b;
}

__attribute__((noinline)) static long scale_value(long value, int factor)
{
    long result = value;
    for (int i = 1; i < factor; i++)
        result += value;
    return result;
}

__attribute__((noinline)) int count_chars(const char *text, char wanted)
{
    int count = 0;
    while (*text) {
        if (*text == wanted)
            count++;
        text++;
    }
    return count;
}

__attribute__((noinline)) unsigned factorial(unsigned n)
{
    return n <= 1 ? 1 : n * factorial(n - 1);
}

int main(int argc, char **argv)
{
    int total = add_numbers(argc, 2);
    total += (int)scale_value(total, argc + 1);
    total += count_chars(argv[0], '/');
    total += (int)factorial((unsigned)argc + 3);
    printf("%d\\n", total);
    return 0;
}
"""
PLAIN_FUNCTIONS = ("add_numbers", "scale_value", "count_chars", "factorial", "main")

# square is inlined into compute at -O2 and also kept out of line because its
# address escapes through a global pointer.
INLINE_C = """\
#include <stdio.h>

static inline int square(int x)
{
    return x * x + 1;
}

int (*square_pointer)(int) = square;

__attribute__((noinline)) int compute(int x)
{
    return square(x) + square(x + 1);
}

int main(int argc, char **argv)
{
    (void)argv;
    printf("%d %d\\n", compute(argc), square_pointer(argc));
    return 0;
}
"""

# The call to a cold function makes gcc 12 move the unlikely path of check_value
# into .text.unlikely as check_value.cold. gcc 12.2 keeps the path in line when
# it is a plain `if (__builtin_expect(x, 0)) { fprintf(...); abort(); }`, or when
# the branch makes any call besides the cold one, so the branch calls only
# report_failure.
COLD_C = """\
#include <stdio.h>
#include <stdlib.h>

__attribute__((cold, noreturn, noinline)) static void report_failure(FILE *stream, int value)
{
    fprintf(stream, "invalid value %d\\n", value);
    abort();
}

__attribute__((noinline)) int check_value(int value, FILE *stream)
{
    if (__builtin_expect(value < 0, 0))
        report_failure(stream, value);
    return value * 3 + 1;
}

int main(int argc, char **argv)
{
    (void)argv;
    return check_value(argc, stderr) == 4 ? 0 : 1;
}
"""

SAME_STATIC_A_C = """\
__attribute__((noinline)) static int helper(int x)
{
    return x * 7 + 1;
}

int first_entry(int x)
{
    return helper(x) + 1;
}
"""
SAME_STATIC_B_C = """\
int first_entry(int x);

/* Padding so that the second helper sits on another line. */

__attribute__((noinline)) static int helper(int x)
{
    return x * 11 + 2;
}

int main(int argc, char **argv)
{
    (void)argv;
    return helper(argc) + first_entry(argc);
}
"""

# #line directives make one function span five files and place another in a
# path under /usr/include, without touching /usr/include.
LINE_DIRECTIVES_C = """\
int spread(int x)
{
#line 100 "part_a.h"
    x = x * 3 + 1;
#line 200 "part_b.h"
    x = x ^ 0x55;
#line 300 "part_c.h"
    x = x - 7;
#line 400 "part_d.h"
    return x;
}
#line 20 "/usr/include/reforge_fake_header.h"
int from_system_header(int x)
{
    return x + 1;
}
#line 30 "lines.c"
int main(void)
{
    return spread(3) + from_system_header(2);
}
"""

# With -ffunction-sections -Wl,--gc-sections, GNU ld drops unused_function and
# writes 0 into its DW_AT_low_pc.
GC_SECTIONS_C = """\
int unused_function(int x)
{
    return x * 41 + 7;
}

int main(int argc, char **argv)
{
    (void)argv;
    return argc * 2;
}
"""

# At -O2 identical code folding turns twin_two into a jump to twin_one, and
# gcc 12 leaves twin_two's DIE without any address.
TWINS_C = """\
int twin_one(int *p, int n)
{
    int s = 0;
    for (int i = 0; i < n; i++)
        s += p[i] * 3;
    return s;
}

int twin_two(int *p, int n)
{
    int s = 0;
    for (int i = 0; i < n; i++)
        s += p[i] * 3;
    return s;
}
"""
TWINS_MAIN_C = """\
int twin_one(int *p, int n);
int twin_two(int *p, int n);

int main(int argc, char **argv)
{
    int v[2] = {argc, argc};
    (void)argv;
    return twin_one(v, 2) + twin_two(v, 1);
}
"""


# A GNU C nested function. gcc emits it out of line as the local symbol
# inner.0 and writes its DIE as a child of outer's DIE.
NESTED_C = """\
int outer(int x)
{
    int inner(int y)
    {
        return y * x + 1;
    }
    return inner(x) + inner(x + 1);
}

int main(int argc, char **argv)
{
    (void)argv;
    return outer(argc);
}
"""


# At -O2 gcc inlines mix_bits, a static function called once, into far_caller.
# The helper's body lies more than 40 lines above the caller's, so rows of the
# inlined body widen the caller's line span unless they are left out.
_PADDING = "".join(
    f"/* Padding line {number}: keeps mix_bits far from far_caller. */\n" for number in range(1, 41)
)
FAR_HELPER_C = (
    """\
#include <stdio.h>

static int mix_bits(int value)
{
    int result = value;
    for (int i = 0; i < value % 7; i++)
        result = result * 31 + i;
    return result ^ (result >> 3);
}

"""
    + _PADDING
    + """
__attribute__((noinline)) int far_caller(int x)
{
    int first = x * 3;
    int mixed = mix_bits(first);
    return mixed + first;
}

int main(int argc, char **argv)
{
    (void)argv;
    printf("%d\\n", far_caller(argc));
    return 0;
}
"""
)

# At -O2 the unused variable `doubled` has no code, but gcc 12 still writes a
# line-table row for its statement at the address of the next row, a
# zero-length row. `#line 900` gives that row a line far outside the function,
# and `#line 5` numbers the return statement 5 and the closing brace 6.
ZERO_LENGTH_C = """\
__attribute__((noinline)) int zero_length(int x)
{
#line 900
    int doubled = x * 2;
#line 5
    return x + 1;
}

int main(int argc, char **argv)
{
    (void)argv;
    return zero_length(argc);
}
"""
ZERO_LENGTH_FAR_LINE = 900
ZERO_LENGTH_OWN_LINES = (5, 6)

# At -O2 gcc inlines forward into wrapper and turns the call to sink into a
# tail jump, so every instruction of wrapper lies in the range of the inlined
# call and wrapper has no line-table row of its own.
FORWARD_C = """\
__attribute__((noinline)) int sink(int a, int b)
{
    return a * b + 1;
}

static int forward(int x)
{
    return sink(x, x + 2);
}

__attribute__((noinline)) int wrapper(int x)
{
    return forward(x);
}

int main(int argc, char **argv)
{
    (void)argv;
    return wrapper(argc);
}
"""

# A static inline function in a header that two translation units include.
# noinline keeps one out-of-line copy in each unit.
SHARED_HEADER_H = """\
static inline __attribute__((noinline)) int shared_scale(int x)
{
    return x * 5 + 3;
}
"""
SHARED_FIRST_C = """\
#include "shared.h"

int first_user(int x)
{
    return shared_scale(x) + 1;
}
"""
SHARED_SECOND_C = """\
#include "shared.h"

int first_user(int x);

int main(int argc, char **argv)
{
    (void)argv;
    return shared_scale(argc) + first_user(argc);
}
"""


def compile_c(
    folder: Path,
    sources: dict[str, str],
    flags: list[str],
    output: str = "program",
    *,
    relative: bool = False,
) -> Path:
    """Write `sources` into `folder`, compile and link them with gcc, return the binary.

    Names may contain directories. Headers (``.h``) are written but not passed
    to gcc. By default gcc gets absolute source paths. With `relative` it gets
    paths relative to `folder` and ``-fdebug-prefix-map=<folder>=.``, so the
    DWARF names the compilation directory ``.``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in sources.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if not name.endswith(".h"):
            paths.append(name if relative else str(path))
    if relative:
        flags = [*flags, f"-fdebug-prefix-map={folder}=."]
    binary = folder / output
    subprocess.run(
        ["gcc", *flags, "-o", str(binary), *paths],
        check=True,
        capture_output=True,
        text=True,
        cwd=folder,
    )
    return binary


def nm_symbols(binary: Path) -> dict[str, list[tuple[int, int]]]:
    """Return ``[lo, hi)`` of each sized text symbol from ``nm -S``, by name."""
    output = subprocess.run(
        ["nm", "-S", "--defined-only", str(binary)], check=True, capture_output=True, text=True
    ).stdout
    symbols: dict[str, list[tuple[int, int]]] = {}
    for line in output.splitlines():
        fields = line.split()
        if len(fields) != 4 or fields[2] not in ("T", "t"):
            continue
        address = int(fields[0], 16)
        size = int(fields[1], 16)
        symbols.setdefault(fields[3], []).append((address, address + size))
    return symbols


def line_of(source: str, needle: str) -> int:
    """Return the 1-based number of the first line of `source` that contains `needle`."""
    for number, line in enumerate(source.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} is not in the source")


def column_of(source: str, needle: str, name: str) -> int:
    """Return the 1-based column of `name` on the first line containing `needle`."""
    line = source.splitlines()[line_of(source, needle) - 1]
    return line.index(name) + 1


def section_names(binary: Path) -> set[str]:
    """Return the section names that ``readelf -S --wide`` lists."""
    output = subprocess.run(
        ["readelf", "-S", "--wide", str(binary)], check=True, capture_output=True, text=True
    ).stdout
    names = set()
    for line in output.splitlines():
        if "]" in line and line.strip().startswith("["):
            fields = line.split("]", 1)[1].split()
            if fields:
                names.add(fields[0])
    return names


def extract_tarball(name: str, folder: Path) -> Path:
    """Extract a corpus tarball into `folder` and return its top-level source folder.

    Skips the calling test when the tarball folder or the tarball is absent.
    """
    tarball_dir = Settings().find_tarball_dir()
    if tarball_dir is None or not (tarball_dir / name).exists():
        pytest.skip(f"corpus tarball {name} is not present (set REFORGE_TARBALL_DIR)")
    tarball = tarball_dir / name
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    with tarfile.open(tarball) as archive:
        archive.extractall(folder, filter="data")
        top = archive.getnames()[0].split("/", 1)[0]
    return folder / top
