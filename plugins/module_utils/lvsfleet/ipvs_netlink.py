# -*- coding: utf-8 -*-
"""IPVS over generic netlink, Python standard library only.

- one socket per run; the family is resolved once through the generic-netlink controller;
- one dump reads every service, then one destination dump per service, back to back;
- changes go out as batches of messages in one ``send`` each, asking for errors only
  (no per-message ACK), and every batch ends with one acknowledged barrier request; every
  error reply is mapped back, by sequence number, to the request that caused it.

Replies are untrusted bytes: every length and every attribute a decoder needs is checked, and a
malformed reply raises CodecError (a NetlinkError), never another exception, a hang or a
misread value. Every receive has a timeout; an interrupted dump (NLM_F_DUMP_INTR) and a busy
socket are retried a bounded number of times.

Kernel definitions: include/uapi/linux/ip_vs.h, include/uapi/linux/genetlink.h, netlink(7).
"""

from __future__ import annotations

import errno
import os
import socket
import struct
import time

from .ipvs_state import Dest, Plan, Service, ServiceKey, Table

# netlink(7)
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK = 0x1, 0x2, 0x4
NLM_F_DUMP_INTR = 0x10
NLM_F_DUMP = 0x300
NLA_F_NESTED = 0x8000
NLA_TYPE_MASK = 0x3FFF
NETLINK_GENERIC = 16
SOL_NETLINK = 270
NETLINK_EXT_ACK = 11
NETLINK_CAP_ACK = 10
SO_RCVBUFFORCE, SO_SNDBUFFORCE = 33, 32

# genetlink.h
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME, CTRL_ATTR_VERSION = 1, 2, 3

# ip_vs.h: commands
IPVS_GENL_NAME = b"IPVS"
IPVS_GENL_VERSION = 1
CMD_NEW_SERVICE, CMD_SET_SERVICE, CMD_DEL_SERVICE, CMD_GET_SERVICE = 1, 2, 3, 4
CMD_NEW_DEST, CMD_SET_DEST, CMD_DEL_DEST, CMD_GET_DEST = 5, 6, 7, 8
CMD_NEW_DAEMON, CMD_DEL_DAEMON, CMD_GET_DAEMON = 9, 10, 11
CMD_SET_CONFIG, CMD_GET_CONFIG, CMD_SET_INFO, CMD_GET_INFO, CMD_ZERO, CMD_FLUSH = 12, 13, 14, 15, 16, 17
# command attributes
CMD_ATTR_SERVICE, CMD_ATTR_DEST, CMD_ATTR_DAEMON = 1, 2, 3
CMD_ATTR_TIMEOUT_TCP, CMD_ATTR_TIMEOUT_TCP_FIN, CMD_ATTR_TIMEOUT_UDP = 4, 5, 6
# service attributes
SVC_ATTR_AF, SVC_ATTR_PROTOCOL, SVC_ATTR_ADDR, SVC_ATTR_PORT, SVC_ATTR_FWMARK = 1, 2, 3, 4, 5
SVC_ATTR_SCHED_NAME, SVC_ATTR_FLAGS, SVC_ATTR_TIMEOUT, SVC_ATTR_NETMASK = 6, 7, 8, 9
SVC_ATTR_STATS, SVC_ATTR_PE_NAME, SVC_ATTR_STATS64 = 10, 11, 12
# destination attributes
DEST_ATTR_ADDR, DEST_ATTR_PORT, DEST_ATTR_FWD_METHOD, DEST_ATTR_WEIGHT = 1, 2, 3, 4
DEST_ATTR_U_THRESH, DEST_ATTR_L_THRESH, DEST_ATTR_ACTIVE_CONNS, DEST_ATTR_INACT_CONNS = 5, 6, 7, 8
DEST_ATTR_PERSIST_CONNS, DEST_ATTR_STATS, DEST_ATTR_ADDR_FAMILY, DEST_ATTR_STATS64 = 9, 10, 11, 12
DEST_ATTR_TUN_TYPE, DEST_ATTR_TUN_PORT, DEST_ATTR_TUN_FLAGS = 13, 14, 15
# stats attributes
STATS_NAMES = {1: "conns", 2: "inpkts", 3: "outpkts", 4: "inbytes", 5: "outbytes",
               6: "cps", 7: "inpps", 8: "outpps", 9: "inbps", 10: "outbps"}
# info attributes
INFO_ATTR_VERSION, INFO_ATTR_CONN_TAB_SIZE = 1, 2

CONN_F_FWD_MASK = 0x0007

# Errors the IPVS family returns, in the words an operator needs.
ERRNO_HINTS = {
    errno.EEXIST: "already exists",
    errno.ESRCH: "no such service",
    errno.ENOENT: "no such scheduler or persistence engine (is its ip_vs_* module available?)",
    errno.EINVAL: "invalid argument",
    errno.EBUSY: "busy",
    errno.ENOMEM: "out of memory",
    errno.EAFNOSUPPORT: "address family not supported (IPv6 IPVS?)",
    errno.EOPNOTSUPP: "not supported by this kernel",
    errno.ERANGE: "out of range",
}

HDR = struct.Struct("=IHHII")       # nlmsghdr: len, type, flags, seq, pid
GENL = struct.Struct("=BBH")        # genlmsghdr: cmd, version, reserved
NLA = struct.Struct("=HH")          # nlattr: len, type


RECV_TIMEOUT = 10.0      # seconds a single receive may wait for the kernel
DUMP_RETRIES = 8         # an interrupted or busy dump is re-run at most this often


class NetlinkError(Exception):
    def __init__(self, message: str, code: int = 0, request: str | None = None):
        super().__init__(message)
        self.code = code
        self.request = request


class CodecError(NetlinkError):
    """A reply that does not decode: truncated, a length that does not fit, a missing attribute."""


def _align(n: int) -> int:
    return (n + 3) & ~3


def messages(data: bytes):
    """(type, flags, seq, payload-after-nlmsghdr) for each message in a datagram.

    A header that does not fit, or a length below the header size or past the datagram's end, is
    a CodecError: a zero length would otherwise never advance.
    """
    off, size = 0, len(data)
    while off < size:
        if size - off < HDR.size:
            raise CodecError(f"netlink reply: {size - off} trailing bytes are not a message header")
        n, mtype, flags, seq, _pid = HDR.unpack_from(data, off)
        if n < HDR.size or off + n > size:
            raise CodecError(f"netlink reply: message length {n} at offset {off} of {size} bytes")
        yield mtype, flags, seq, data[off + HDR.size: off + n]
        off += _align(n)


def recv(sock, timeout: float = RECV_TIMEOUT) -> bytes:
    """One datagram; a kernel that does not answer within `timeout`, or a receive-buffer overrun
    (replies lost), is a NetlinkError."""
    try:
        data = sock.recv(1 << 20)
    except socket.timeout:
        raise NetlinkError(f"no reply from the kernel within {timeout:g} s", errno.ETIMEDOUT) from None
    except OSError as exc:
        if exc.errno == errno.ENOBUFS:
            raise NetlinkError("netlink receive buffer overrun: replies were lost", errno.ENOBUFS) from None
        raise
    if not data:
        raise CodecError("netlink reply: empty datagram")
    return data


def set_timeout(sock, timeout: float = RECV_TIMEOUT) -> None:
    settimeout = getattr(sock, "settimeout", None)
    if settimeout is not None:
        settimeout(timeout)


def error_code(payload: bytes) -> int:
    """The errno of an NLMSG_ERROR payload (0 for an ACK)."""
    if len(payload) < 4:
        raise CodecError(f"netlink error message of {len(payload)} bytes")
    return -struct.unpack_from("=i", payload)[0]


# ---------------------------------------------------------------- attribute codec
def attr(atype: int, payload: bytes) -> bytes:
    n = NLA.size + len(payload)
    return NLA.pack(n, atype) + payload + b"\0" * (_align(n) - n)


def nested(atype: int, *parts: bytes) -> bytes:
    return attr(atype | NLA_F_NESTED, b"".join(parts))


def u8(atype: int, v: int) -> bytes:
    return attr(atype, struct.pack("=B", v))


def u16(atype: int, v: int) -> bytes:
    return attr(atype, struct.pack("=H", v))


def u32(atype: int, v: int) -> bytes:
    return attr(atype, struct.pack("=I", v))


def be16(atype: int, v: int) -> bytes:
    return attr(atype, struct.pack("!H", v))


def be32(atype: int, v: int) -> bytes:
    return attr(atype, struct.pack("!I", v))


def string(atype: int, v: str) -> bytes:
    return attr(atype, v.encode() + b"\0")


_NLA_UNPACK = NLA.unpack_from
_U16 = struct.Struct("=H").unpack_from
_U32 = struct.Struct("=I").unpack_from
_BE16 = struct.Struct("!H").unpack_from


def parse_attrs(data: bytes, offset: int = 0, end: int | None = None) -> dict[int, bytes]:
    """Attribute type (flags masked) -> payload; later duplicates win. Hot path of every dump."""
    out = {}
    end = len(data) if end is None else min(end, len(data))
    while offset + 4 <= end:
        n, t = _NLA_UNPACK(data, offset)
        if n < 4 or offset + n > end:
            raise CodecError(f"netlink attribute {t & NLA_TYPE_MASK}: length {n} at offset {offset} of {end}")
        out[t & NLA_TYPE_MASK] = data[offset + 4: offset + n]
        offset += (n + 3) & ~3
    return out


def _need(b: bytes | None, size: int, what: str) -> bytes:
    if b is None:
        raise CodecError(f"{what}: attribute missing")
    if len(b) < size:
        raise CodecError(f"{what}: {len(b)} bytes, expected {size}")
    return b


def get_u16(b: bytes, what: str = "u16 attribute") -> int:
    return _U16(_need(b, 2, what))[0]


def get_u32(b: bytes, what: str = "u32 attribute") -> int:
    return _U32(_need(b, 4, what))[0]


def get_be16(b: bytes, what: str = "be16 attribute") -> int:
    return _BE16(_need(b, 2, what))[0]


def get_str(b: bytes) -> str:
    """A NUL-terminated string. Names the kernel allows need not be UTF-8 (an interface name is any
    bytes but '/', ':' and whitespace): undecodable bytes are shown escaped, never an exception."""
    return b.split(b"\0", 1)[0].decode("utf-8", "backslashreplace")


def addr_bytes(af: int, addr: str) -> bytes:
    raw = socket.inet_pton(af, addr)
    return raw + b"\0" * (16 - len(raw))


def addr_text(af: int, raw: bytes | None, what: str = "address") -> str:
    if af == socket.AF_INET:
        return socket.inet_ntop(af, _need(raw, 4, what)[:4])
    if af == socket.AF_INET6:
        return socket.inet_ntop(af, _need(raw, 16, what)[:16])
    raise CodecError(f"{what}: address family {af} is neither IPv4 nor IPv6")


def parse_stats(b: bytes) -> dict:
    out = {}
    for k, v in parse_attrs(b).items():
        if k in STATS_NAMES:
            if len(v) >= 8:
                out[STATS_NAMES[k]] = struct.unpack_from("=Q", v)[0]
            elif len(v) >= 4:
                out[STATS_NAMES[k]] = struct.unpack_from("=I", v)[0]
            else:
                raise CodecError(f"statistics attribute {k}: {len(v)} bytes")
    return out


# ---------------------------------------------------------------- IPVS encoding
def svc_id_attrs(key: ServiceKey) -> list[bytes]:
    parts = [u16(SVC_ATTR_AF, key.af)]
    if key.fwmark:
        parts.append(u32(SVC_ATTR_FWMARK, key.fwmark))
    else:
        parts += [u16(SVC_ATTR_PROTOCOL, key.protocol), attr(SVC_ATTR_ADDR, addr_bytes(key.af, key.addr)),
                  be16(SVC_ATTR_PORT, key.port)]
    return parts


def svc_full_attrs(s: Service) -> bytes:
    mask_attr = (be32(SVC_ATTR_NETMASK, s.netmask) if s.key.af == socket.AF_INET
                 else u32(SVC_ATTR_NETMASK, s.netmask))
    parts = svc_id_attrs(s.key) + [
        string(SVC_ATTR_SCHED_NAME, s.scheduler),
        attr(SVC_ATTR_FLAGS, struct.pack("=II", s.flags, 0xFFFFFFFF)),
        u32(SVC_ATTR_TIMEOUT, s.timeout),
        mask_attr,
    ]
    if s.pe_name:
        parts.append(string(SVC_ATTR_PE_NAME, s.pe_name))
    return nested(CMD_ATTR_SERVICE, *parts)


def dest_attrs(d: Dest, full: bool = True) -> bytes:
    parts = [attr(DEST_ATTR_ADDR, addr_bytes(d.af, d.addr)), be16(DEST_ATTR_PORT, d.port)]
    if full:
        parts += [u32(DEST_ATTR_FWD_METHOD, d.fwd), u32(DEST_ATTR_WEIGHT, d.weight),
                  u32(DEST_ATTR_U_THRESH, d.u_thresh), u32(DEST_ATTR_L_THRESH, d.l_thresh),
                  u16(DEST_ATTR_ADDR_FAMILY, d.af)]
        if d.fwd == 2:  # tunnel
            parts += [u8(DEST_ATTR_TUN_TYPE, d.tun_type), be16(DEST_ATTR_TUN_PORT, d.tun_port),
                      u16(DEST_ATTR_TUN_FLAGS, d.tun_flags)]
    return nested(CMD_ATTR_DEST, *parts)


def decode_service(payload: bytes, with_stats: bool = True) -> Service:
    a = parse_attrs(payload)
    af = get_u16(a.get(SVC_ATTR_AF), "service address family")
    if af not in (socket.AF_INET, socket.AF_INET6):
        raise CodecError(f"service address family {af} is neither IPv4 nor IPv6")
    fwmark = get_u32(a[SVC_ATTR_FWMARK], "service fwmark") if SVC_ATTR_FWMARK in a else 0
    if fwmark:
        key = ServiceKey(af=af, fwmark=fwmark)
    else:
        key = ServiceKey(af=af, protocol=get_u16(a.get(SVC_ATTR_PROTOCOL), "service protocol"),
                         addr=addr_text(af, a.get(SVC_ATTR_ADDR), "service address"),
                         port=get_be16(a.get(SVC_ATTR_PORT), "service port"))
    flags = get_u32(a[SVC_ATTR_FLAGS], "service flags") if SVC_ATTR_FLAGS in a else 0
    raw_mask = _need(a.get(SVC_ATTR_NETMASK, b"\xff\xff\xff\xff"), 4, "service netmask")
    netmask = struct.unpack_from("!I" if af == socket.AF_INET else "=I", raw_mask)[0]
    stats = (a.get(SVC_ATTR_STATS64) or a.get(SVC_ATTR_STATS)) if with_stats else None
    return Service(key=key, scheduler=get_str(a.get(SVC_ATTR_SCHED_NAME, b"")), flags=flags,
                   timeout=get_u32(a[SVC_ATTR_TIMEOUT], "service timeout") if SVC_ATTR_TIMEOUT in a else 0,
                   netmask=netmask, pe_name=get_str(a.get(SVC_ATTR_PE_NAME, b"")),
                   stats=parse_stats(stats) if stats else {})


def _positions(buf: bytes, off: int, end: int, size: int = 16) -> list[int]:
    """Offset of each attribute header by type (-1 if absent): no copies, no dict; the dump hot path."""
    pos = [-1] * size
    while off + 4 <= end:
        n, t = _NLA_UNPACK(buf, off)
        if n < 4 or off + n > end:
            raise CodecError(f"destination attribute {t & NLA_TYPE_MASK}: length {n} at offset {off} of {end}")
        t &= NLA_TYPE_MASK
        if t < size:
            pos[t] = off
        off += (n + 3) & ~3
    return pos


_DEST_NAMES = {DEST_ATTR_ADDR: "address", DEST_ATTR_PORT: "port", DEST_ATTR_FWD_METHOD: "forwarding method",
               DEST_ATTR_WEIGHT: "weight", DEST_ATTR_ADDR_FAMILY: "address family", DEST_ATTR_TUN_TYPE: "tunnel type",
               DEST_ATTR_TUN_PORT: "tunnel port", DEST_ATTR_TUN_FLAGS: "tunnel flags"}


def _dest_field(payload: bytes, pos: list[int], t: int, size: int, required: bool = True) -> int:
    """Offset of attribute t's payload, checked to hold `size` bytes; -1 if absent and optional."""
    p = pos[t]
    if p < 0:
        if required:
            raise CodecError(f"destination: no {_DEST_NAMES.get(t, t)} attribute")
        return -1
    if _NLA_UNPACK(payload, p)[0] - 4 < size:
        raise CodecError(f"destination: {_DEST_NAMES.get(t, f'attribute {t}')} shorter than {size} bytes")
    return p + 4


def decode_dest(payload: bytes, svc_af: int, with_stats: bool = True, off: int = 0, end: int | None = None) -> Dest:
    """A destination from the payload of a CMD_ATTR_DEST attribute (payload[off:end])."""
    end = len(payload) if end is None else min(end, len(payload))
    pos = _positions(payload, off, end)
    u32 = _U32
    p = _dest_field(payload, pos, DEST_ATTR_ADDR_FAMILY, 2, required=False)
    af = _U16(payload, p)[0] if p >= 0 else svc_af
    if af not in (socket.AF_INET, socket.AF_INET6):
        raise CodecError(f"destination address family {af} is neither IPv4 nor IPv6")
    p = _dest_field(payload, pos, DEST_ATTR_ADDR, 4 if af == socket.AF_INET else 16)
    addr = socket.inet_ntop(af, payload[p: p + (4 if af == socket.AF_INET else 16)])
    d = Dest(addr=addr, port=_BE16(payload, _dest_field(payload, pos, DEST_ATTR_PORT, 2))[0],
             fwd=u32(payload, _dest_field(payload, pos, DEST_ATTR_FWD_METHOD, 4))[0] & CONN_F_FWD_MASK,
             weight=u32(payload, _dest_field(payload, pos, DEST_ATTR_WEIGHT, 4))[0], af=af)
    for t, name in ((DEST_ATTR_U_THRESH, "u_thresh"), (DEST_ATTR_L_THRESH, "l_thresh"),
                    (DEST_ATTR_ACTIVE_CONNS, "active_conns"), (DEST_ATTR_INACT_CONNS, "inact_conns"),
                    (DEST_ATTR_PERSIST_CONNS, "persist_conns")):
        p = _dest_field(payload, pos, t, 4, required=False)
        if p >= 0:
            setattr(d, name, u32(payload, p)[0])
    if d.fwd == 2:  # tunnel
        p = _dest_field(payload, pos, DEST_ATTR_TUN_TYPE, 1, required=False)
        if p >= 0:
            d.tun_type = payload[p]
        p = _dest_field(payload, pos, DEST_ATTR_TUN_PORT, 2, required=False)
        if p >= 0:
            d.tun_port = _BE16(payload, p)[0]
        p = _dest_field(payload, pos, DEST_ATTR_TUN_FLAGS, 2, required=False)
        if p >= 0:
            d.tun_flags = _U16(payload, p)[0]
    if with_stats:
        p = pos[DEST_ATTR_STATS64] if pos[DEST_ATTR_STATS64] >= 0 else pos[DEST_ATTR_STATS]
        if p >= 0:
            n = _NLA_UNPACK(payload, p)[0]
            d.stats = parse_stats(payload[p + 4: p + n])
    return d


# ---------------------------------------------------------------- the socket
class IPVSNetlink:
    """One generic-netlink socket speaking the IPVS family."""

    BATCH = 1000            # requests per send
    BUF = 8 * 1024 * 1024   # socket buffers (forced, as root)

    def __init__(self, sock: socket.socket | None = None):
        self.sock = sock or socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        for opt, fallback in ((SO_RCVBUFFORCE, socket.SO_RCVBUF), (SO_SNDBUFFORCE, socket.SO_SNDBUF)):
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, opt, self.BUF)
            except OSError:
                self.sock.setsockopt(socket.SOL_SOCKET, fallback, self.BUF)
        try:  # error replies carry only the header of the failed request, not its payload
            self.sock.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
            self.sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        except OSError:
            pass
        self.sock.bind((0, 0))
        set_timeout(self.sock)
        self.seq = int.from_bytes(os.urandom(2), "little") << 8
        self.writes = 0  # kernel write requests sent (for benchmarks and `changed` accounting)
        self.family, self.version = self._resolve_family()

    def close(self) -> None:
        self.sock.close()

    # -- framing
    def _msg(self, mtype: int, flags: int, cmd: int, payload: bytes, version: int = IPVS_GENL_VERSION) -> tuple:
        self.seq += 1
        body = GENL.pack(cmd, version, 0) + payload
        return self.seq, HDR.pack(HDR.size + len(body), mtype, flags, self.seq, 0) + body

    def _recv(self) -> bytes:
        return recv(self.sock)

    messages = staticmethod(messages)
    error_code = staticmethod(error_code)

    @staticmethod
    def ext_ack_message(payload: bytes) -> str:
        # With NETLINK_CAP_ACK the error carries the request header only; TLVs follow (NLMSGERR_ATTR_MSG=1).
        try:
            a = parse_attrs(payload[4 + HDR.size:])
        except CodecError:  # the error code still counts; only its text is unreadable
            return ""
        return get_str(a[1]) if 1 in a else ""

    # -- requests
    def _resolve_family(self) -> tuple[int, int]:
        seq, msg = self._msg(GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK, CTRL_CMD_GETFAMILY,
                             attr(CTRL_ATTR_FAMILY_NAME, IPVS_GENL_NAME + b"\0"), version=1)
        self.sock.send(msg)
        fam = ver = None
        while True:
            for mtype, _f, rseq, payload in self.messages(self._recv()):
                if rseq != seq:
                    continue
                if mtype == NLMSG_ERROR:
                    code = self.error_code(payload)
                    if code == 0:
                        if fam is None:
                            raise NetlinkError("IPVS generic-netlink family not found")
                        return fam, ver
                    if code == errno.ENOENT:
                        raise NetlinkError("the kernel has no IPVS netlink family: load ip_vs "
                                           "(modprobe ip_vs) or use backend=ipvsadm", code)
                    raise NetlinkError(f"resolving the IPVS family failed: {os.strerror(code)}", code)
                a = parse_attrs(payload, GENL.size)
                fam = get_u16(a.get(CTRL_ATTR_FAMILY_ID), "generic-netlink family id")
                ver = get_u32(a.get(CTRL_ATTR_VERSION, b"\1\0\0\0"), "generic-netlink family version")

    def dump(self, cmd: int, payload: bytes = b"") -> list[bytes]:
        """Run one dump; return each reply's attribute payload (after the genl header)."""
        return self.dump_many([(cmd, payload)])[0]

    def dump_many(self, requests: list[tuple[int, bytes]]) -> list[list[bytes]]:
        """Run dumps back to back on the one socket; each reply's attributes (after the genl header).

        The kernel keeps one dump in progress per socket and finishes it (NLMSG_DONE) only while we
        read, so a dump request sent before the previous dump is read is refused with EBUSY; each
        request therefore goes out as soon as the previous dump's DONE has been read (a busy reply
        is re-sent, should one still occur). A dump the kernel marks interrupted (NLM_F_DUMP_INTR:
        the table changed while it was read) is re-run. Both retries are bounded. The message walk
        is inlined, with the checks of `messages`: this loop runs once per service when reading
        the whole table.
        """
        results: list[list[bytes]] = []
        hdr_unpack, hdr_size, genl_end = HDR.unpack_from, HDR.size, HDR.size + GENL.size
        send, recv_ = self.sock.send, self._recv
        flags = NLM_F_REQUEST | NLM_F_DUMP
        for cmd, payload in requests:
            for attempt in range(DUMP_RETRIES + 1):
                seq, msg = self._msg(self.family, flags, cmd, payload)
                send(msg)
                out, again, open_ = [], "", True
                while open_:
                    data = recv_()
                    off, size = 0, len(data)
                    while off < size:
                        if size - off < hdr_size:
                            raise CodecError(f"netlink reply: {size - off} trailing bytes are not a message header")
                        n, mtype, mflags, rseq, _pid = hdr_unpack(data, off)
                        if n < hdr_size or off + n > size:
                            raise CodecError(f"netlink reply: message length {n} at offset {off} of {size} bytes")
                        if rseq == seq:
                            if mflags & NLM_F_DUMP_INTR:
                                again = "interrupted (the table changed while it was read)"
                            if mtype == NLMSG_DONE:
                                open_ = False
                            elif mtype == NLMSG_ERROR:
                                open_ = False
                                code = error_code(data[off + hdr_size: off + n])
                                if code == errno.EBUSY:
                                    again = "busy"
                                elif code:
                                    raise NetlinkError(f"dump failed: {os.strerror(code)}", code)
                            elif n < genl_end:
                                raise CodecError(f"netlink reply: message of {n} bytes has no generic-netlink header")
                            else:
                                out.append(data[off + genl_end: off + n])
                        off += (n + 3) & ~3
                if not again:
                    results.append(out)
                    break
                if attempt == DUMP_RETRIES:
                    raise NetlinkError(f"dump {again} {DUMP_RETRIES + 1} times in a row; giving up", errno.EBUSY)
                time.sleep(0.005 * (attempt + 1))
        return results

    def transact(self, requests: list[tuple[int, bytes, str]]) -> list[tuple[str, int, str]]:
        """Send write requests in batches, errors only, each batch closed by an acknowledged barrier.

        `requests`: (cmd, attribute payload, label for error messages). Returns (label, errno, text)
        for every failed request, in request order.
        """
        errors = []
        for start in range(0, len(requests), self.BATCH):
            chunk = requests[start: start + self.BATCH]
            labels, buf = {}, []
            for cmd, payload, label in chunk:
                seq, msg = self._msg(self.family, NLM_F_REQUEST, cmd, payload)
                labels[seq] = label
                buf.append(msg)
            barrier, msg = self._msg(self.family, NLM_F_REQUEST | NLM_F_ACK, CMD_GET_INFO, b"")
            buf.append(msg)
            self.sock.send(b"".join(buf))
            self.writes += len(chunk)
            done = False
            while not done:
                for mtype, _f, seq, payload in self.messages(self._recv()):
                    if seq == barrier:
                        done = done or mtype == NLMSG_ERROR  # the ACK closes the batch
                    elif mtype == NLMSG_ERROR and seq in labels:
                        code = self.error_code(payload)
                        if code:
                            errors.append((labels[seq], code, self.ext_ack_message(payload)))
        return errors

    # -- IPVS
    def info(self) -> dict:
        replies = self._simple(CMD_GET_INFO)
        a = parse_attrs(replies[0]) if replies else {}
        v = get_u32(a.get(INFO_ATTR_VERSION, b"\0" * 4), "IPVS version")
        return {"version": f"{v >> 16}.{(v >> 8) & 0xFF}.{v & 0xFF}",
                "conn_tab_size": get_u32(a.get(INFO_ATTR_CONN_TAB_SIZE, b"\0" * 4))}

    def _simple(self, cmd: int, payload: bytes = b"") -> list[bytes]:
        seq, msg = self._msg(self.family, NLM_F_REQUEST, cmd, payload)
        self.sock.send(msg)
        out = []
        while True:
            for mtype, _f, rseq, p in self.messages(self._recv()):
                if rseq != seq:
                    continue
                if mtype == NLMSG_ERROR:
                    code = self.error_code(p)
                    if code:
                        raise NetlinkError(f"IPVS request {cmd} failed: {os.strerror(code)}", code)
                    return out
                if len(p) < GENL.size:
                    raise CodecError(f"netlink reply: message of {len(p)} bytes has no generic-netlink header")
                out.append(p[GENL.size:])
                return out

    def read_table(self, with_dests: bool = True, stats: bool = False) -> Table:
        """The whole table; traffic stats are decoded only when asked (the diff never needs them)."""
        table: Table = {}
        for payload in self.dump(CMD_GET_SERVICE):
            a = parse_attrs(payload)
            if CMD_ATTR_SERVICE not in a:
                raise CodecError("service dump: a reply without a service attribute")
            s = decode_service(a[CMD_ATTR_SERVICE], stats)
            table[s.key] = s
        if with_dests and table:
            keys = list(table)
            reqs = [(CMD_GET_DEST, nested(CMD_ATTR_SERVICE, *svc_id_attrs(k))) for k in keys]
            for key, replies in zip(keys, self.dump_many(reqs)):
                dests = table[key].dests
                for payload in replies:
                    # payload: one CMD_ATTR_DEST attribute whose payload is the destination
                    if len(payload) < 4:
                        raise CodecError(f"destination dump: a reply of {len(payload)} bytes")
                    n, t = _NLA_UNPACK(payload, 0)
                    if n < 4 or n > len(payload):
                        raise CodecError(f"destination dump: attribute length {n} in {len(payload)} bytes")
                    if t & NLA_TYPE_MASK != CMD_ATTR_DEST:
                        raise NetlinkError(f"unexpected attribute {t} in a destination dump")
                    d = decode_dest(payload, key.af, stats, 4, n)
                    dests[(d.addr, d.port)] = d
        return table

    def get_timeouts(self) -> dict:
        replies = self._simple(CMD_GET_CONFIG)
        a = parse_attrs(replies[0]) if replies else {}
        return {"tcp": get_u32(a.get(CMD_ATTR_TIMEOUT_TCP, b"\0" * 4)),
                "tcpfin": get_u32(a.get(CMD_ATTR_TIMEOUT_TCP_FIN, b"\0" * 4)),
                "udp": get_u32(a.get(CMD_ATTR_TIMEOUT_UDP, b"\0" * 4))}

    def set_timeouts(self, tcp: int, tcpfin: int, udp: int) -> None:
        payload = u32(CMD_ATTR_TIMEOUT_TCP, tcp) + u32(CMD_ATTR_TIMEOUT_TCP_FIN, tcpfin) + \
            u32(CMD_ATTR_TIMEOUT_UDP, udp)
        errors = self.transact([(CMD_SET_CONFIG, payload, "timeouts")])
        if errors:
            raise NetlinkError(f"setting timeouts failed: {os.strerror(errors[0][1])}", errors[0][1])

    def apply(self, plan: Plan) -> list[tuple[str, int, str]]:
        """Send the plan (deletions first, then services, then destinations); return failures."""
        from .ipvs_state import dest_args, service_args  # labels in ipvsadm words

        reqs = []
        for key, d in plan.del_dests:
            reqs.append((CMD_DEL_DEST, nested(CMD_ATTR_SERVICE, *svc_id_attrs(key)) + dest_attrs(d, full=False),
                         "-d " + " ".join(dest_args(key, d)[:4])))
        for key in plan.del_services:
            reqs.append((CMD_DEL_SERVICE, nested(CMD_ATTR_SERVICE, *svc_id_attrs(key)), "-D " + key.label()))
        for s in plan.add_services:
            reqs.append((CMD_NEW_SERVICE, svc_full_attrs(s), "-A " + " ".join(service_args(s))))
        for s in plan.set_services:
            reqs.append((CMD_SET_SERVICE, svc_full_attrs(s), "-E " + " ".join(service_args(s))))
        for cmd, items, verb in ((CMD_NEW_DEST, plan.add_dests, "-a"), (CMD_SET_DEST, plan.set_dests, "-e")):
            for key, d in items:
                reqs.append((cmd, nested(CMD_ATTR_SERVICE, *svc_id_attrs(key)) + dest_attrs(d),
                             verb + " " + " ".join(dest_args(key, d))))
        return self.transact(reqs)


def describe(code: int, request: str = "") -> str:
    """An errno in an operator's words; `request` (the ipvsadm-style label) says what was asked,
    which matters: ENOENT on a service means a missing scheduler, on a real server that it is gone."""
    verb = request.split(" ", 1)[0]
    if code == errno.ENOENT and verb in ("-d", "-e"):
        return "no such real server (removed since the table was read?)"
    if code == errno.ESRCH and verb in ("-a", "-d", "-e", "-D", "-E"):
        return "no such service (removed since the table was read?)"
    return ERRNO_HINTS.get(code) or os.strerror(code)
