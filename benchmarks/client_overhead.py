"""monoculture's own cost as a client: a study against an OpenAI-compatible server that answers at once.

    python benchmarks/client_overhead.py [--quick] [--in-flight 64 256] [--individuals 50] [--flavour vllm]

A minimal HTTP/1.1 server runs in a separate process on 127.0.0.1 (so that its CPU is not the client's). It
answers ``POST /v1/completions`` and ``/v1/chat/completions`` at once with a short colour code made from the
request's seed (``#000000`` at temperature 0, as a greedy model would repeat itself: the run's sampling probe
passes), and presents itself as vLLM (``GET /version``) or, with ``--flavour openai-compatible``, as a server that
only lists ``/v1/models``.

For each number of requests in flight (64: one endpoint with ``parallel = 64``; more: that many 64-request endpoints,
all served by the one server process, since a model entry's ``parallel`` stops at 64 per server), it runs a colour
population (50 individuals x 199 words x 2 = 19,900 samples; free mode, condition none, a chat model) through
``monoculture.run`` into a real SQLite store, and prints:

- requests per second the client sustained, from the loaded model (its 8-request sampling probe first) to the last
  stored sample;
- the client process's CPU seconds per 1,000 requests in that phase (``resource.getrusage``), and the server's;
- the store's share: the CPU seconds the same records cost when checked (``Store.has``) and appended
  (``Store.add``, one committed row each) into a fresh store, as the runner does for each sample, over the run's;
- the floor: a bare ``httpx.AsyncClient`` loop sending the same request bodies to the same server with as many in
  flight, and parsing each reply as JSON (nothing planned, parsed or stored), with one client per endpoint (as the
  backend had it), and with the requests spread over clients of 8 (as the backend has it since: httpcore's pool
  costs more per request the more requests one client has in flight, encode/httpx#3215).

Whether ``sniffio`` can be imported is printed too: httpcore 1.0 tries to import it several times per request,
and without it (anyio 4 no longer installs it; monoculture depends on it) each failed import searches ``sys.path``
again.

The two cores are shared by the client, the server and whatever else runs: requests per second fall with load;
CPU per 1,000 requests is the figure to compare. ``--quick``: 10 individuals (3,980 samples).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODEL = "instant-instruct"  # "instruct": a chat model, so requests go to /v1/chat/completions
PER_ENDPOINT = 64  # the study model's largest ``parallel``
# httpcore's pool looks through every connection and every waiting request whenever one starts or ends, so its cost
# per request grows with the requests in flight on one client (encode/httpx#3215): the floor is also measured with
# the requests spread over clients of this many.
SHARD = 8


# -- the server (its own process) ----------------------------------------------------------------------------------


def _response(status: str, payload: dict | None) -> bytes:
    body = json.dumps(payload).encode() if payload is not None else b""
    return (f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            .encode() + body)


_SEED = re.compile(rb'"seed":\s*(\d+)')
_GREEDY = re.compile(rb'"temperature":\s*0(\.0)?[,}]')


def _text(body: bytes) -> str:
    """A colour code from the request's seed; one fixed code at temperature 0."""
    if _GREEDY.search(body):
        return "#000000"
    match = _SEED.search(body)
    return f"#{(int(match.group(1)) * 2654435761) % 2**24:06x}" if match else "#808080"


class InstantServer(asyncio.Protocol):
    """HTTP/1.1 with keep-alive; every request answered as soon as its body has arrived."""

    flavour = "vllm"

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1").split("\r\n")
            length = next((int(line.split(":", 1)[1]) for line in head[1:]
                           if line.lower().startswith("content-length:")), 0)
            if len(self.buffer) < end + 4 + length:
                return
            body, self.buffer = self.buffer[end + 4:end + 4 + length], self.buffer[end + 4 + length:]
            method, path = head[0].split(" ")[:2]
            self.transport.write(self.answer(method, path, body))  # type: ignore[attr-defined]

    def answer(self, method: str, path: str, body: bytes) -> bytes:
        usage = {"prompt_tokens": 40, "completion_tokens": 4, "total_tokens": 44}
        if method == "POST" and path == "/v1/chat/completions":
            return _response("200 OK", {"id": "x", "object": "chat.completion", "model": MODEL, "usage": usage,
                                        "choices": [{"index": 0, "finish_reason": "stop", "message": {
                                            "role": "assistant", "content": _text(body)}}]})
        if method == "POST" and path == "/v1/completions":
            return _response("200 OK", {"id": "x", "object": "text_completion", "model": MODEL, "usage": usage,
                                        "choices": [{"index": 0, "finish_reason": "stop", "text": _text(body)}]})
        if path == "/version" and self.flavour == "vllm":
            return _response("200 OK", {"version": "0.11.0"})
        if path == "/v1/models":
            return _response("200 OK", {"object": "list", "data": [{"id": MODEL, "object": "model"}]})
        return _response("404 Not Found", {"error": {"message": f"no {path}"}})


def serve(ports: list[int], flavour: str) -> None:
    """Serve on every port until killed."""
    InstantServer.flavour = flavour

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for port in ports:
            await loop.create_server(InstantServer, "127.0.0.1", port, backlog=1024)
        print("serving", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _process_cpu(pid: int) -> float:
    """A process's CPU seconds so far (utime + stime from /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# -- the measurements ------------------------------------------------------------------------------------------------


class _Clock:
    """A run observer that notes the CPU and time at the loaded model and at the last planned sample."""

    def __init__(self) -> None:
        self.stored = 0
        self.total = 0
        self.start: tuple[float, float] | None = None
        self.end: tuple[float, float] | None = None

    def planned(self, total: int, remaining: int, expected_s: float | None) -> None:
        self.total = remaining

    def model_started(self, info, remaining: int) -> None:
        self.start = (time.perf_counter(), _own_cpu())

    def model_timed(self, info, expected_s: float | None) -> None: ...

    def sample_stored(self, record) -> None:
        self.stored += 1
        if self.stored == self.total:
            self.end = (time.perf_counter(), _own_cpu())


def run_monoculture(urls: list[str], individuals: int, out: Path, server_pid: int) -> dict:
    """The study through ``monoculture.run``; figures of its sampling phase (the sampling probe included)."""
    import monoculture
    from monoculture.study import parse_study

    entry: dict = {"spec": f"openai:{MODEL}@{urls[0]}", "parallel": PER_ENDPOINT}
    if len(urls) > 1:
        entry["endpoints"] = urls
    study = parse_study({"name": "client-overhead", "models": [entry], "conditions": [{"context": "none"}],
                         "colour": {"individuals": individuals, "words": "all", "mode": "free"}})
    clock = _Clock()
    server_cpu = _process_cpu(server_pid)
    started = time.perf_counter()
    monoculture.run(study, out, observer=clock)
    wall = time.perf_counter() - started
    assert clock.start and clock.end, "the run stored fewer samples than it planned"
    server_cpu = _process_cpu(server_pid) - server_cpu  # the probe and the sampling: the server has nothing else
    seconds, cpu = clock.end[0] - clock.start[0], clock.end[1] - clock.start[1]
    return {"samples": clock.stored, "seconds": seconds, "cpu": cpu, "server_cpu": server_cpu, "wall": wall,
            "after": wall - (clock.end[0] - started)}


def store_cost(source: Path) -> tuple[int, float]:
    """CPU seconds to check and append a store's records into a fresh store, one committed row each."""
    from monoculture.store import Store

    with Store(source) as store:
        records = list(store.samples())
    with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "samples.sqlite") as fresh:
        cpu = _own_cpu()
        for record in records:
            fresh.has(record.key)
            fresh.add(record)
        return len(records), _own_cpu() - cpu


def request_bodies(source: Path) -> list[dict]:
    """The bodies monoculture sent a vLLM server for a store's samples (chat: one user message)."""
    from monoculture.store import Store

    with Store(source) as store:
        records = list(store.samples())
    return [{"model": MODEL, "temperature": r.decoding["temperature"], "top_p": r.decoding["top_p"], "seed": r.seed,
             "top_k": -1 if r.decoding["top_k"] == 0 else r.decoding["top_k"], "min_p": r.decoding["min_p"],
             "max_tokens": r.decoding["max_tokens"],
             "messages": [{"role": "user", "content": r.prompt.removeprefix("user: ")}]} for r in records]


async def _floor(urls: list[str], bodies: list[dict], in_flight: int, per_client: int) -> None:
    import httpx

    # As the backend sizes its client: twice the requests in flight, and two more.
    slack = per_client * 2 + 2
    clients = [(url, httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=slack,
                                                                      max_keepalive_connections=slack)))
               for url in urls for _ in range(PER_ENDPOINT // per_client)]
    queue = iter(bodies)

    async def worker(url: str, client) -> None:
        for body in queue:
            reply = await client.post(f"{url}/chat/completions", json=body)
            reply.raise_for_status()
            json.loads(reply.content)["choices"][0]["message"]["content"]

    try:
        await asyncio.gather(*(worker(*clients[number % len(clients)]) for number in range(in_flight)))
    finally:
        for _, client in clients:
            await client.aclose()


def run_floor(urls: list[str], bodies: list[dict], in_flight: int, server_pid: int, per_client: int) -> dict:
    """The same requests from a bare httpx loop, ``per_client`` of them in flight on each client."""
    server_cpu, cpu, started = _process_cpu(server_pid), _own_cpu(), time.perf_counter()
    asyncio.run(_floor(urls, bodies, in_flight, per_client))
    seconds = time.perf_counter() - started
    return {"samples": len(bodies), "seconds": seconds, "cpu": _own_cpu() - cpu,
            "server_cpu": _process_cpu(server_pid) - server_cpu}


def _line(label: str, figures: dict) -> str:
    per_thousand = 1000 / figures["samples"]
    return (f"  {label:34} {figures['samples'] / figures['seconds']:7.0f} requests/s ({figures['samples']} in "
            f"{figures['seconds']:5.1f} s); client {figures['cpu'] * per_thousand:5.2f} CPU s per 1,000 requests, "
            f"server {figures['server_cpu'] * per_thousand:4.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--in-flight", type=int, nargs="+", default=[64, 256],
                        help="requests in flight: multiples of 64 (one 64-request endpoint per 64)")
    parser.add_argument("--individuals", type=int, default=50)
    parser.add_argument("--flavour", choices=("vllm", "openai-compatible"), default="vllm")
    parser.add_argument("--quick", action="store_true", help="10 individuals")
    parser.add_argument("--serve", type=int, nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve, args.flavour)
    individuals = 10 if args.quick else args.individuals
    for in_flight in args.in_flight:
        if in_flight % PER_ENDPOINT:
            parser.error(f"--in-flight {in_flight}: give a multiple of {PER_ENDPOINT}")

    import httpx

    import monoculture

    import importlib.util

    sniffio = "present" if importlib.util.find_spec("sniffio") else "missing"
    print(f"monoculture {monoculture.__version__}, httpx {httpx.__version__} (sniffio {sniffio}), "
          f"Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} cores; a {args.flavour} server on loopback answering at once; colour, free mode, "
          f"{individuals} individuals x 199 words x 2; load average {os.getloadavg()[0]:.1f} at the start", flush=True)
    for in_flight in args.in_flight:
        ports = [_free_port() for _ in range(in_flight // PER_ENDPOINT)]
        server = subprocess.Popen([sys.executable, __file__, "--serve", *map(str, ports), "--flavour", args.flavour],
                                  stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout is not None and server.stdout.readline().strip() == "serving"
            urls = [f"http://127.0.0.1:{port}/v1" for port in ports]
            with tempfile.TemporaryDirectory() as folder:
                out = Path(folder) / "run"
                load = os.getloadavg()[0]
                ours = run_monoculture(urls, individuals, out, server.pid)
                records, store_cpu = store_cost(out / "samples.sqlite")
                bodies = request_bodies(out / "samples.sqlite")
            floor = run_floor(urls, bodies, in_flight, server.pid, PER_ENDPOINT)
            sharded = run_floor(urls, bodies, in_flight, server.pid, SHARD)
        finally:
            server.kill()
            server.wait()
        where = "1 endpoint" if len(urls) == 1 else f"{len(urls)} endpoints x {PER_ENDPOINT}"
        print(f"{in_flight} requests in flight ({where}; load average {load:.1f} before):")
        print(_line("monoculture.run, SQLite store", ours))
        print(_line("bare httpx.AsyncClient loop", floor))
        print(_line(f"the same, {SHARD} in flight per client", sharded))
        print(f"  store: {store_cpu / records * 1000:.2f} CPU s per 1,000 samples checked and appended = "
              f"{store_cpu / ours['cpu']:.0%} of monoculture's client CPU; monoculture's client CPU is "
              f"{ours['cpu'] / floor['cpu']:.1f}x the bare loop's; summary and report after sampling "
              f"{ours['after']:.1f} s", flush=True)


if __name__ == "__main__":
    main()
