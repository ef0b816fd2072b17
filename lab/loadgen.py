#!/usr/bin/env python3
"""Steady HTTP load through a VIP from a lab guest, bounded in requests and time; prints a JSON tally.

    loadgen.py URL... [--workers N] [--min-requests N] [--max-requests N] [--max-seconds S]
                      [--stop-file PATH] [--timeout S]

It keeps --workers requests in flight, each GET / on a new TCP connection (Connection: close), round-
robin over the given VIP:PORT targets, from one non-blocking event loop. It stops when the stop file
appears and at least --min-requests were sent, or at
--max-requests, or after --max-seconds, whichever comes first. Counts successes (HTTP 200), failures
by kind (reset, refused, timeout, other), latency percentiles, and the longest time without any
success (the outage a client saw). Stdlib only; fed on stdin to python3 in the guest.
"""
import argparse
import errno
import json
import os
import selectors
import socket
import time
from collections import Counter


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("targets", nargs="+")
    ap.add_argument("--workers", type=int, default=8, help="connections in flight")
    ap.add_argument("--min-requests", type=int, default=0)
    ap.add_argument("--max-requests", type=int, default=200000)
    ap.add_argument("--max-seconds", type=float, default=900)
    ap.add_argument("--stop-file", default="/tmp/lvsfleet-loadgen.stop")
    ap.add_argument("--timeout", type=float, default=3.0)
    args = ap.parse_args()
    if os.path.exists(args.stop_file):
        os.unlink(args.stop_file)
    targets = [(h, int(p)) for h, p in (t.rsplit(":", 1) for t in args.targets)]
    state = {"sent": 0, "ok": 0, "last_ok": None, "max_gap": 0.0}
    errors, servers = Counter(), Counter()
    latencies, failures_at = [], []
    t_start = time.monotonic()
    sel = selectors.DefaultSelector()
    inflight = {}  # socket -> [t0, deadline, buffer, target]

    def done() -> bool:
        elapsed = time.monotonic() - t_start
        if state["sent"] >= args.max_requests or elapsed >= args.max_seconds:
            return True
        return state["sent"] >= args.min_requests and os.path.exists(args.stop_file)

    def start() -> None:
        target = targets[state["sent"] % len(targets)]
        state["sent"] += 1
        s = socket.socket(socket.AF_INET6 if ":" in target[0] else socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        now = time.monotonic()
        inflight[s] = [now, now + args.timeout, b"", target]
        err = s.connect_ex(target)
        if err not in (0, errno.EINPROGRESS):
            finish(s, errno.errorcode.get(err, str(err)).lower())
            return
        sel.register(s, selectors.EVENT_WRITE)

    def finish(s, kind, body=b"") -> None:
        t0 = inflight.pop(s)[0]
        try:
            sel.unregister(s)
        except (KeyError, ValueError):
            pass
        s.close()
        t1 = time.monotonic()
        latencies.append(t1 - t0)
        if kind is None:
            state["ok"] += 1
            servers[body.decode(errors="replace").strip()] += 1
            if state["last_ok"] is not None:
                state["max_gap"] = max(state["max_gap"], t1 - state["last_ok"])
            state["last_ok"] = t1
        else:
            errors[kind] += 1
            failures_at.append(round(t1 - t_start, 3))

    kinds = {errno.ECONNRESET: "reset", errno.ECONNREFUSED: "refused", errno.ETIMEDOUT: "timeout",
             errno.EHOSTUNREACH: "unreachable", errno.ENETUNREACH: "unreachable"}
    stopping = False
    while True:
        if not stopping and done():
            stopping = True
        while not stopping and len(inflight) < args.workers:
            start()
        if not inflight:
            break
        for key, events in sel.select(timeout=0.05):
            s = key.fileobj
            entry = inflight.get(s)
            if entry is None:
                continue
            try:
                if events & selectors.EVENT_WRITE and not entry[2]:
                    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        raise OSError(err, os.strerror(err))
                    host, port = entry[3]
                    s.send(f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
                    entry[2] = b" "  # request sent; now reading
                    sel.modify(s, selectors.EVENT_READ)
                    continue
                chunk = s.recv(4096)
                if chunk:
                    entry[2] += chunk
                    continue
                head, _, body = entry[2][1:].partition(b"\r\n\r\n")
                status = head.split(b" ", 2)[1:2]
                if status == [b"200"]:
                    finish(s, None, body)
                else:
                    finish(s, f"http_{status[0].decode() if status else 'truncated'}")
            except OSError as exc:
                finish(s, kinds.get(exc.errno, type(exc).__name__))
        now = time.monotonic()
        for s, entry in list(inflight.items()):
            if now > entry[1]:
                finish(s, "timeout")
    elapsed = time.monotonic() - t_start
    lat = sorted(latencies)

    def pct(p: float):
        return round(1000 * lat[min(len(lat) - 1, int(p * len(lat)))], 1) if lat else None

    print(json.dumps({
        "requests": state["sent"], "ok": state["ok"], "failed": sum(errors.values()), "errors": dict(errors),
        "resets": errors.get("reset", 0), "by_server": dict(sorted(servers.items())),
        "seconds": round(elapsed, 1), "rps": round(state["sent"] / elapsed, 1) if elapsed else None,
        "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99), "max_ms": pct(1.0),
        "longest_gap_s": round(state["max_gap"], 3), "failures_at_s": failures_at[:200],
    }))


if __name__ == "__main__":
    main()
