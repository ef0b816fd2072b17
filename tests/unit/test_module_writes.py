"""Writes that stop halfway: the IPVS modules report what the kernel really holds afterwards.

The kernel is a scripted table here (a unit test of the modules' accounting); the lab runs the same
modules against the real kernel.
"""
import errno
import importlib.util
import socket
import sys
from pathlib import Path

import pytest

from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet import ipvs_backend, ipvs_netlink, ipvs_state, model
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.ipvs_state import Dest, Service, ServiceKey, apply_to_table, render

MODULES = Path(__file__).resolve().parents[2] / "plugins" / "modules"


def load(name):
    spec = importlib.util.spec_from_file_location(f"lvsfleet_test_{name}", MODULES / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class Done(BaseException):
    """Like AnsibleModule's exit_json and fail_json (SystemExit): not caught by `except Exception`."""

    def __init__(self, failed, result):
        super().__init__(result.get("msg", ""))
        self.failed, self.result = failed, result


class FakeModule:
    def __init__(self, params, check_mode=False, diff=True):
        self.params, self.check_mode, self._diff = params, check_mode, diff

    def fail_json(self, **kw):
        raise Done(True, kw)

    def exit_json(self, **kw):
        raise Done(False, kw)


class Kernel:
    """One IPVS table shared by every connection the module opens, with scripted failures."""

    def __init__(self, table):
        self.table = table
        self.refuse_after = None     # apply only the first N requests of a plan, refuse the rest
        self.lose_replies = False    # apply everything, then lose the replies (ENOBUFS)
        self.vanish_on_read = None   # (read number, key): that service disappears on that read
        self.reads = 0
        self.timeouts = {"tcp": 900, "tcpfin": 120, "udp": 300}


class Conn:
    def __init__(self, kernel):
        self.k, self.writes = kernel, 0

    def read_table(self, with_dests=True, stats=False):
        self.k.reads += 1
        if self.k.vanish_on_read and self.k.reads == self.k.vanish_on_read[0]:
            self.k.table.pop(self.k.vanish_on_read[1], None)
        return {k: Service(**{**v.__dict__, "dests": {dk: Dest(**dv.__dict__) for dk, dv in v.dests.items()}})
                for k, v in self.k.table.items()}

    def apply(self, plan):
        reqs = ([("del_dests", x) for x in plan.del_dests] + [("del_services", x) for x in plan.del_services]
                + [("add_services", x) for x in plan.add_services] + [("set_services", x) for x in plan.set_services]
                + [("add_dests", x) for x in plan.add_dests] + [("set_dests", x) for x in plan.set_dests])
        n = len(reqs) if self.k.refuse_after is None else self.k.refuse_after
        done = ipvs_state.Plan()
        for field, item in reqs[:n]:
            getattr(done, field).append(item)
        self.k.table = apply_to_table(self.k.table, done)
        self.writes += len(reqs)
        if self.k.lose_replies:
            raise ipvs_netlink.NetlinkError("netlink receive buffer overrun: replies were lost", errno.ENOBUFS)
        return [(f"request {i}", errno.EINVAL, "") for i in range(n, len(reqs))]

    def get_timeouts(self):
        return dict(self.k.timeouts)

    def set_timeouts(self, tcp, tcpfin, udp):
        self.k.timeouts = {"tcp": tcp, "tcpfin": tcpfin, "udp": udp}

    def close(self):
        pass


@pytest.fixture
def kernel(monkeypatch):
    k = Kernel({})
    monkeypatch.setattr(ipvs_backend, "open_backend", lambda module, backend: (Conn(k), "netlink"))
    return k


def services(n):
    return [{"name": f"s{i}", "vip": f"198.51.100.{10 + i}", "port": 80,
             "real_servers": [{"address": "203.0.113.21", "port": 8080}]} for i in range(n)]


def run_ipvs(kernel, monkeypatch, svcs, timeouts=None):
    mod = load("lvs_ipvs")
    monkeypatch.setattr(mod, "open_backend", ipvs_backend.open_backend)
    params = {"services": svcs, "purge": False, "backend": "auto", "timeouts": timeouts}
    with pytest.raises(Done) as done:
        mod.run(FakeModule(params), params)
    return done.value


def test_a_zero_timeout_is_refused_before_the_kernel_is_asked(kernel, monkeypatch):
    # The kernel reads 0 as "leave it": the module would report a change on every run.
    out = run_ipvs(kernel, monkeypatch, services(1), timeouts={"tcp": 900, "tcpfin": 0, "udp": -5})
    assert out.failed and "tcpfin=0, udp=-5 must be at least 1 second" in out.result["msg"]
    assert "nothing changed" in out.result["msg"] and kernel.reads == 0 and kernel.table == {}


def test_timeouts_that_differ_are_set_and_reported(kernel, monkeypatch):
    out = run_ipvs(kernel, monkeypatch, [], timeouts={"tcp": 900, "tcpfin": 120, "udp": 10})
    assert not out.failed and out.result["changed"] is True
    assert "--set 900 120 10" in out.result["commands"] and kernel.timeouts["udp"] == 10
    again = run_ipvs(kernel, monkeypatch, [], timeouts={"tcp": 900, "tcpfin": 120, "udp": 10})
    assert not again.failed and again.result["changed"] is False


def test_part_of_a_batch_refused_reports_changed_and_the_real_after(kernel, monkeypatch):
    kernel.refuse_after = 3          # 3 services x (service + real server) = 6 requests; 3 go through
    out = run_ipvs(kernel, monkeypatch, services(3))
    assert out.failed and out.result["changed"] is True
    assert "refused 3 of 6" in out.result["msg"]
    after = out.result["diff"]["after"]
    assert after == render(kernel.table) and after.count("-A ") == 3 and after.count("-a ") == 0
    assert out.result["diff"]["before"] == ""


def test_every_request_refused_reports_no_change(kernel, monkeypatch):
    kernel.refuse_after = 0
    out = run_ipvs(kernel, monkeypatch, services(2))
    assert out.failed and out.result["changed"] is False and "nothing changed" in out.result["msg"]


def test_replies_lost_after_the_writes_reports_changed(kernel, monkeypatch):
    kernel.lose_replies = True
    out = run_ipvs(kernel, monkeypatch, services(2))
    assert out.failed and out.result["changed"] is True and "replies were lost" in out.result["msg"]
    assert out.result["diff"]["after"].count("-a ") == 2


KEY = ServiceKey(af=socket.AF_INET, protocol=6, addr="198.51.100.10", port=80)


def rs_params(**kw):
    p = dict(vip="198.51.100.10", port=80, protocol="tcp", fwmark=None, family=4, address="203.0.113.21",
             real_port=8080, state="absent", weight=None, forwarding=None, upper_threshold=None,
             lower_threshold=None, wait=True, timeout=30, fail_on_timeout=False, backend="auto")
    p.update(kw)
    return p


def run_rs(kernel, monkeypatch, **kw):
    mod = load("lvs_ipvs_real_server")
    monkeypatch.setattr(mod, "open_backend", ipvs_backend.open_backend)
    monkeypatch.setattr(mod.time, "sleep", lambda s: None)
    module = FakeModule(rs_params(**kw))
    monkeypatch.setattr(mod, "AnsibleModule", lambda **a: module)
    with pytest.raises(Done) as done:
        mod.main()
    return done.value


def table_with_busy_rs():
    d = Dest(addr="203.0.113.21", port=8080, weight=3, active_conns=5)
    return {KEY: Service(key=KEY, scheduler="wrr", dests={d.key(): d})}


def test_service_removed_during_a_drain_wait_is_not_a_crash(kernel, monkeypatch):
    kernel.table = table_with_busy_rs()
    kernel.vanish_on_read = (2, KEY)      # read 1: before the drain; read 2: while waiting
    out = run_rs(kernel, monkeypatch)
    assert not out.failed and out.result["changed"] is True and "removed while" in out.result["msg"]


def test_refused_removal_after_the_drain_reports_the_drain(kernel, monkeypatch):
    kernel.table = table_with_busy_rs()
    kernel.table[KEY].dests[("203.0.113.21", 8080)].active_conns = 0
    conn_apply = Conn.apply

    def refuse_deletes(self, plan):
        if plan.del_dests:
            self.writes += 1
            return [("-d -t 198.51.100.10:80 -r 203.0.113.21:8080", errno.EBUSY, "")]
        return conn_apply(self, plan)

    monkeypatch.setattr(Conn, "apply", refuse_deletes)
    out = run_rs(kernel, monkeypatch)
    assert out.failed and out.result["changed"] is True
    assert "-w 0" in out.result["diff"]["after"] and "-w 3" in out.result["diff"]["before"]
