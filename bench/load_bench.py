"""Load benchmark: N concurrent API uploads against gunicorn + 1, 2, 4 workers.

Run with ``make bench-load`` or, for example::

    .venv/bin/python bench/load_bench.py --n 200 --workers 1,2,4 \\
        --database-url postgres://postgres@127.0.0.1:5432/bench_scale \\
        --redis-url redis://127.0.0.1:6379/14 --port 8105

What it does, all on 127.0.0.1, and it stops by itself:

1. Creates the benchmark database if it is missing and migrates it, registers
   and activates ``models/disease/default.pt``, creates the ``demo-*`` users
   and reads the API token of ``demo-clinician`` (``manage.py
   create_api_token``). The Redis database is FLUSHED: give it one of its own.
2. Starts gunicorn (``--gunicorn-workers`` processes) on ``--port``.
3. For each worker count K: starts K Celery worker processes on the default
   queue (``--mode processes``: K separate ``celery worker --concurrency 1``,
   as ``docker compose up --scale worker=K`` does; ``--mode pool``: one
   ``celery worker --concurrency K``), each with ``EMG_WORKER_THREADS`` =
   cores // K (unless ``--worker-threads`` says otherwise); sends
   ``--warmup`` uploads so every process has loaded torch and the model; then
   posts ``--n`` uploads of ``emg_healthy`` at once from ``--clients`` client
   threads; polls the database (so that polling does not load the web tier)
   until every accepted job has finished or ``--timeout`` s have passed; reads
   every job once more through the API; stops the workers.
4. Prints one column per worker count: accepted, finished (SUCCEEDED /
   FAILED), lost (accepted, not finished by the timeout), 5xx, upload latency
   p50/p95, upload-to-result p50/p95, jobs/s, worker CPU seconds per job (from
   ``/proc/<pid>/stat`` of the worker processes and their pool children),
   gunicorn CPU seconds per job, and the speed-up over 1 worker (total and per
   worker).

Throttles and quotas of the API would limit the benchmark rather than the
workers; ``--server-env KEY=VALUE`` (repeatable) passes settings such as
generous limits to gunicorn and the workers. Nothing is asserted: the figures
are printed with the machine's core count and load average, since a shared
machine disturbs them.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import psycopg
import redis
import requests

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
TICKS = os.sysconf("SC_CLK_TCK")


# --- processes -----------------------------------------------------------------


def _proc_children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    return children


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of ``pids``, their live descendants and reaped children."""
    children = _proc_children()
    todo, seen, total = list(pids), set(), 0.0
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime, stime, cutime, cstime (fields 14-17 of proc(5)).
        total += sum(int(f) for f in fields[11:15]) / TICKS
        todo.extend(children.get(pid, []))
    return total


def _stop(proc: subprocess.Popen, timeout: float = 30.0) -> None:
    """SIGTERM the process group we started, then SIGKILL it if it lingers."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextmanager
def started(cmd: list[str], env: dict[str, str], log: Path):
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            cmd,
            cwd=REPO,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed as a whole
        )
    try:
        yield proc
    finally:
        _stop(proc)


def manage(env: dict[str, str], *args: str) -> str:
    out = subprocess.run(
        [PY, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if out.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout


# --- set-up --------------------------------------------------------------------


def database_ensure(url: str) -> None:
    """Create the benchmark database when it does not exist."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    name = info.pop("dbname")
    with psycopg.connect(**info, dbname="postgres", autocommit=True) as conn:
        if not conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def app_env(args, var_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="clinic.settings",
        SECRET_KEY=secrets.token_urlsafe(40),
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=args.database_url,
        CELERY_BROKER_URL=args.redis_url,
        MYOLENS_VAR_DIR=str(var_dir),
        MEDIA_ROOT=str(var_dir / "media"),
        LOG_LEVEL="WARNING",
    )
    for item in args.server_env:
        key, _, value = item.partition("=")
        env[key] = value
    return env


def app_prepare(env: dict[str, str]) -> str:
    """Migrate, activate the shipped model, and return a clinician's API token."""
    manage(env, "migrate", "--no-input")
    model = REPO / "models" / "disease" / "default.pt"
    manage(
        env,
        "import_checkpoint",
        str(model),
        "--activate",
        "--if-no-active",
        "--accept-below-thresholds",
        "Load benchmark: the shipped default model.",
    )
    manage(env, "create_demo_users")
    return manage(env, "create_api_token", "demo-clinician").strip().splitlines()[-1]


def wait_http(url: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=5)
            return
        except requests.ConnectionError:
            time.sleep(0.5)
    sys.exit(f"gunicorn did not answer at {url} within {timeout:.0f} s")


def wait_ready(logs: list[Path], timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(" ready." in p.read_text(errors="replace") for p in logs):
            return
        time.sleep(0.5)
    sys.exit(f"workers not ready within {timeout:.0f} s; see {logs[0].parent}")


# --- one round -----------------------------------------------------------------


class Client:
    def __init__(self, base: str, token: str, record: Path):
        self.base = base
        self.headers = {"Authorization": f"Token {token}"}
        self.files = [
            (record.name + s, (record.parent / (record.name + s)).read_bytes())
            for s in (".hea", ".dat")
        ]

    def upload(self, i: int) -> dict[str, Any]:
        t0 = time.time()
        try:
            resp = requests.post(
                f"{self.base}/api/v1/recordings",
                headers=self.headers,
                data={"patient_code": f"BENCH{i % 50:03d}", "muscle": "biceps"},
                files=[("file", (n, b)) for n, b in self.files],
                timeout=120,
            )
            code = resp.status_code
            job_id = resp.json().get("job_id") if code == 202 else None
        except (requests.RequestException, ValueError):
            code, job_id = 0, None
        return {"t0": t0, "latency": time.time() - t0, "code": code, "job_id": job_id}

    def job(self, job_id: int) -> tuple[int, dict]:
        try:
            r = requests.get(
                f"{self.base}/api/v1/jobs/{job_id}", headers=self.headers, timeout=60
            )
            return r.status_code, (r.json() if r.ok else {})
        except (requests.RequestException, ValueError):
            return 0, {}


def jobs_state(db_url: str, ids: list[int]) -> dict[int, tuple[str, float | None]]:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT j.id, j.status, extract(epoch FROM j.finished_at)::float8, r.id "
            "FROM clinic_analysisjob j LEFT JOIN clinic_result r ON r.job_id = j.id "
            "WHERE j.id = ANY(%s)",
            (ids,),
        ).fetchall()
    return {
        i: (s, f if rid is not None or s == "FAILED" else None) for i, s, f, rid in rows
    }


def uploads_run(client: Client, n: int, clients: int) -> list[dict]:
    with ThreadPoolExecutor(max_workers=clients) as pool:
        return list(pool.map(client.upload, range(n)))


def wait_finished(db_url: str, ids: list[int], timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    state: dict = {}
    while time.monotonic() < deadline:
        state = jobs_state(db_url, ids)
        if all(s in ("SUCCEEDED", "FAILED") for s, _ in state.values()) and len(
            state
        ) == len(ids):
            break
        time.sleep(1.0)
    return state


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def round_run(args, env, client: Client, k: int, tmp: Path) -> dict[str, Any]:
    redis.Redis.from_url(args.redis_url).flushdb()
    threads = args.worker_threads or max(1, (os.cpu_count() or 1) // k)
    wenv = {**env, "EMG_WORKER_THREADS": str(threads)}
    base = [
        PY,
        "-m",
        "celery",
        "-A",
        "clinic",
        "worker",
        "-Q",
        "celery",
        "--loglevel",
        "INFO",
    ]
    if args.mode == "pool":
        cmds = [base + ["--concurrency", str(k), "-n", f"bench{k}@%h"]]
    else:
        cmds = [
            base + ["--concurrency", "1", "-n", f"bench{k}-{i}@%h"] for i in range(k)
        ]
    logs = [tmp / f"worker-k{k}-{i}.log" for i in range(len(cmds))]
    with ExitStack() as stack:
        procs = [
            stack.enter_context(started(c, wenv, lg))
            for c, lg in zip(cmds, logs, strict=True)
        ]
        wait_ready(logs)
        n_warm = 2 * k if args.warmup is None else args.warmup
        warm = uploads_run(client, n_warm, max(1, min(args.clients, n_warm)))
        wait_finished(
            args.database_url, [u["job_id"] for u in warm if u["job_id"]], args.timeout
        )
        cpu0 = cpu_seconds([p.pid for p in procs])
        web0 = cpu_seconds([args.gunicorn_pid])
        load0 = os.getloadavg()[0]
        ups = uploads_run(client, args.n, args.clients)
        ids = [u["job_id"] for u in ups if u["job_id"]]
        state = wait_finished(args.database_url, ids, args.timeout)
        cpu = cpu_seconds([p.pid for p in procs]) - cpu0
        web = cpu_seconds([args.gunicorn_pid]) - web0
        load1 = os.getloadavg()[0]
        api = [client.job(i) for i in ids]  # the API agrees with the database
    t0 = {u["job_id"]: u["t0"] for u in ups if u["job_id"]}
    done = {i: f for i, (s, f) in state.items() if s in ("SUCCEEDED", "FAILED") and f}
    succeeded = sum(1 for s, _ in state.values() if s == "SUCCEEDED")
    e2e = [done[i] - t0[i] for i in done]
    span = (max(done.values()) - min(u["t0"] for u in ups)) if done else None
    return {
        "workers": k,
        "threads_per_process": threads,
        "accepted": len(ids),
        "finished": len(done),
        "succeeded": succeeded,
        "failed": len(done) - succeeded,
        "lost": len(ids) - len(done),
        "http_5xx": sum(1 for u in ups if u["code"] >= 500)
        + sum(1 for c, _ in api if c >= 500),
        "http_other": sorted(
            {u["code"] for u in ups if u["code"] not in (202,) and u["code"] < 500}
        ),
        "api_results": sum(1 for c, body in api if c == 200 and body.get("result")),
        "upload_p50_s": pct([u["latency"] for u in ups], 50),
        "upload_p95_s": pct([u["latency"] for u in ups], 95),
        "result_p50_s": pct(e2e, 50),
        "result_p95_s": pct(e2e, 95),
        "jobs_per_s": len(done) / span if span else None,
        "worker_cpu_s_per_job": cpu / len(done) if done else None,
        "web_cpu_s_per_job": web / len(done) if done else None,
        "load_avg_1min": [round(load0, 2), round(load1, 2)],
    }


# --- report --------------------------------------------------------------------

ROWS = [
    ("accepted (202)", "accepted", "{}"),
    ("finished", "finished", "{}"),
    ("  succeeded / failed", None, None),
    ("lost", "lost", "{}"),
    ("5xx", "http_5xx", "{}"),
    ("other HTTP codes", "http_other", "{}"),
    ("results via API", "api_results", "{}"),
    ("upload latency p50 (s)", "upload_p50_s", "{:.3f}"),
    ("upload latency p95 (s)", "upload_p95_s", "{:.3f}"),
    ("upload->result p50 (s)", "result_p50_s", "{:.2f}"),
    ("upload->result p95 (s)", "result_p95_s", "{:.2f}"),
    ("jobs/s", "jobs_per_s", "{:.3f}"),
    ("worker CPU s / job", "worker_cpu_s_per_job", "{:.3f}"),
    ("gunicorn CPU s / job", "web_cpu_s_per_job", "{:.3f}"),
    ("speed-up vs 1 worker", "speedup", "{:.2f}x"),
    ("speed-up per worker", "speedup_per_worker", "{:.2f}"),
    ("threads per process", "threads_per_process", "{}"),
    ("load avg (start, end)", "load_avg_1min", "{}"),
]


def table(rounds: list[dict]) -> str:
    base = next((r["jobs_per_s"] for r in rounds if r["workers"] == 1), None)
    for r in rounds:
        ok = base and r["jobs_per_s"]
        r["speedup"] = r["jobs_per_s"] / base if ok else None
        r["speedup_per_worker"] = r["speedup"] / r["workers"] if ok else None
    head = f"{'':26}" + "".join(
        f"{str(r['workers']) + ' worker(s)':>14}" for r in rounds
    )
    lines = [head]
    for label, key, fmt in ROWS:
        cells = []
        for r in rounds:
            if key is None:
                cells.append(f"{r['succeeded']} / {r['failed']}")
            else:
                v = r.get(key)
                cells.append("-" if v is None else fmt.format(v))
        lines.append(f"{label:26}" + "".join(f"{c:>14}" for c in cells))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200, help="concurrent uploads per round")
    ap.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
    ap.add_argument("--mode", choices=("processes", "pool"), default="processes")
    ap.add_argument("--worker-threads", type=int, default=0, help="0: cores // workers")
    ap.add_argument("--clients", type=int, default=50, help="client threads posting")
    ap.add_argument("--warmup", type=int, default=None, help="default: 2 per worker")
    ap.add_argument("--timeout", type=float, default=1800.0, help="s to wait per round")
    ap.add_argument("--gunicorn-workers", type=int, default=2)
    ap.add_argument("--port", type=int, default=8105)
    ap.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/myolens_bench"
    )
    ap.add_argument("--redis-url", default="redis://127.0.0.1:6379/14", help="FLUSHED")
    ap.add_argument("--record", type=Path, default=None, help="WFDB record (no suffix)")
    ap.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument(
        "--json", type=Path, default=None, help="also write the figures here"
    )
    args = ap.parse_args(argv)
    counts = [int(c) for c in args.workers.split(",") if c.strip()]
    if args.n < 1 or not counts or min(counts) < 1:
        ap.error("--n and every --workers count must be at least 1")
    data = Path(os.environ.get("EMG_DATA_DIR", REPO.parent / "shared" / "data"))
    record = args.record or data / "physionet-emgdb" / "emg_healthy"
    if not record.with_suffix(".hea").is_file():
        ap.error(f"no WFDB record at {record} (set EMG_DATA_DIR or --record)")
    database_ensure(args.database_url)
    rounds = []
    with tempfile.TemporaryDirectory(prefix="myolens-load-") as tmp_name:
        tmp = Path(tmp_name)
        env = app_env(args, tmp)
        token = app_prepare(env)
        gunicorn = [
            PY,
            "-m",
            "gunicorn",
            "clinic.wsgi:application",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.gunicorn_workers),
            "--timeout",
            "120",
        ]
        with started(gunicorn, env, tmp / "gunicorn.log") as web:
            args.gunicorn_pid = web.pid
            base = f"http://127.0.0.1:{args.port}"
            wait_http(f"{base}/health/")
            client = Client(base, token, record)
            for k in counts:
                print(
                    f"-- {k} worker(s) ({args.mode}), N={args.n} ...",
                    file=sys.stderr,
                    flush=True,
                )
                rounds.append(round_run(args, env, client, k, tmp))
    print(
        f"Load benchmark: N={args.n} uploads of {record.name}, {args.clients} client "
        f"threads, gunicorn {args.gunicorn_workers} workers, mode {args.mode}, "
        f"{os.cpu_count()} cores"
    )
    print(table(rounds))
    if args.json:
        args.json.write_text(json.dumps(rounds, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
