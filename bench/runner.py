"""Benchmark of the experiment runner against a scripted model with a fixed latency.

For each function count (N and 4N, N = 2,000 by default) it fills a SQLite store
with synthetic GOLD functions (rows inserted directly, no decompiler), serves
the reforge API and the scripted OpenAI-compatible server (200 ms per reply) in
a child process each, runs one experiment at concurrency 32 in a third child
process, and prints side by side:

- throughput in model calls per second and its ratio to the ideal
  concurrency / latency (32 / 0.2 s = 160 calls/s);
- CPU time of the runner process per call, measured with `time.process_time`
  around `run_experiment`. The API and the model server run in other
  processes, so their work is not counted;
- the runner's peak resident set size during the run (sampled every 20 ms), and
  its growth over the resident set size before the run, to show whether memory
  grows with the function count.

Usage::

    .venv/bin/python bench/runner.py                  # N = 2000 and 8000
    .venv/bin/python bench/runner.py --functions 500 --concurrency 16 --delay 0.1

Wall-clock figures depend on what else the machine runs; the load average is
printed before and after so a disturbed run shows. The store is a SQLite file
in a temporary folder, written by the API process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

MODEL = "openai/gpt-4o-mini"
EXPERIMENT_ID = "bench_runner_gold_O0_L0"
PROGRAM_COUNT = 20
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
IMPORTS = (
    "malloc",
    "free",
    "memcpy",
    "strlen",
    "fopen",
    "fclose",
    "fread",
    "fwrite",
    "printf",
    "snprintf",
    "socket",
    "connect",
    "send",
    "recv",
    "qsort",
    "strtol",
)
WORDS = (
    "config",
    "buffer",
    "header",
    "packet",
    "table",
    "entry",
    "stream",
    "record",
    "socket",
    "cache",
    "index",
    "token",
)


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def synthetic_code(index: int, entry: int) -> str:
    """Return Ghidra-like C for synthetic function `index`, different for every index."""
    first, second = IMPORTS[index % len(IMPORTS)], IMPORTS[(index // 7) % len(IMPORTS)]
    word = WORDS[index % len(WORDS)]
    other = WORDS[(index // 5) % len(WORDS)]
    return (
        f"long FUN_{entry:08x}(char *param_1,long param_2)\n"
        "{\n"
        "  long lVar1;\n"
        "  long lVar2;\n"
        "\n"
        f"  lVar1 = {first}(param_1,param_2);\n"
        "  if (lVar1 < 0) {\n"
        f'    printf("cannot read {word} {other} %ld\\n",param_2);\n'
        "    return -1;\n"
        "  }\n"
        f"  for (lVar2 = 0; lVar2 < {index % 97 + 3}; lVar2 = lVar2 + 1) {{\n"
        f"    lVar1 = lVar1 + (long){second}(param_1 + lVar2,{index});\n"
        "  }\n"
        "  return lVar1;\n"
        "}\n"
    )


def fill_store(url: str, functions: int) -> None:
    """Insert `functions` GOLD functions at O0, spread over `PROGRAM_COUNT` programs."""
    from reforge.store import open_store, put_blob
    from reforge.store.models import (
        BinaryFunction,
        Build,
        DwarfFunction,
        JoinedFunction,
        Program,
    )

    store = open_store(url)
    with store.session() as session:
        builds = []
        for number in range(PROGRAM_COUNT):
            program = Program(name=f"synthetic_{number:02d}", kind="synthetic")
            session.add(program)
            session.flush()
            build = Build(program_id=program.id, opt="O0", variant="nopie", ok=True)
            session.add(build)
            session.flush()
            builds.append((program.name, build.id))
        for index in range(functions):
            program_name, build_id = builds[index % PROGRAM_COUNT]
            entry = 0x401000 + 0x80 * index
            dwarf = DwarfFunction(
                build_id=build_id,
                uid=f"{program_name}:O0:nopie:{index:#x}",
                die_offset=index,
                cu_offset=0,
                name=f"function_{index}",
                low_pc=entry,
                high_pc=entry + 0x80,
                ranges=[[entry, entry + 0x80]],
                verdict="ACCEPT",
            )
            binary = BinaryFunction(
                build_id=build_id,
                entry_va=entry,
                ghidra_entry_va=entry,
                ghidra_name=f"FUN_{entry:08x}",
                size=0x80,
                status="ok",
                c_raw_sha256=put_blob(session, synthetic_code(index, entry)),
                loc_decompiled=15,
            )
            session.add_all([dwarf, binary])
            session.flush()
            session.add(
                JoinedFunction(
                    build_id=build_id,
                    dwarf_function_id=dwarf.id,
                    binary_function_id=binary.id,
                    match_kind="JOINED_STRONG",
                    overlap=1.0,
                    confidence_tier="GOLD",
                )
            )
    store.dispose()


def serve_api(url: str, port: int) -> None:
    """Serve the reforge API for the store at `url` on 127.0.0.1:`port` until killed."""
    import uvicorn

    from reforge.api import create_app
    from reforge.store import open_store

    app = create_app(open_store(url))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def current_rss() -> int:
    """Return the resident set size of this process in bytes (Linux ``/proc``)."""
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * PAGE_SIZE


class RssSampler:
    """A thread that samples this process's resident set size every 20 ms and keeps the peak.

    ``ru_maxrss`` cannot serve here: its peak is reached while the runner
    imports its modules, before the run starts.
    """

    def __init__(self) -> None:
        self.peak = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> int:
        """Stop sampling and return the peak in bytes."""
        self._stopping.set()
        self._thread.join()
        return max(self.peak, current_rss())

    def _sample(self) -> None:
        while not self._stopping.wait(0.02):
            self.peak = max(self.peak, current_rss())


def run_worker(
    api_base: str, llm_base_url: str, data_dir: str, concurrency: int, batch_size: int
) -> None:
    """Run the experiment in this process and print its measurements as one JSON line."""
    from reforge.config import Settings
    from reforge.llm.runner import run_experiment

    settings = Settings(data_dir=Path(data_dir), budget_usd=1000.0)
    sampler = RssSampler()
    rss_before = current_rss()
    sampler.start()
    cpu_started = time.process_time()
    wall_started = time.perf_counter()
    summary = asyncio.run(
        run_experiment(
            EXPERIMENT_ID,
            api_base=api_base,
            llm_base_url=llm_base_url,
            concurrency=concurrency,
            batch_size=batch_size,
            progress=False,
            settings=settings,
        )
    )
    wall = time.perf_counter() - wall_started
    cpu = time.process_time() - cpu_started
    peak = sampler.stop()
    measurement = {
        "summary": summary,
        "wall_s": wall,
        "cpu_s": cpu,
        "rss_before": rss_before,
        "rss_peak": peak,
    }
    print(json.dumps(measurement), flush=True)


def wait_until_up(url: str, timeout: float = 60.0) -> None:
    """Poll `url` until it returns HTTP 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not respond with HTTP 200 within {timeout} s")


def measure(functions: int, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Fill a store with `functions` functions, run the experiment once, return the figures."""
    folder = workdir / f"n{functions}"
    folder.mkdir()
    url = f"sqlite:///{folder / 'store.sqlite'}"
    fill_store(url, functions)

    api_port, model_port = free_port(), free_port()
    script = str(Path(__file__).resolve())
    children = [
        subprocess.Popen([sys.executable, script, "serve-api", url, str(api_port)]),
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "reforge.llm.scripted_server",
                "--port",
                str(model_port),
                "--delay",
                str(args.delay),
            ],
            stdout=subprocess.DEVNULL,
        ),
    ]
    try:
        api_base = f"http://127.0.0.1:{api_port}"
        llm_base_url = f"http://127.0.0.1:{model_port}/v1"
        wait_until_up(f"{api_base}/health")
        wait_until_up(f"{llm_base_url}/models")
        register(api_base)
        round_trip = probe_round_trip(llm_base_url)
        worker = subprocess.run(
            [
                sys.executable,
                script,
                "worker",
                api_base,
                llm_base_url,
                str(folder / "data"),
                str(args.concurrency),
                str(args.batch_size),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        server_cpu = [process_cpu_seconds(child.pid) for child in children]
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(timeout=30)
    measurement = json.loads(worker.stdout.strip().splitlines()[-1])
    measurement["functions"] = functions
    measurement["model_round_trip_s"] = round_trip
    measurement["api_cpu_s"], measurement["model_server_cpu_s"] = server_cpu
    return measurement


def process_cpu_seconds(pid: int) -> float:
    """Return the user + system CPU seconds a process used so far (Linux ``/proc``)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    # Fields 14 and 15 of proc(5), counted from 1 with the pid as field 1.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def probe_round_trip(llm_base_url: str, calls: int = 5) -> float:
    """Return the median seconds of one chat completion, sent one at a time.

    The runner cannot be faster than concurrency / this time, so a round trip
    well above the configured delay points at the model server, not the runner.
    """
    body = {"model": MODEL, "messages": [{"role": "user", "content": "```c\nint f(void);\n```"}]}
    times = []
    with httpx.Client(timeout=30.0) as client:
        for _ in range(calls):
            started = time.perf_counter()
            client.post(f"{llm_base_url}/chat/completions", json=body).raise_for_status()
            times.append(time.perf_counter() - started)
    return sorted(times)[len(times) // 2]


def register(api_base: str) -> None:
    """Register the benchmark experiment (GOLD, O0, L0) with the API."""
    from reforge.experiments import ExperimentConfig

    config = ExperimentConfig(
        id=EXPERIMENT_ID, model=MODEL, tier="GOLD", opt="O0", context_level="L0"
    )
    response = httpx.post(f"{api_base}/data/experiments/bulk", json=[config.model_dump()])
    response.raise_for_status()


def report(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    """Print the measurements of every function count side by side."""
    ideal = args.concurrency / args.delay
    mib = 1024 * 1024
    print()
    print(
        f"concurrency {args.concurrency}, model latency {args.delay * 1000:.0f} ms, "
        f"ideal {ideal:.0f} calls/s, result batches of {args.batch_size}"
    )
    header = (
        f"{'functions':>9} {'calls':>6} {'errors':>6} {'wall s':>7} {'calls/s':>8} "
        f"{'x ideal':>7} {'CPU ms/call':>11} {'RSS before':>10} {'RSS peak':>9} {'growth':>7}"
        f" {'API ms/call':>11} {'model ms/call':>13}"
    )
    print(header)
    for row in rows:
        calls = row["summary"]["new"]
        rate = calls / row["wall_s"]
        print(
            f"{row['functions']:>9} {calls:>6} {row['summary']['errors']:>6} "
            f"{row['wall_s']:>7.2f} {rate:>8.1f} {rate / ideal:>7.2f} "
            f"{row['cpu_s'] / calls * 1000:>11.3f} "
            f"{row['rss_before'] / mib:>8.1f}Mi {row['rss_peak'] / mib:>7.1f}Mi "
            f"{(row['rss_peak'] - row['rss_before']) / mib:>5.1f}Mi"
            f" {row['api_cpu_s'] / calls * 1000:>11.3f}"
            f" {row['model_server_cpu_s'] / calls * 1000:>13.3f}"
        )
    print("targets: x ideal >= 0.90, CPU < 2 ms per call, RSS growth flat from N to 4N")
    print("API and model ms/call: CPU of the API and scripted-server processes (whole run)")
    round_trips = ", ".join(f"{row['model_round_trip_s'] * 1000:.0f} ms" for row in rows)
    print(
        f"model server round trip, one request at a time: {round_trips} "
        f"(configured delay {args.delay * 1000:.0f} ms)"
    )


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark, or one of its child roles."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "serve-api":
        serve_api(argv[1], int(argv[2]))
        return
    if argv and argv[0] == "worker":
        run_worker(argv[1], argv[2], argv[3], int(argv[4]), int(argv[5]))
        return

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--functions", type=int, default=2000, help="N; 4N is measured too")
    parser.add_argument("--concurrency", type=int, default=32, help="parallel model calls")
    parser.add_argument("--delay", type=float, default=0.2, help="model latency in seconds")
    parser.add_argument("--batch-size", type=int, default=20, help="results per POST")
    args = parser.parse_args(argv)

    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="reforge-bench-runner-") as workdir:
        rows = [measure(n, args, Path(workdir)) for n in (args.functions, 4 * args.functions)]
    report(rows, args)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
