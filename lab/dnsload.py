#!/usr/bin/env python3
"""Steady DNS load through a VIP from a lab guest, bounded in queries and time; prints a JSON tally.

    dnsload.py VIP:PORT [--rate N] [--timeout S] [--max-seconds S] [--max-queries N] [--stop-file PATH]

Sends "who.lvsfleet.lab TXT" --rate times a second, each from a new UDP socket (a new source port, as a
stub resolver does), and waits --timeout for the answer. The lab's resolvers answer with their host name,
so each answer says who served it. Stops when the stop file appears, at --max-queries or after
--max-seconds. Prints {"sent", "answered", "lost", "by_server", "events": [[t, server or null], ...]}, t in
seconds of the guest's clock (time.time(), so other commands on the guest can be placed on the same line).
Stdlib only; fed on stdin to python3 in the guest.
"""
import argparse
import json
import os
import random
import selectors
import socket
import struct
import time
from collections import Counter

NAME = b"".join(bytes([len(p)]) + p for p in (b"who", b"lvsfleet", b"lab")) + b"\x00"


def query(qid: int) -> bytes:
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + NAME + struct.pack("!HH", 16, 1)


def answer(data: bytes, qid: int):
    """The first TXT string of a reply to `qid`, or None (wrong id, an error code, no answer)."""
    if len(data) < 12:
        return None
    rid, flags, qd, an = struct.unpack("!HHHH", data[:8])
    if rid != qid or flags & 0x000F or an < 1:
        return None
    pos = 12
    for _ in range(qd):  # skip the question
        while pos < len(data) and data[pos] != 0:
            pos += data[pos] + 1
        pos += 5
    if pos < len(data) and data[pos] & 0xC0 == 0xC0:
        pos += 2
    else:
        while pos < len(data) and data[pos] != 0:
            pos += data[pos] + 1
        pos += 1
    if pos + 10 > len(data):
        return None
    rtype, _, _, rdlen = struct.unpack("!HHIH", data[pos:pos + 10])
    rdata = data[pos + 10:pos + 10 + rdlen]
    if rtype != 16 or not rdata:
        return None
    return rdata[1:1 + rdata[0]].decode(errors="replace")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("target")
    ap.add_argument("--rate", type=float, default=50)
    ap.add_argument("--timeout", type=float, default=0.5)
    ap.add_argument("--max-seconds", type=float, default=120)
    ap.add_argument("--max-queries", type=int, default=20000)
    ap.add_argument("--stop-file", default="/tmp/lvsfleet-dnsload.stop")
    args = ap.parse_args()
    host, port = args.target.rsplit(":", 1)
    addr = (host, int(port))
    if os.path.exists(args.stop_file):
        os.unlink(args.stop_file)
    sel = selectors.DefaultSelector()
    pending = {}  # socket -> (qid, sent at, deadline)
    events = []
    by_server = Counter()
    sent = 0
    start = time.monotonic()
    next_send = start
    stopping = False
    while True:
        now = time.monotonic()
        if not stopping and (now - start > args.max_seconds or sent >= args.max_queries
                             or os.path.exists(args.stop_file)):
            stopping = True
        if stopping and not pending:
            break
        if not stopping and now >= next_send:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setblocking(False)
            qid = random.randrange(65536)
            try:
                s.connect(addr)
                s.send(query(qid))
                pending[s] = (qid, time.time(), now + args.timeout)
                sel.register(s, selectors.EVENT_READ)
            except OSError:
                events.append([round(time.time(), 3), None])
                s.close()
            sent += 1
            next_send += 1 / args.rate
        wait = max(0.0, min([next_send - time.monotonic()] + [d - time.monotonic() for _, _, d in pending.values()]))
        for key, _ in sel.select(timeout=wait):
            s = key.fileobj
            qid, t, _ = pending.pop(s)
            sel.unregister(s)
            try:
                who = answer(s.recv(4096), qid)
            except OSError:  # ICMP port unreachable: nobody listens there
                who = None
            s.close()
            events.append([round(t, 3), who])
            if who:
                by_server[who] += 1
        now = time.monotonic()
        for s, (qid, t, deadline) in list(pending.items()):
            if now >= deadline:
                del pending[s]
                sel.unregister(s)
                s.close()
                events.append([round(t, 3), None])
    events.sort()
    answered = sum(by_server.values())
    print(json.dumps({"sent": sent, "answered": answered, "lost": sent - answered,
                      "by_server": dict(sorted(by_server.items())), "events": events}))


if __name__ == "__main__":
    main()
