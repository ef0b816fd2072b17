#!/usr/bin/env python3
"""Send N HTTP requests to a VIP, one TCP connection each, and print a JSON tally.

Runs inside a lab guest (stdlib only), fed on stdin: `lab.py ssh client python3 - URL N < lab/probe.py`.
Bounded: N requests, each with a timeout; nothing leaves the lab segment.
"""
import http.client
import json
import sys
import time
from collections import Counter

host, port = sys.argv[1].rsplit(":", 1)
count = int(sys.argv[2])
timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 2.0
tally, errors = Counter(), Counter()
latencies = []
for _ in range(count):
    t0 = time.monotonic()
    try:
        conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
        conn.request("GET", "/")
        resp = conn.getresponse()
        body = resp.read().decode(errors="replace").strip()
        conn.close()
        if resp.status == 200:
            tally[body] += 1
        else:
            errors[f"http {resp.status}"] += 1
    except OSError as exc:
        errors[type(exc).__name__] += 1
    latencies.append(time.monotonic() - t0)
latencies.sort()
print(json.dumps({
    "requests": count, "ok": sum(tally.values()), "by_server": dict(sorted(tally.items())),
    "errors": dict(errors), "p50_ms": round(1000 * latencies[len(latencies) // 2], 1) if latencies else None,
}))
