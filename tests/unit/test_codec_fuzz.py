"""Seeded fuzzing of every netlink and ipvsadm-save decoder: no hang, no foreign exception, bounded memory.

Replies the kernel really sent (tests/unit/fixtures/netlink_replies.json) and rtnetlink replies built
here are mutated (bit flips, length fields set to 0 / small / huge, truncation, spliced bytes, dropped
or repeated datagrams) and replayed through the code the modules run. Each case must return or raise
the codec's own error (NetlinkError and its CodecError/RtnlError); anything else, a case running past
its time limit, or a case allocating more than its memory bound fails the test and names the seed
and case, so it replays exactly.

LVSFLEET_FUZZ_SEED and LVSFLEET_FUZZ_CASES change the seed and the number of cases per target.
"""
import errno
import json
import os
import random
import signal
import socket
import struct
import tracemalloc
from pathlib import Path

import pytest

from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet import ipvs_netlink as nl
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet import rtnl
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.ipvs_ipvsadm import IpvsadmError, parse_save
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.ipvs_state import Plan, Service, ServiceKey

REC = json.loads((Path(__file__).parent / "fixtures" / "netlink_replies.json").read_text())
SEED = int(os.environ.get("LVSFLEET_FUZZ_SEED", "20261124"))
CASES = int(os.environ.get("LVSFLEET_FUZZ_CASES", "1500"))
CASE_SECONDS = 2.0
CASE_BYTES = 16 << 20


class Hang(BaseException):
    """Raised by the timer: a BaseException, so no `except Exception` in the code under test hides it."""


class FuzzSocket:
    """A netlink socket that replays datagrams; when they run out it times out, as a silent kernel would."""

    def __init__(self, replies):
        self.replies = list(replies)
        self.sent = []

    def setsockopt(self, *a):
        pass

    def settimeout(self, t):
        pass

    def bind(self, addr):
        pass

    def send(self, data):
        self.sent.append(data)
        return len(data)

    def recv(self, n):
        if not self.replies:
            raise socket.timeout("timed out")
        return self.replies.pop(0)

    def close(self):
        pass


# ------------------------------------------------------------------ mutations
def mutate(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    kind = rng.randrange(7)
    if not b:
        return bytes(rng.randbytes(rng.randrange(1, 40)))
    if kind == 0:                                   # flip bits
        for _ in range(rng.randrange(1, 4)):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
    elif kind == 1:                                 # an aligned 16/32-bit field (lengths, types) set to an edge value
        i = rng.randrange(0, max(1, len(b) - 4), 2)
        width = rng.choice((2, 4))
        value = rng.choice((0, 1, 3, 4, 5, 8, 15, 16, 0x7FFF, 0xFFFF, 0xFFFFFFFF, len(b), len(b) + 4))
        b[i:i + width] = (value & ((1 << (8 * width)) - 1)).to_bytes(width, "little")[:len(b[i:i + width])]
    elif kind == 2:                                 # truncate
        del b[rng.randrange(len(b)):]
    elif kind == 3:                                 # splice random bytes in
        i = rng.randrange(len(b) + 1)
        b[i:i] = rng.randbytes(rng.randrange(1, 16))
    elif kind == 4:                                 # cut a slice out
        i = rng.randrange(len(b))
        del b[i:i + rng.randrange(1, 24)]
    elif kind == 5:                                 # zero a run
        i = rng.randrange(len(b))
        n = rng.randrange(1, 12)
        b[i:i + n] = bytes(len(b[i:i + n]))
    else:                                           # the message length of the first header
        if len(b) >= 4:
            b[0:4] = struct.pack("=I", rng.choice((0, 1, 15, 16, 17, len(b) - 1, len(b) + 1, 1 << 20)))
    return bytes(b)


def mutate_replies(rng: random.Random, replies: list[bytes]) -> list[bytes]:
    out = list(replies)
    for _ in range(rng.randrange(1, 4)):
        roll = rng.random()
        if roll < 0.08 and out:
            del out[rng.randrange(len(out))]
        elif roll < 0.14 and out:
            i = rng.randrange(len(out))
            out.insert(i, out[i])
        elif out:
            i = rng.randrange(len(out))
            out[i] = mutate(rng, out[i])
    return out


# ------------------------------------------------------------------ targets (what the modules run)
def _hex(name):
    return [bytes.fromhex(h) for h in REC[name]["replies"]]


def _ipvs(monkeypatch, family_replies):
    seq = nl.HDR.unpack_from(bytes.fromhex(REC["family"]["replies"][0]))[3]
    monkeypatch.setattr(nl.os, "urandom", lambda n: ((seq - 1) >> 8).to_bytes(2, "little"))
    return nl.IPVSNetlink(FuzzSocket(family_replies))


def _after_family(monkeypatch, name, replies):
    conn = _ipvs(monkeypatch, _hex("family"))
    conn.sock.replies = replies
    conn.seq = REC[name]["first_seq"] - 1
    return conn


def run_family(mp, replies):
    _ipvs(mp, replies)


def run_table(mp, replies):
    _after_family(mp, "table", replies).read_table(stats=True)


def run_info(mp, replies):
    _after_family(mp, "info", replies).info()


def run_config(mp, replies):
    _after_family(mp, "config", replies).get_timeouts()


def run_batch(mp, replies):
    conn = _after_family(mp, "batch_error", replies)
    svc = Service(key=ServiceKey(af=socket.AF_INET, protocol=6, addr="198.51.100.10", port=80), scheduler="rr")
    conn.apply(Plan(add_services=[svc]))


RT_SEQ = 0x4242


def _rt_msg(mtype, body, seq=RT_SEQ, flags=nl.NLM_F_MULTI):
    return nl.HDR.pack(nl.HDR.size + len(body), mtype, flags, seq, 0) + body


def rtnl_address_replies():
    msgs = []
    for fam, raw, plen in ((socket.AF_INET, socket.inet_aton("198.51.100.10"), 32),
                           (socket.AF_INET6, socket.inet_pton(socket.AF_INET6, "2001:db8::10"), 128)):
        body = rtnl.IFADDRMSG.pack(fam, plen, 0, 0, 2) + nl.attr(rtnl.IFA_ADDRESS, raw) + nl.attr(rtnl.IFA_LOCAL, raw)
        msgs.append(_rt_msg(rtnl.RTM_NEWADDR, body))
    return [b"".join(msgs), _rt_msg(nl.NLMSG_DONE, struct.pack("=i", 0))]


def rtnl_link_replies(seq=RT_SEQ):
    msgs = [_rt_msg(rtnl.RTM_NEWLINK, rtnl.IFINFOMSG.pack(0, 0, 0, i, 0, 0) + nl.string(rtnl.IFLA_IFNAME, name), seq)
            for i, name in ((1, "lo"), (2, "eth0"), (3, "lvs0"))]
    return [b"".join(msgs), _rt_msg(nl.NLMSG_DONE, struct.pack("=i", 0), seq)]


def _rt(replies):
    r = rtnl.Rtnl(FuzzSocket(replies))
    r.seq = RT_SEQ - 1
    return r


def run_rt_addresses(mp, replies):
    _rt(replies).addresses(2)


def run_rt_links(mp, replies):
    _rt(replies).link_names()


TARGETS = {
    "family": (run_family, lambda: _hex("family")),
    "table": (run_table, lambda: _hex("table")),
    "info": (run_info, lambda: _hex("info")),
    "config": (run_config, lambda: _hex("config")),
    "batch": (run_batch, lambda: _hex("batch_error")),
    "rtnl_addresses": (run_rt_addresses, rtnl_address_replies),
    "rtnl_links": (run_rt_links, rtnl_link_replies),
}


def _bounded(fn, label):
    """Run fn under a wall-clock limit and a memory bound; only the codec's own errors may escape."""
    tracemalloc.reset_peak()
    try:
        _bounded_call(fn)
    except nl.NetlinkError:
        pass
    except Hang:
        pytest.fail(f"{label}: still running after {CASE_SECONDS} s (a decoder loop that does not advance?)")
    except Exception as exc:  # noqa: BLE001 - this is what the test is for
        pytest.fail(f"{label}: {type(exc).__name__}: {exc} (only NetlinkError may escape a decoder)")
    peak = tracemalloc.get_traced_memory()[1]
    assert peak < CASE_BYTES, f"{label}: allocated {peak} bytes (bound {CASE_BYTES})"


def _bounded_call(fn):
    """fn() under a CPU-time timer that raises Hang: a decoder that loops spends CPU; a busy machine (make test
    runs the unit tests at nice 19 beside the lab) only stretches the wall time."""
    def alarm(_sig, _frame):
        raise Hang()

    old = signal.signal(signal.SIGPROF, alarm)
    signal.setitimer(signal.ITIMER_PROF, CASE_SECONDS)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, old)


@pytest.fixture(scope="module", autouse=True)
def traced():
    tracemalloc.start()
    yield
    tracemalloc.stop()


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_mutated_replies_never_hang_or_escape(target, monkeypatch):
    run, replies = TARGETS[target]
    monkeypatch.setattr(nl.time, "sleep", lambda s: None)
    _bounded(lambda: run(monkeypatch, replies()), f"{target}: unmutated replies")  # the baseline decodes
    rng = random.Random(f"{SEED}:{target}")
    for case in range(CASES):
        mutated = mutate_replies(rng, replies())
        _bounded(lambda: run(monkeypatch, mutated),
                 f"{target} case {case} (LVSFLEET_FUZZ_SEED={SEED}) replies={[m.hex() for m in mutated]}")


def _recorded_attrs():
    """The top-level attributes of every message in the recorded table dump."""
    for data in _hex("table"):
        for mtype, _f, _s, payload in nl.messages(data):
            if mtype >= 0x10 and len(payload) >= nl.GENL.size + 4:
                yield nl.parse_attrs(payload, nl.GENL.size)


def _dest_payloads():
    return [a[nl.CMD_ATTR_DEST] for a in _recorded_attrs() if nl.CMD_ATTR_DEST in a]


def _service_payloads():
    return [a[nl.CMD_ATTR_SERVICE] for a in _recorded_attrs() if nl.CMD_ATTR_SERVICE in a and nl.CMD_ATTR_DEST not in a]


def test_attribute_decoders_on_mutated_and_random_payloads():
    dests, services = _dest_payloads(), _service_payloads()
    assert dests and services
    rng = random.Random(f"{SEED}:attributes")
    decoders = (
        ("decode_dest", dests, lambda b: nl.decode_dest(b, socket.AF_INET, True)),
        ("decode_dest v6", dests, lambda b: nl.decode_dest(b, socket.AF_INET6, True)),
        ("decode_service", services, lambda b: nl.decode_service(b, True)),
        ("parse_stats", services, nl.parse_stats),
        ("parse_attrs", services + dests, nl.parse_attrs),
    )
    for name, corpus, decode in decoders:
        for case in range(CASES * 2):
            raw = rng.choice(corpus)
            data = mutate(rng, raw) if case % 8 else rng.randbytes(rng.randrange(0, 64))
            _bounded(lambda: decode(data), f"{name} case {case} (LVSFLEET_FUZZ_SEED={SEED}) payload={data.hex()}")


def test_ipvsadm_save_parser_on_mutated_text():
    text = REC["saved"]
    rng = random.Random(f"{SEED}:ipvsadm-save")
    words = ["-A", "-a", "-t", "-u", "-f", "-r", "-s", "-p", "-M", "-w", "-x", "-y", "-b", "--tun-type", "-6",
             "[2001:db8::1]:80", "1.2.3.4:x", "999999999999", "-1", ":", "[", "]:", "flag-9", "bogus"]
    for case in range(CASES * 2):
        lines = text.splitlines()
        for _ in range(rng.randrange(1, 4)):
            i = rng.randrange(len(lines))
            tok = lines[i].split()
            op = rng.randrange(3)
            if op == 0 and tok:
                tok[rng.randrange(len(tok))] = rng.choice(words)
            elif op == 1 and tok:
                del tok[rng.randrange(len(tok)):]
            else:
                tok.insert(rng.randrange(len(tok) + 1), rng.choice(words))
            lines[i] = " ".join(tok)
        mutated = "\n".join(lines)
        try:
            parse_save(mutated)
        except IpvsadmError:
            pass
        except Exception as exc:  # noqa: BLE001
            pytest.fail(f"case {case}: {type(exc).__name__}: {exc} for\n{mutated}")


# ------------------------------------------------------------------ the findings, one by one
def test_rtnl_message_of_length_zero_is_an_error_not_a_hang():
    zero = struct.pack("=IHHII", 0, rtnl.RTM_NEWADDR, nl.NLM_F_MULTI, RT_SEQ, 0) + bytes(16)
    with pytest.raises(nl.CodecError, match="length 0"):
        _bounded_call(lambda: _rt([zero]).addresses(2))


def _dest_without(attr_type):
    d = nl.parse_attrs(nl.dest_attrs(nl.Dest(addr="203.0.113.21", port=80, weight=5)))[nl.CMD_ATTR_DEST]
    parts, off = [], 0
    while off + 4 <= len(d):
        n, t = nl.NLA.unpack_from(d, off)
        if t & nl.NLA_TYPE_MASK != attr_type:
            parts.append(d[off: off + ((n + 3) & ~3)])
        off += (n + 3) & ~3
    return b"".join(parts)


@pytest.mark.parametrize("attr_type,what", [(nl.DEST_ATTR_WEIGHT, "weight"), (nl.DEST_ATTR_ADDR, "address"),
                                            (nl.DEST_ATTR_PORT, "port"), (nl.DEST_ATTR_FWD_METHOD, "forwarding")])
def test_destination_missing_an_attribute_is_refused_not_misread(attr_type, what):
    assert nl.decode_dest(_dest_without(0), socket.AF_INET).weight == 5      # the complete one decodes
    with pytest.raises(nl.CodecError, match=what):
        nl.decode_dest(_dest_without(attr_type), socket.AF_INET)


def test_destination_with_a_short_attribute_is_refused():
    d = nl.attr(nl.DEST_ATTR_ADDR, b"\xcb\x00") + nl.be16(nl.DEST_ATTR_PORT, 80) + \
        nl.u32(nl.DEST_ATTR_FWD_METHOD, 0) + nl.attr(nl.DEST_ATTR_WEIGHT, b"\x01")
    with pytest.raises(nl.CodecError):
        nl.decode_dest(d, socket.AF_INET)


def test_interface_name_that_is_not_utf8_decodes():
    replies = [_rt_msg(rtnl.RTM_NEWLINK, rtnl.IFINFOMSG.pack(0, 0, 0, 7, 0, 0)
                       + nl.attr(rtnl.IFLA_IFNAME, b"br\xff\xfe0\0")),
               _rt_msg(nl.NLMSG_DONE, struct.pack("=i", 0))]
    assert _rt(replies).link_names() == {"br\\xff\\xfe0": 7}


def test_interrupted_dump_is_rerun_and_bounded():
    done = _rt_msg(nl.NLMSG_DONE, struct.pack("=i", 0), flags=nl.NLM_F_MULTI | nl.NLM_F_DUMP_INTR)
    r = _rt([done] + rtnl_link_replies(RT_SEQ + 1))
    assert set(_bounded_call(r.link_names)) == {"lo", "eth0", "lvs0"}   # the second run is used
    always = rtnl.Rtnl(FuzzSocket([]))
    always.seq = RT_SEQ - 1
    always.sock.replies = [_rt_msg(nl.NLMSG_DONE, struct.pack("=i", 0), seq=RT_SEQ + i,
                                   flags=nl.NLM_F_MULTI | nl.NLM_F_DUMP_INTR) for i in range(50)]
    with pytest.raises(nl.NetlinkError, match="interrupted"):
        _bounded_call(always.link_names)


def test_busy_dump_is_retried_a_bounded_number_of_times(monkeypatch):
    monkeypatch.setattr(nl.time, "sleep", lambda s: None)
    conn = _after_family(monkeypatch, "table", [])
    busy = [_rt_msg(nl.NLMSG_ERROR, struct.pack("=i", -errno.EBUSY) + bytes(16), seq=REC["table"]["first_seq"] + i,
                    flags=0) for i in range(50)]
    conn.sock.replies = busy
    with pytest.raises(nl.NetlinkError, match="busy"):
        _bounded_call(conn.read_table)
    assert len(conn.sock.sent) == 1 + nl.DUMP_RETRIES + 1   # the family request, then each attempt


def test_a_silent_kernel_is_a_timeout_error(monkeypatch):
    conn = _after_family(monkeypatch, "table", [])
    with pytest.raises(nl.NetlinkError, match="no reply from the kernel"):
        conn.read_table()


def test_lost_replies_are_reported(monkeypatch):
    class Overrun(FuzzSocket):
        def recv(self, n):
            raise OSError(errno.ENOBUFS, "No buffer space available")

    conn = _after_family(monkeypatch, "batch_error", [])
    conn.sock = Overrun([])
    svc = Service(key=ServiceKey(af=socket.AF_INET, protocol=6, addr="198.51.100.10", port=80), scheduler="rr")
    with pytest.raises(nl.NetlinkError, match="replies were lost") as exc:
        conn.apply(Plan(add_services=[svc]))
    assert exc.value.code == errno.ENOBUFS and conn.writes == 1   # the write went out before the loss


def test_enoent_names_what_is_missing():
    assert "real server" in nl.describe(errno.ENOENT, "-d -t 198.51.100.10:80 -r 203.0.113.21:80")
    assert "real server" in nl.describe(errno.ENOENT, "-e -t 198.51.100.10:80 -r 203.0.113.21:80 -m -w 0")
    assert "scheduler" in nl.describe(errno.ENOENT, "-A -t 198.51.100.10:80 -s mh")


def test_adding_an_address_that_exists_is_not_an_error():
    import ipaddress

    exists = _rt_msg(nl.NLMSG_ERROR, struct.pack("=i", -errno.EEXIST) + bytes(16), flags=0)
    _rt([exists]).change_address(True, 2, ipaddress.ip_interface("198.51.100.10/32"), rtnl.RT_SCOPE_UNIVERSE)
    gone = _rt_msg(nl.NLMSG_ERROR, struct.pack("=i", -errno.EADDRNOTAVAIL) + bytes(16), flags=0)
    with pytest.raises(rtnl.RtnlError) as err:
        _rt([gone]).change_address(False, 2, ipaddress.ip_interface("198.51.100.10/32"), rtnl.RT_SCOPE_UNIVERSE)
    assert err.value.code == errno.EADDRNOTAVAIL
