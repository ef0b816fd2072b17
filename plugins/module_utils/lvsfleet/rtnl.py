# -*- coding: utf-8 -*-
"""Just enough rtnetlink for VIP addresses: list, add and delete addresses; create a dummy link.

Standard library only. Definitions: include/uapi/linux/rtnetlink.h, if_addr.h, if_link.h, rtnetlink(7).
Replies are framed and checked by the IPVS codec's functions (ipvs_netlink.messages and friends): a
malformed reply is a CodecError, a silent kernel a NetlinkError after the receive timeout.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import struct

import time

from .ipvs_netlink import (
    DUMP_RETRIES, HDR, NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, CodecError,
    NetlinkError, attr, error_code, get_str, messages, nested, parse_attrs, recv, set_timeout,
)

NETLINK_ROUTE = 0
RTM_NEWLINK, RTM_GETLINK = 16, 18
RTM_NEWADDR, RTM_DELADDR, RTM_GETADDR = 20, 21, 22
NLM_F_EXCL, NLM_F_CREATE = 0x200, 0x400
IFA_ADDRESS, IFA_LOCAL, IFA_LABEL = 1, 2, 3
IFLA_IFNAME, IFLA_LINKINFO, IFLA_INFO_KIND = 3, 18, 1
IFF_UP = 0x1
RT_SCOPE_UNIVERSE, RT_SCOPE_HOST = 0, 254

IFADDRMSG = struct.Struct("=BBBBI")
IFINFOMSG = struct.Struct("=BBHiII")


class RtnlError(NetlinkError):
    """The kernel refused a request (the errno is in .code)."""


class Rtnl:
    def __init__(self, sock: socket.socket | None = None):
        self.sock = sock or socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
        self.sock.bind((0, 0))
        set_timeout(self.sock)
        self.seq = int.from_bytes(os.urandom(2), "little") << 8

    def close(self) -> None:
        self.sock.close()

    def _request(self, mtype: int, flags: int, body: bytes) -> list[bytes]:
        for attempt in range(DUMP_RETRIES + 1):
            self.seq += 1
            seq = self.seq
            self.sock.send(HDR.pack(HDR.size + len(body), mtype, flags | NLM_F_REQUEST, seq, 0) + body)
            out, interrupted = self._replies(seq)
            if not interrupted:
                return out
            if attempt == DUMP_RETRIES:
                raise RtnlError(f"dump interrupted {DUMP_RETRIES + 1} times in a row; giving up", errno.EINTR)
            time.sleep(0.005 * (attempt + 1))
        raise AssertionError("unreachable")

    def _replies(self, seq: int) -> tuple[list[bytes], bool]:
        out, interrupted = [], False
        while True:
            for rtype, rflags, rseq, payload in messages(recv(self.sock)):
                if rseq != seq:
                    continue
                interrupted = interrupted or bool(rflags & NLM_F_DUMP_INTR)
                if rtype == NLMSG_DONE:
                    return out, interrupted
                if rtype == NLMSG_ERROR:
                    code = error_code(payload)
                    if code == errno.EBUSY:
                        return [], True
                    if code:
                        raise RtnlError(os.strerror(code), code)
                    return out, interrupted
                out.append(payload)

    def addresses(self, ifindex: int) -> list[tuple[str, int]]:
        """(address, prefixlen) on an interface, both families."""
        out = []
        for payload in self._request(RTM_GETADDR, NLM_F_DUMP, IFADDRMSG.pack(0, 0, 0, 0, 0)):
            if len(payload) < IFADDRMSG.size:
                raise CodecError(f"address dump: a message of {len(payload)} bytes")
            fam, plen, _flags, _scope, index = IFADDRMSG.unpack_from(payload)
            if index != ifindex:
                continue
            a = parse_attrs(payload, IFADDRMSG.size)
            raw = a.get(IFA_LOCAL) or a.get(IFA_ADDRESS)
            if raw:
                size = {socket.AF_INET: 4, socket.AF_INET6: 16}.get(fam)
                if size is None or len(raw) != size:
                    raise CodecError(f"address dump: a {len(raw)}-byte address of family {fam}")
                out.append((socket.inet_ntop(fam, raw), plen))
        return out

    def change_address(self, add: bool, ifindex: int, iface: ipaddress.IPv4Interface | ipaddress.IPv6Interface,
                       scope: int) -> None:
        fam = socket.AF_INET6 if iface.version == 6 else socket.AF_INET
        raw = iface.ip.packed
        body = IFADDRMSG.pack(fam, iface.network.prefixlen, 0, scope, ifindex) + attr(IFA_LOCAL, raw) + \
            attr(IFA_ADDRESS, raw)
        flags = (NLM_F_CREATE | NLM_F_EXCL) if add else 0
        try:
            self._request(RTM_NEWADDR if add else RTM_DELADDR, flags | NLM_F_ACK, body)
        except RtnlError as exc:
            if not (add and exc.code == errno.EEXIST):
                raise

    def create_dummy(self, name: str) -> None:
        body = IFINFOMSG.pack(0, 0, 0, 0, IFF_UP, IFF_UP) + attr(IFLA_IFNAME, name.encode() + b"\0") + \
            nested(IFLA_LINKINFO, attr(IFLA_INFO_KIND, b"dummy"))
        self._request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, body)

    def link_names(self) -> dict[str, int]:
        out = {}
        for payload in self._request(RTM_GETLINK, NLM_F_DUMP, IFINFOMSG.pack(0, 0, 0, 0, 0, 0)):
            if len(payload) < IFINFOMSG.size:
                raise CodecError(f"link dump: a message of {len(payload)} bytes")
            index = IFINFOMSG.unpack_from(payload)[3]
            a = parse_attrs(payload, IFINFOMSG.size)
            if IFLA_IFNAME in a:
                out[get_str(a[IFLA_IFNAME])] = index
        return out
