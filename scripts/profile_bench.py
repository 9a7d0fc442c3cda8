"""CPU profile of the API server under `leanstock bench ledger|orders` (#18, docs/performance.md).

    sudo -E .venv/bin/python scripts/profile_bench.py ledger OUT [--batch] [--quick] [--rate 50]
    .venv/bin/python scripts/profile_bench.py aggregate OUT/*.raw
    .venv/bin/python scripts/profile_bench.py reaggregate RESULT.json RATE OUT/NAME-PID.raw...

Runs the benchmark as `leanstock bench X --database postgres` does (its own seed, closed loop
and 2-process `leanstock serve`). When the closed loop starts (after the seed) it attaches
`py-spy record --gil -f raw` (no `--idle`: CPU samples only) to the server's processes for the
loop's length, and reads the CPU of the server processes, of the PostgreSQL backends
connected to them (matched by TCP port in pg_stat_activity), of this process (the load
generator) and of the whole machine (/proc/stat) before and after the loop. py-spy must run
as root. It prints the bench's figures, the CPU per request and the samples by layer as JSON.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import resource
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

TICK = os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------ /proc
def proc_cpu(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (FileNotFoundError, ProcessLookupError):
        return 0.0


def thread_cpu(pid: int, tid: int) -> float:
    try:
        with open(f"/proc/{pid}/task/{tid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (FileNotFoundError, ProcessLookupError):
        return 0.0


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the machine since boot."""
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    idle = parts[3] + parts[4]
    return (sum(parts[:8]) - idle) / TICK, sum(parts[:8]) / TICK


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError):
            continue
        if ppid == pid:
            out.append(int(entry))
    return out


def server_pids(port: int) -> list[int]:
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")
        except (FileNotFoundError, ProcessLookupError):
            continue
        if b"serve" in cmd and str(port).encode() in cmd:
            parent = int(entry)
            kids = [k for k in children(parent) if b"resource_tracker" not in _cmd(k)]
            return [parent, *kids]
    raise RuntimeError(f"no `leanstock serve` on port {port}")


def _cmd(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except FileNotFoundError:
        return b""


def local_ports_to_pg(pids: list[int]) -> set[int]:
    """Local TCP ports of the processes' connections to port 5432."""
    inodes: set[str] = set()
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                except OSError:
                    continue
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except FileNotFoundError:
            continue
    ports: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for row in rows:
            cols = row.split()
            local, remote, inode = cols[1], cols[2], cols[9]
            if inode in inodes and int(remote.rsplit(":", 1)[1], 16) == 5432:
                ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports


def backends(pids: list[int]) -> set[int]:
    from sqlalchemy import create_engine, text

    from leanstock.benchmarks._http import DEFAULT_POSTGRES

    ports = local_ports_to_pg(pids)
    if not ports:
        return set()
    base = os.environ.get("LEANSTOCK_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    from leanstock.adapters.db.engine import normalise_url

    engine = create_engine(normalise_url(base))
    with engine.connect() as db:
        rows = db.execute(
            text("SELECT pid FROM pg_stat_activity WHERE client_port = ANY(:p)"),
            {"p": list(ports)},
        ).all()
    engine.dispose()
    return {int(r[0]) for r in rows}


# ------------------------------------------------------------------ the run
def run(bench: str, out: Path, batch: bool, quick: bool, rate: int) -> dict[str, Any]:
    from leanstock.benchmarks import BenchOptions

    module: Any = importlib.import_module(f"leanstock.benchmarks.{bench}")
    original = module.closed_loop
    record: dict[str, Any] = {}
    name = f"{bench}-batch" if batch else bench

    async def profiled(base: str, token: str, clients: int, seconds: float, step: Any) -> Any:
        port = int(base.rsplit(":", 1)[1])
        pids = server_pids(port)
        before_backends = backends(pids)
        spies = [
            subprocess.Popen(
                [
                    "py-spy",
                    "record",
                    "-r",
                    str(rate),
                    "-f",
                    "raw",
                    "--gil",
                    "--nonblocking",
                    "-d",
                    str(int(seconds) + 1),
                    "-p",
                    str(pid),
                    "-o",
                    str(out / f"{name}-{pid}.raw"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=(out / f"{name}-{pid}.err").open("w"),
            )
            for pid in pids
        ]
        await asyncio.sleep(0.5)  # py-spy attached
        server0 = {p: proc_cpu(p) for p in pids}
        main0 = {p: thread_cpu(p, p) for p in pids}
        pg0 = {p: proc_cpu(p) for p in before_backends}
        self0 = proc_cpu(os.getpid())
        m0 = machine_cpu()
        load0 = loadavg()
        load = await original(base, token, clients, seconds, step)
        m1 = machine_cpu()
        self1 = proc_cpu(os.getpid())
        server1 = {p: proc_cpu(p) for p in pids}
        main1 = {p: thread_cpu(p, p) for p in pids}
        after_backends = backends(pids)
        pg1 = {p: proc_cpu(p) for p in after_backends | before_backends}
        load1 = loadavg()
        spy_cpu = 0.0
        for s in spies:
            s.wait()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        spy_cpu = usage.ru_utime + usage.ru_stime
        requests = len(load.latencies)
        server = sum(server1[p] - server0[p] for p in pids)
        pg = sum(pg1[p] - pg0.get(p, 0.0) for p in pg1)
        client = self1 - self0
        wall = load.wall
        record.update(
            requests=requests,
            moves=load.moves,
            wall_s=round(wall, 2),
            server_pids=pids,
            backends=sorted(pg1),
            new_backends=len(after_backends - before_backends),
            cpu_s={
                "server": round(server, 3),
                "server_main_threads": round(sum(main1[p] - main0[p] for p in pids), 3),
                "postgres": round(pg, 3),
                "client": round(client, 3),
                "machine_busy": round(m1[0] - m0[0], 2),
                "machine_total": round(m1[1] - m0[1], 2),
                "py_spy": round(spy_cpu, 2),
            },
            per_request_ms={
                "server": round(1000 * server / requests, 2),
                "postgres": round(1000 * pg / requests, 2),
                "client": round(1000 * client / requests, 2),
            },
            cores={
                "server": round(server / wall, 3),
                "postgres": round(pg / wall, 3),
                "client": round(client / wall, 3),
                "machine": round((m1[0] - m0[0]) / wall, 3),
            },
            loadavg_before=load0,
            loadavg_after=load1,
        )
        return load

    module.closed_loop = profiled
    try:
        figures = module.run(BenchOptions(database="postgres", quick=quick, batch=batch))
    finally:
        module.closed_loop = original
    return {"bench": figures, "profile": record}


# ------------------------------------------------------------------ layers
# py-spy's raw format names files relative to their sys.path entry: "fastapi/routing.py".
PACKAGES = {
    "uvicorn": "uvicorn/HTTP (Python part)",
    "h11": "uvicorn/HTTP (Python part)",
    "httptools": "uvicorn/HTTP (Python part)",
    "uvloop": "uvicorn/HTTP (Python part)",
    "starlette": "Starlette/FastAPI routing+deps",
    "fastapi": "Starlette/FastAPI routing+deps",
    "anyio": "thread hand-off (anyio, for sync endpoints and deps)",
    "pydantic": "pydantic validation/serialisation",
    "pydantic_core": "pydantic validation/serialisation",
    "json": "pydantic validation/serialisation",
    "sqlalchemy": "SQLAlchemy",
    "psycopg": "psycopg",
    "psycopg_binary": "psycopg",
    "psycopg_pool": "psycopg",
    "logging": "logging/metrics",
    "prometheus_client": "logging/metrics",
}
# A leaf here is a thread waiting (for PostgreSQL's answer, for work, for a socket): py-spy
# cannot tell waiting threads from running ones on this VM, so these samples are dropped.
IDLE = (
    "Connection.wait (psycopg/connection.py",
    "Condition.wait (threading.py",
    "Lock.acquire",
    "_wait_for_tstate_lock",
    "select (selectors.py",
)
LOOP = "Runner.run (asyncio/runners.py"  # uvloop's C loop: epoll waits AND httptools/socket work


def frame_file(frame: str) -> str:
    if "(" in frame and frame.endswith(")"):
        return frame.rsplit("(", 1)[1][:-1]
    return frame


def layer_of_frame(path: str) -> str | None:
    if path.startswith("leanstock/"):
        if path.startswith(
            ("leanstock/entrypoints/api/observability", "leanstock/entrypoints/logs")
        ):
            return "logging/metrics"
        if path.startswith("leanstock/adapters/"):
            return "Leanstock adapters"
        if path.startswith(("leanstock/services/", "leanstock/domain/", "leanstock/planning/")):
            return "Leanstock services/domain"
        return "Leanstock entrypoints (routes, deps, schemas)"
    if path.startswith("<frozen"):
        return None
    top = path.split("/", 1)[0].removesuffix(".py").split(".")[0]
    if top in PACKAGES:
        return PACKAGES[top]
    if top in sys.stdlib_module_names or not path:
        return None  # stdlib: counts for its caller
    return "other libraries"


def layer_of(stack: list[str]) -> str:
    for frame in reversed(stack):
        layer = layer_of_frame(frame_file(frame).split(":")[0])
        if layer:
            return layer
    return "other (stdlib, thread start)"


def aggregate(files: list[Path]) -> dict[str, Any]:
    groups: dict[str, Counter[str]] = {"main": Counter(), "workers": Counter()}
    leaves: Counter[str] = Counter()
    idle = {"main": 0, "workers": 0}
    for file in files:
        for line in file.read_text().splitlines():
            stack_text, _, count = line.rpartition(" ")
            if not stack_text:
                continue
            c = int(count)
            stack = stack_text.split(";")
            group = "workers" if stack[0].startswith("Thread._bootstrap") else "main"
            leaf = stack[-1]
            if leaf.startswith(IDLE):
                idle[group] += c
            elif leaf.startswith(LOOP):
                groups[group]["uvicorn/HTTP: uvloop+httptools in C (main thread, GIL held)"] += c
            else:
                layer = layer_of(stack)
                groups[group][layer] += c
                # the innermost frame of that layer: where in the layer the time went
                for frame in reversed(stack):
                    if layer_of_frame(frame_file(frame).split(":")[0]) == layer:
                        where = frame_file(frame).split(":")[0]
                        leaves[f"{layer[:12]} | {frame.split(' (')[0]} ({where})"] += c
                        break
    top = dict(leaves.most_common(40))
    return {"top_frames": top} | {
        g: {
            "busy_samples": sum(cnt.values()),
            "idle_samples": idle[g],
            "layers": dict(cnt.most_common()),
        }
        for g, cnt in groups.items()
    }


def breakdown(result: dict[str, Any], rate: int) -> dict[str, Any]:
    """Server CPU ms per request by layer.

    py-spy --gil samples the thread holding the GIL. The event loop's thread (uvicorn, Starlette,
    FastAPI's async part) and the worker threads (sync endpoints and dependencies: services,
    SQLAlchemy, psycopg) are scaled separately, each group's samples to that group's CPU from
    /proc (the main thread's own /proc/PID/task/PID/stat, the rest of the process for the
    workers), because a thread preempted while holding the GIL is sampled but uses no CPU, and
    a worker's libpq and socket calls use CPU with the GIL released and are not sampled.
    """
    prof, samples = result["profile"], result["samples"]
    n = prof["requests"]
    main = prof["cpu_s"]["server_main_threads"]
    cpu = {"main": main, "workers": prof["cpu_s"]["server"] - main}
    out: Counter[str] = Counter()
    per_sample = {}
    for group in ("main", "workers"):
        layers = samples[group]["layers"]
        total = sum(layers.values()) or 1
        per_sample[group] = round(cpu[group] / total, 5)
        for layer, c in layers.items():
            out[layer] += 1000 * cpu[group] * c / total / n
    return {
        "ms_per_request": {k: round(v, 3) for k, v in out.most_common()},
        "pct": {k: round(100 * v / sum(out.values()), 1) for k, v in out.most_common()},
        "main_thread_ms": round(1000 * cpu["main"] / n, 3),
        "worker_threads_ms": round(1000 * cpu["workers"] / n, 3),
        "cpu_seconds_per_sample": per_sample,
        "nominal_seconds_per_sample": 1 / rate,
    }


def main() -> None:
    if sys.argv[1] == "reaggregate":  # RESULT.json RATE FILES...: redo the samples' part
        result = json.loads(Path(sys.argv[2]).read_text())
        result["samples"] = aggregate([Path(p) for p in sys.argv[4:]])
        result["breakdown"] = breakdown(result, int(sys.argv[3]))
        print(json.dumps(result, indent=1))
        return
    if sys.argv[1] == "aggregate":
        print(json.dumps(aggregate([Path(p) for p in sys.argv[2:]]), indent=1))
        return
    bench, out = sys.argv[1], Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    rate = int(sys.argv[sys.argv.index("--rate") + 1]) if "--rate" in sys.argv else 50
    result = run(bench, out, "--batch" in sys.argv, "--quick" in sys.argv, rate)
    files = [
        p
        for p in out.glob(f"{bench}{'-batch' if '--batch' in sys.argv else ''}-*.raw")
        if p.stem.rsplit("-", 1)[1] in {str(x) for x in result["profile"]["server_pids"]}
    ]
    result["samples"] = aggregate(files)
    result["breakdown"] = breakdown(result, rate)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
