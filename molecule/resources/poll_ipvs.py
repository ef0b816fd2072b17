"""Runs in a director: print 1/0 each time one real server appears in / leaves one IPVS service.

    python3 - PROTO VIP PORT RS_ADDR RS_PORT SECONDS < poll_ipvs.py

Reads /proc/net/ip_vs every 50 ms (no process per poll) and prints a line only on a change.
"""
import socket
import sys
import time

proto, vip, port, rs, rport, seconds = sys.argv[1:7]
svc = f"{proto.upper():4} {socket.inet_aton(vip).hex().upper()}:{int(port):04X}"
dest = f"-> {socket.inet_aton(rs).hex().upper()}:{int(rport):04X}"
last, end = None, time.monotonic() + float(seconds)
while time.monotonic() < end:
    present, inside = False, False
    with open("/proc/net/ip_vs") as fh:
        for line in fh:
            if not line.startswith(" "):
                inside = line.startswith(svc)
            elif inside and line.strip().startswith(dest):
                present = True
    if present != last:
        print(1 if present else 0, flush=True)
        last = present
    time.sleep(0.05)
