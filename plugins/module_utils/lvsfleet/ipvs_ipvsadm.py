# -*- coding: utf-8 -*-
"""The ipvsadm backend: read with `ipvsadm-save -n`, write through `ipvsadm -R`.

Not `ipvsadm-restore`: Debian's ipvsadm-restore runs `ipvsadm -C` before reading its input, which
would flush every service for an incremental change. `ipvsadm -R` applies the lines as given.

Same interface as the netlink backend (read_table, apply). Used where the netlink family is not
reachable, and in tests to cross-check what netlink wrote. Commands are argument lists; the only
data on stdin is the restore script built from validated model values.
"""

from __future__ import annotations

import re
import socket

from .ipvs_state import (
    FWD_DROUTE, FWD_MASQ, FWD_TUNNEL, PROTO_BY_NAME, SCHED_FLAG_BITS, SVC_F_ONEPACKET, SVC_F_PERSISTENT,
    SVC_F_SCHED1, SVC_F_SCHED2, SVC_F_SCHED3, TUN_BY_NAME, TUN_CSUM_FLAG, Dest, Plan, Service, ServiceKey, Table,
    default_netmask, restore_script,
)

PROTO_FLAG = {"-t": "tcp", "--tcp-service": "tcp", "-u": "udp", "--udp-service": "udp", "--sctp-service": "sctp"}
FWD_FLAG = {"-m": FWD_MASQ, "--masquerading": FWD_MASQ, "-g": FWD_DROUTE, "--gatewaying": FWD_DROUTE,
            "-i": FWD_TUNNEL, "--ipip": FWD_TUNNEL}


CSUM_FLAG = {v: k for k, v in TUN_CSUM_FLAG.items()}


class IpvsadmError(Exception):
    pass


def split_hostport(text: str) -> tuple[str, int, int]:
    m = re.fullmatch(r"\[([0-9a-fA-F:.]+)\]:(\d+)", text)
    if m:
        return m.group(1), int(m.group(2)), socket.AF_INET6
    host, port = text.rsplit(":", 1)
    return host, int(port), socket.AF_INET


def _netmask(text: str, af: int) -> int:
    if af == socket.AF_INET6:
        return int(text)
    return int.from_bytes(socket.inet_aton(text), "big")


def parse_save(text: str) -> Table:
    """Parse `ipvsadm-save -n` output into a table. Anything it cannot read is an IpvsadmError naming
    the line, never another exception."""
    table: Table = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        try:
            _parse_save_line(table, lineno, line)
        except IpvsadmError:
            raise
        except (ValueError, KeyError, IndexError, OSError) as exc:
            raise IpvsadmError(f"ipvsadm-save line {lineno}: {line!r}: {type(exc).__name__}: {exc}") from None
    return table


def _parse_save_line(table: Table, lineno: int, line: str) -> None:
    tok = line.split()
    if not tok:
        return
    verb, rest = tok[0], tok[1:]
    opts: dict[str, str | None] = {}
    i = 0
    while i < len(rest):
        t = rest[i]
        if t in ("-o", "--ops", "-6", "--ipv6", *FWD_FLAG, *CSUM_FLAG):
            opts[t] = None
            i += 1
        else:
            if i + 1 >= len(rest):
                raise IpvsadmError(f"ipvsadm-save line {lineno}: {t} without a value: {line!r}")
            opts[t] = rest[i + 1]
            i += 2
    v6 = "-6" in opts or "--ipv6" in opts
    if "-f" in opts or "--fwmark-service" in opts:
        af = socket.AF_INET6 if v6 else socket.AF_INET
        key = ServiceKey(af=af, fwmark=int(opts.get("-f") or opts["--fwmark-service"]))
    else:
        flag = next((f for f in PROTO_FLAG if f in opts), None)
        if flag is None:
            raise IpvsadmError(f"ipvsadm-save line {lineno}: no service in {line!r}")
        addr, port, af = split_hostport(opts[flag])
        key = ServiceKey(af=af, protocol=PROTO_BY_NAME[PROTO_FLAG[flag]], addr=addr, port=port)
    if verb == "-A":
        flags = 0
        timeout = 0
        netmask = default_netmask(af)
        if "-p" in opts:
            flags |= SVC_F_PERSISTENT
            timeout = int(opts["-p"])
        if "-M" in opts:
            netmask = _netmask(opts["-M"], af)
        if "-o" in opts or "--ops" in opts:
            flags |= SVC_F_ONEPACKET
        for f in (opts.get("-b") or "").split(","):
            if f:
                flags |= SCHED_FLAG_BITS.get(f) or {"flag-1": SVC_F_SCHED1, "flag-2": SVC_F_SCHED2,
                                                    "flag-3": SVC_F_SCHED3}[f]
        table[key] = Service(key=key, scheduler=opts.get("-s", "wlc"), flags=flags, timeout=timeout,
                             netmask=netmask, pe_name=opts.get("--pe") or "")
    elif verb == "-a":
        addr, port, daf = split_hostport(opts["-r"])
        fwd = next((FWD_FLAG[f] for f in FWD_FLAG if f in opts), FWD_DROUTE)
        d = Dest(addr=addr, port=port, fwd=fwd, weight=int(opts.get("-w", 1)),
                 u_thresh=int(opts.get("-x", 0)), l_thresh=int(opts.get("-y", 0)), af=daf)
        if "--tun-type" in opts:
            d.tun_type = TUN_BY_NAME[opts["--tun-type"]]
        if "--tun-port" in opts:
            d.tun_port = int(opts["--tun-port"])
        d.tun_flags = next((CSUM_FLAG[f] for f in CSUM_FLAG if f in opts), 0)
        if key not in table:
            raise IpvsadmError(f"ipvsadm-save line {lineno}: real server before its service: {line!r}")
        table[key].dests[d.key()] = d


class IpvsadmBackend:
    """`run(argv, data=None) -> (rc, stdout, stderr)` is the caller's command runner."""

    def __init__(self, run, save_bin: str = "ipvsadm-save", ipvsadm_bin: str = "ipvsadm"):
        self.run = run
        self.save_bin, self.ipvsadm_bin = save_bin, ipvsadm_bin
        self.writes = 0

    def read_table(self, with_dests: bool = True, stats: bool = False) -> Table:
        rc, out, err = self.run([self.save_bin, "-n"])
        if rc != 0:
            raise IpvsadmError(f"ipvsadm-save -n failed (rc={rc}): {err.strip()}")
        table = parse_save(out)
        if with_dests:
            self._add_conns(table)
        return table

    def _add_conns(self, table: Table) -> None:
        """Thresholds and connection counters from `ipvsadm -Ln --thresholds` (ipvsadm-save prints neither)."""
        rc, out, _err = self.run([self.ipvsadm_bin, "-Ln", "--thresholds"])
        if rc != 0:
            return
        current = None
        for line in out.splitlines():
            tok = line.split()
            if not tok:
                continue
            if tok[0] in ("TCP", "UDP", "SCTP"):
                addr, port, af = split_hostport(tok[1])
                current = table.get(ServiceKey(af=af, protocol=PROTO_BY_NAME[tok[0].lower()], addr=addr, port=port))
            elif tok[0] == "FWM":
                af = socket.AF_INET6 if "IPv6" in line else socket.AF_INET
                current = table.get(ServiceKey(af=af, fwmark=int(tok[1])))
            elif tok[0] == "->" and current is not None and len(tok) >= 6 and tok[1] != "RemoteAddress:Port":
                addr, port = split_hostport(tok[1])[:2]
                d = current.dests.get((addr, port))
                if d:
                    d.u_thresh, d.l_thresh = int(tok[2]), int(tok[3])
                    d.active_conns, d.inact_conns = int(tok[4]), int(tok[5])

    def apply(self, plan: Plan) -> list[tuple[str, int, str]]:
        script = restore_script(plan)
        if not script:
            return []
        self.writes += len(plan)
        rc, out, err = self.run([self.ipvsadm_bin, "-R"], data=script)
        if rc != 0:
            return [("ipvsadm -R", rc, (err or out).strip())]
        return []

    def get_timeouts(self) -> dict:
        rc, out, err = self.run([self.ipvsadm_bin, "-L", "--timeout"])
        m = re.search(r"tcp (\d+)\s+tcpfin (\d+)\s+udp (\d+)", out)
        if rc != 0 or not m:
            raise IpvsadmError(f"ipvsadm -L --timeout failed: {err.strip() or out.strip()}")
        return {"tcp": int(m.group(1)), "tcpfin": int(m.group(2)), "udp": int(m.group(3))}

    def set_timeouts(self, tcp: int, tcpfin: int, udp: int) -> None:
        self.writes += 1
        rc, _out, err = self.run([self.ipvsadm_bin, "--set", str(tcp), str(tcpfin), str(udp)])
        if rc != 0:
            raise IpvsadmError(f"ipvsadm --set failed: {err.strip()}")

    def close(self) -> None:
        pass
