"""Online prediction latency and throughput: `softquery serve` against an in-process floor.

Trains two models on 10 float features (the linear_regression template, with its
AutoPreprocessor, and hist_gradient_boosting_regressor), starts `softquery serve`,
and measures with wrk (Debian package `wrk`; a Lua script posts the JSON body):

* one-row requests at concurrency 1: p50 and p99 latency;
* one-row requests at concurrency 16: requests/s and p99;
* a 1000-row request at concurrency 1: p50;
* every model in turn (each request asks the next model), concurrency 16: requests/s and p99.

Serving workers hold the versions of one owner each. ``--owners N`` gives the models N
owners (default 1, both models admin-made: one worker holds both). With ``--owners 2``
each model has its own owner, which is what one worker per model would cost; more than
2 owners add copies of the linear model (``lin3`` …), one per owner. The report ends with
the serving workers (owner, resident memory) and how long each model's first request
took (a worker start when none of its owner was free, and the load). ``--quick``
measures only the in-turn figure and skips the floor.

Every request to `softquery serve` carries `Authorization: Bearer <token>`: the benchmark
adds a viewer `bench` with a `predict`-scope token for the two models (made through the
service layer on the home before the server starts), as a scoring client would have.
The server looks a token up at most once per `serving_refresh_seconds`, so the figures
include the token check as it is in production.

The floor, measured in the same run: a minimal FastAPI app on uvicorn (same
httptools/uvloop, OpenMP/BLAS threads pinned to 1 like the serving workers)
that holds the same trained model in its own process and answers
``{"predictions": model.predict(pd.DataFrame(rows))}`` — no sandbox, no checks.

    .venv/bin/python benchmarks/online.py [--duration 8] [--rows 20000] [--workers N] [--owners N] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
FEATURES = [f"f{i}" for i in range(10)]
TARGETS = {"p50_c1": "≤ 1.5× floor and ≤ 2 ms", "rps_c16": "≥ 1500 req/s", "p50_1000": "≤ 20 ms"}
MODELS = {"lin": "linear_regression", "hgb": "hist_gradient_boosting_regressor"}

FLOOR_APP = '''
import sys
import pandas as pd
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from softquery.artifacts import serialize

models = {}
for name in sys.argv[2:]:
    code = open(f"{sys.argv[1]}/{name}.py").read()
    models[name] = serialize.loads(open(f"{sys.argv[1]}/{name}.bin", "rb").read(), code)
app = FastAPI()

@app.post("/predict/{name}")
async def predict(name: str, request: Request):
    body = await request.json()
    X = pd.DataFrame(body["rows"])
    return JSONResponse({"predictions": models[name].predict(X).tolist()})

uvicorn.run(app, host="127.0.0.1", port=PORT,
            log_level="warning", http="httptools", loop="uvloop")
'''


def make_table(path: Path, rows: int) -> None:
    rng = random.Random(1)
    with sqlite3.connect(path) as conn:
        conn.execute(f"create table points (id integer primary key, {', '.join(f + ' real' for f in FEATURES)}, y real)")
        batch = []
        for i in range(rows):
            f = [rng.gauss(0, 1) for _ in FEATURES]
            batch.append((i + 1, *f, sum((j + 1) * x for j, x in enumerate(f)) + rng.gauss(0, 0.5)))
        conn.executemany(f"insert into points values ({', '.join('?' * 12)})", batch)  # noqa: S608 - constant
    conn.close()


def train(home: Path, rows: int, owners: int) -> tuple[dict[str, str], list[str]]:
    """Train the models, owned by ``owners`` owners; returns the Authorization headers
    (``predict`` for scoring, ``read``) and the models' names."""
    from softquery.config import Settings
    from softquery.domain import RunKind, RunTrigger
    from softquery.domain.accounts import Role, TokenScope
    from softquery.services.accounts import add_user
    from softquery.services.context import open_context
    from softquery.services.home import init_home
    from softquery.services.models import ModelSpec, create_model, duplicate_model, set_owner
    from softquery.services.runs import execute_here, submit_run
    from softquery.services.sources import add_source
    from softquery.services.tokens import create_token

    settings = Settings(home=home)
    init_home(settings)
    ctx = open_context(settings)
    make_table(home / "points.db", rows)
    add_source(ctx, "pts", f"sqlite:///{home / 'points.db'}")
    cols = ", ".join(FEATURES)
    for name, template in MODELS.items():
        create_model(ctx, name, ModelSpec(source="pts", template=template,
                                          train_sql=f"select id, {cols}, y from points",  # noqa: S608 - constant
                                          predict_sql=f"select id, {cols} from points"))  # noqa: S608 - constant
        run = execute_here(ctx, submit_run(ctx, name, RunKind.TRAIN, RunTrigger.CLI, None).id)
        assert run.status.value == "succeeded", run.error_message
        version = ctx.versions.get(name, 1)
        (home / f"{name}.bin").write_bytes(ctx.versions.artifact(name, 1))
        (home / f"{name}.py").write_text(version.manifest["code"])
    names = list(MODELS)
    for extra in range(3, owners + 1):  # one more linear model per owner beyond the two models
        names.append(duplicate_model(ctx, "lin", f"lin{extra}").name)
        run = execute_here(ctx, submit_run(ctx, names[-1], RunKind.TRAIN, RunTrigger.CLI, None).id)
        assert run.status.value == "succeeded", run.error_message
    if owners > 1:
        for index, name in enumerate(names, start=1):
            add_user(ctx, f"owner{index}", Role.EDITOR)
            set_owner(ctx, name, f"owner{index}")
    add_user(ctx, "bench", Role.VIEWER)
    predict = create_token(ctx, "bench", name="benchmark", scope=TokenScope.PREDICT, models=names, days=1)
    read = create_token(ctx, "bench", name="benchmark (workers)", days=1)
    ctx.close()
    return {"predict": f"Bearer {predict.token}", "read": f"Bearer {read.token}"}, names


def body(rows: int, seed: int = 5) -> bytes:
    rng = random.Random(seed)
    return json.dumps({"rows": [{f: rng.gauss(0, 1) for f in FEATURES} for _ in range(rows)]}).encode()


def wait_url(log: Path, process: subprocess.Popen[bytes], pattern: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = re.search(pattern, log.read_text(errors="replace"))
        if match:
            return match.group(1)
        if process.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text()}")
        time.sleep(0.05)
    raise SystemExit(f"server did not start:\n{log.read_text()}")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, payload: Path, connections: int, duration: float,
        authorization: str | None = None, paths: list[str] | None = None) -> dict[str, float]:
    """wrk posting ``payload`` to ``url`` (or to each of ``paths`` of its host in turn)."""
    script = payload.with_suffix(".lua")
    auth = f'wrk.headers["Authorization"] = "{authorization}"\n' if authorization else ""
    turns = ("local paths = {" + ", ".join(f'"{p}"' for p in paths) + "}\nlocal i = 0\n"
             "request = function()\n  i = i + 1\n  return wrk.format(nil, paths[(i % #paths) + 1])\nend\n"
             ) if paths else ""
    script.write_text(f'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n{auth}'
                      f'local f = io.open("{payload}", "rb")\nwrk.body = f:read("*all")\nf:close()\n{turns}')
    threads = 1 if connections == 1 else 2
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency",
                          "--timeout", "10s", "-s", str(script), url], capture_output=True, text=True, check=True).stdout
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors or "Socket errors" in out or "50" not in lat:
        raise SystemExit(f"wrk saw errors against {url}:\n{out}")
    return {"p50": _ms(lat["50"]), "p99": _ms(lat["99"]),
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]


def measure(url_of: dict[str, str], tmp: Path, duration: float, authorization: str | None = None,
            quick: bool = False) -> dict[str, dict[str, float]]:
    """Per model: its figures; under "turns": every model in turn; under "first": first requests (ms)."""
    one, thousand = tmp / "one.json", tmp / "thousand.json"
    one.write_bytes(body(1))
    thousand.write_bytes(body(1000))
    headers = {"content-type": "application/json", **({"authorization": authorization} if authorization else {})}
    results: dict[str, dict[str, float]] = {"first": {}}
    for name, url in url_of.items():
        started = time.perf_counter()
        response = httpx.post(url, content=one.read_bytes(), headers=headers, timeout=60)
        assert response.status_code == 200, response.text
        results["first"][name] = (time.perf_counter() - started) * 1000
    for name, url in url_of.items():
        for payload in (one, thousand):  # warm up: load the model, JIT nothing, fill caches
            for _ in range(20):
                response = httpx.post(url, content=payload.read_bytes(), headers=headers, timeout=60)
                assert response.status_code == 200, response.text
        if quick:
            continue
        c1 = wrk(url, one, 1, duration, authorization)
        c16 = wrk(url, one, 16, duration, authorization)
        big = wrk(url, thousand, 1, max(3.0, duration / 2), authorization)
        results[name] = {"p50_c1": c1["p50"], "p99_c1": c1["p99"], "rps_c16": c16["rps"], "p99_c16": c16["p99"],
                         "p50_1000": big["p50"]}
    base = re.match(r"https?://[^/]+", next(iter(url_of.values()))).group(0)  # type: ignore[union-attr]
    turns = wrk(base + "/", one, 16, duration, authorization, paths=[u.removeprefix(base) for u in url_of.values()])
    results["turns"] = {"rps_c16": turns["rps"], "p99_c16": turns["p99"]}
    return results


def wrk_overhead(tmp: Path, duration: float) -> float:
    """wrk's own p50 against a trivial server: what the load generator adds (≈ kernel + loopback)."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True
        wbufsize = 65536  # one write per response (flushed after each request)

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers["content-length"]))
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    payload = tmp / "tiny.json"
    payload.write_bytes(body(1))
    try:
        return wrk(f"http://127.0.0.1:{server.server_address[1]}/", payload, 1, min(duration, 3.0))["p50"]
    finally:
        server.shutdown()


def start_floor(tmp: Path, home: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    floor_script = tmp / "floor.py"
    floor_script.write_text(FLOOR_APP.replace("PORT", str(port)))
    flog = tmp / "floor.log"
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    floor = subprocess.Popen([sys.executable, str(floor_script), str(home), *MODELS], stdout=flog.open("w"),
                             stderr=subprocess.STDOUT, env=env, cwd=ROOT, start_new_session=True)
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/docs")
            return floor, port
        except httpx.HTTPError:
            if time.monotonic() > deadline or floor.poll() is not None:
                floor.kill()
                raise SystemExit(f"floor did not start:\n{flog.read_text()}") from None
            time.sleep(0.1)


def resident_mb(pid: int) -> float | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmRSS:\s+(\d+) kB", text, re.M)
    return int(match.group(1)) / 1024 if match else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per wrk run")
    parser.add_argument("--rows", type=int, default=20000, help="training rows")
    parser.add_argument("--workers", type=int, default=None, help="SOFTQUERY_SERVING_WORKERS (default: its default)")
    parser.add_argument("--owners", type=int, default=1, help="owners of the models (see above)")
    parser.add_argument("--quick", action="store_true", help="only the in-turn figure, no floor")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    tmp = Path(tempfile.mkdtemp(prefix="softquery-online-"))
    home = tmp / "home"
    print(f"training {', '.join(MODELS.values())} on {args.rows:,} rows x 10 float features "
          f"({args.owners} owner(s)) ...", flush=True)
    auth, names = train(home, args.rows, args.owners)
    env = dict(os.environ, SOFTQUERY_HOME=str(home), SOFTQUERY_PORT="0")
    if args.workers:
        env["SOFTQUERY_SERVING_WORKERS"] = str(args.workers)
    processes = []
    floor_results: dict[str, dict[str, float]] = {}
    try:
        log = tmp / "serve.log"
        serve = subprocess.Popen([sys.executable, "-m", "softquery.cli.main", "serve", "--no-scheduler"],
                                 stdout=log.open("w"), stderr=subprocess.STDOUT, env=env, cwd=ROOT,
                                 start_new_session=True)
        processes.append(serve)
        base = wait_url(log, serve, r"serving at (http://\S+?)/? ")
        overhead = wrk_overhead(tmp, args.duration)
        if not args.quick:
            floor, port = start_floor(tmp, home)
            processes.append(floor)
            print("measuring the floor ...", flush=True)
            floor_results = measure({m: f"http://127.0.0.1:{port}/predict/{m}" for m in MODELS}, tmp,
                                    args.duration)
        print("measuring softquery serve ...", flush=True)
        sq_results = measure({m: f"{base}/api/v1/models/{m}/predict" for m in names}, tmp, args.duration,
                             auth["predict"], quick=args.quick)
        workers = httpx.get(f"{base}/api/v1/serving/workers", headers={"authorization": auth["read"]}).json()
        for worker in workers["workers"]:
            worker["rss_mb"] = resident_mb(worker["pid"]) if "pid" in worker else None
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
    report(floor_results, sq_results, overhead, workers, args.duration, args.owners)
    shutil.rmtree(tmp, ignore_errors=True)


def report(floor: dict[str, dict[str, float]], sq: dict[str, dict[str, float]], overhead: float,
           workers: dict[str, Any], duration: float, owners: int) -> None:
    rows = [("p50_c1", "1 row, c=1, p50 (ms)"), ("p99_c1", "1 row, c=1, p99 (ms)"),
            ("rps_c16", "1 row, c=16, requests/s"), ("p99_c16", "1 row, c=16, p99 (ms)"),
            ("p50_1000", "1000 rows, c=1, p50 (ms)")]
    print(f"\nOnline predictions ({os.cpu_count()} cores; wrk {duration:g} s per figure; "
          f"{len(workers['workers'])} serving worker(s); {owners} owner(s); softquery requests carry a "
          f"predict-scope bearer token; wrk's own p50 against a trivial server: {overhead:.3f} ms)\n")
    print("| model | figure | floor (in-process FastAPI) | softquery serve | ratio | target |")
    print("|---|---|---|---|---|---|")
    table = [(template, model, key, label) for model, template in MODELS.items() for key, label in rows
             if floor and key in sq.get(model, {})]
    table += [(f"{len(sq['first'])} models in turn", "turns", "rps_c16", "1 row, c=16, requests/s"),
              (f"{len(sq['first'])} models in turn", "turns", "p99_c16", "1 row, c=16, p99 (ms)")]
    for template, model, key, label in table:
        f, s = floor.get(model, {}).get(key, float("nan")), sq[model][key]
        fmt = "{:.0f}" if key.startswith("rps") else "{:.2f}"
        print(f"| {template} | {label} | {fmt.format(f)} | {fmt.format(s)} | {s / f:.2f} | {TARGETS.get(key, '')} |")
    print("\nfirst request per model (ms): " + ", ".join(f"{m} {v:.0f}" for m, v in sq["first"].items()))
    print(f"serving workers (retired for another owner or a new source: {workers.get('retired', 0)}, "
          f"restarted after a crash: {workers.get('restarts', 0)}):")
    for worker in workers["workers"]:
        rss = worker.get("rss_mb")
        print(f"  slot {worker['slot']}: {worker['state']}, owner {worker.get('owner')}, "
              f"{len(worker.get('loaded', []))} version(s) loaded, "
              f"{'?' if rss is None else f'{rss:.0f}'} MB resident")
    print("\nmlflow models serve: not measured (mlflow is not a dependency and not installed here).")


if __name__ == "__main__":
    main()
