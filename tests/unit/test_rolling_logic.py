"""Logic behind rolling changes and real-server preparation: verification against the model
(allowing for health checks), real-server state overrides, what a change removes, DR/TUN VIPs."""
import pytest

from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.ipvs_state import from_model
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.model import (CHECK_FWMARK_BASE, ModelError, apply_real_server_states, normalize_services,
                                         real_server_vips)
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.verify import problems, sorry_servers, unhealthy_in
from ansible_collections.lvsfleet.lvs.plugins.filter.lvs import lvs_removed_real_servers, lvs_traffic_services

WEB = {"name": "web", "vip": "198.51.100.10", "port": 80, "scheduler": "rr",
       "real_servers": [{"address": "203.0.113.21", "port": 8080}, {"address": "203.0.113.22", "port": 8080}]}
DR = {"name": "dr", "vip": "198.51.100.20", "port": 8080, "forwarding": "dr", "real_servers": ["203.0.113.21"]}
TUN = {"name": "tun", "vip": "198.51.100.21", "port": 8080, "forwarding": "tun",
       "real_servers": ["203.0.113.21", "203.0.113.22"]}


def model(*services, states=None):
    return apply_real_server_states(normalize_services(list(services)), states or {})


def table(*services, states=None):
    return from_model(model(*services, states=states))


def test_identical_table_has_no_problems():
    assert problems(table(WEB), table(WEB)) == []


def test_missing_real_server_is_a_problem_unless_it_was_unhealthy_before():
    one = dict(WEB, real_servers=[WEB["real_servers"][0]])
    assert problems(table(one), table(WEB)) == [
        "-t 198.51.100.10:80 -> 203.0.113.22:8080: in the model but not in the kernel (and it was healthy before)"]
    tolerated = unhealthy_in(table(one), table(WEB))  # the baseline already lacked it: failing its check
    assert problems(table(one), table(WEB), tolerated) == []


def test_scheduler_weight_and_extra_entries_are_reported():
    actual = table(dict(WEB, scheduler="wrr"), DR)
    out = problems(actual, table(WEB, states={"203.0.113.22": "drained"}))
    assert any("kernel has scheduler wrr" in p and "model wants scheduler rr" in p for p in out)
    assert any("203.0.113.22:8080: kernel has weight 1 forwarding nat" in p and "model wants weight 0" in p
               for p in out)
    assert "-t 198.51.100.20:8080: in the kernel but not in the model" in out


def test_real_server_states_override_by_address_or_address_and_port():
    m = model(WEB, TUN, states={"203.0.113.22": "disabled", "203.0.113.21:8080": "drained"})
    assert [r["state"] for r in m[0]["real_servers"]] == ["drained", "disabled"]
    assert [r["state"] for r in m[1]["real_servers"]] == ["drained", "disabled"]
    with pytest.raises(ModelError, match="203.0.113.99 is not a real server of any service"):
        model(WEB, states={"203.0.113.99": "drained"})
    with pytest.raises(ModelError, match="lvs_real_server_states.203.0.113.21"):
        model(WEB, states={"203.0.113.21": "off"})


def kernel_info(services):
    """What lvs_ipvs_info returns, reduced to what lvs_removed_real_servers reads."""
    return [{"vip": s["vip"], "port": s["port"], "protocol": s["protocol"], "fwmark": None, "family": 4,
             "real_servers": [{"address": r["address"], "port": r["port"], "weight": r["weight"]}
                              for r in s["real_servers"]]} for s in normalize_services(services)]


def test_removed_real_servers_include_those_of_removed_services():
    after = model(dict(WEB, real_servers=[{"address": "203.0.113.21", "port": 8080}]))
    removed = lvs_removed_real_servers(kernel_info([WEB, DR]), after)
    assert [(r["vip"], r["address"], r["real_port"]) for r in removed] == [
        ("198.51.100.10", "203.0.113.22", 8080), ("198.51.100.20", "203.0.113.21", 8080)]
    assert lvs_removed_real_servers(kernel_info([WEB]), model(WEB)) == []


def test_real_server_vips_are_the_dr_and_tun_services_naming_this_host():
    vips = real_server_vips(normalize_services([WEB, DR, TUN]), ["203.0.113.22/24"])
    assert [(v["vip"], v["forwarding"], v["tunnel"]) for v in vips] == [("198.51.100.21", "tun", "ipip")]
    vips = real_server_vips(normalize_services([WEB, DR, TUN]), ["203.0.113.21"])
    assert [v["vip"] for v in vips] == ["198.51.100.20", "198.51.100.21"]


def test_one_vip_cannot_be_both_dr_and_tun_on_a_real_server():
    dr81 = dict(DR, name="dr81", port=81, vip="198.51.100.21", real_servers=[{"address": "203.0.113.21", "port": 81}])
    with pytest.raises(ModelError, match="a real server accepts one VIP one way"):
        real_server_vips(normalize_services([TUN, dr81]), ["203.0.113.21"])


def test_kernel_overrides_apply_below_their_version_only():
    from ansible_collections.lvsfleet.lvs.plugins.modules.lvs_kernel import effective_sysctls, kernel_version
    assert kernel_version("6.1.0-26-amd64") == (6, 1, 0) and kernel_version("5.10") == (5, 10, 0)
    base = {"net.ipv4.vs.conn_reuse_mode": 1, "net.ipv4.vs.sloppy_tcp": 0}
    old = [{"below": "5.9", "sysctls": {"net.ipv4.vs.conn_reuse_mode": 0}}]
    assert effective_sysctls(base, old, "6.1.0-26-amd64") == base
    assert effective_sysctls(base, old, "5.4.0-150-generic")["net.ipv4.vs.conn_reuse_mode"] == 0
    with pytest.raises(ValueError, match="kernel_overrides\\[0\\]"):
        effective_sysctls(base, [{"below": "5.9"}], "6.1.0")


def test_a_sorry_server_in_the_kernel_is_not_a_problem():
    web = dict(WEB, sorry_server={"address": "203.0.113.99", "port": 8080})
    desired = table(web)
    sorry = sorry_servers(model(web), desired)
    assert list(sorry.values()) == [("203.0.113.99", 8080)]
    actual = table(dict(WEB, real_servers=WEB["real_servers"] + [{"address": "203.0.113.99", "port": 8080}]))
    assert problems(actual, desired, sorry=sorry) == []
    assert problems(actual, desired) == ["-t 198.51.100.10:80 -> 203.0.113.99:8080: in the kernel but not in the model"]


def test_check_paths_are_never_drained_while_their_real_server_stays():
    """A reload must not drain a forwarding-path check's fwmark service (the check would fail and take its real
    server out), nor wait for one whose real server goes away: it carries no client traffic, the reload removes
    it."""
    via = {"type": "tcp", "via": "forwarding"}
    before = dict(DR, health_check=via, real_servers=["203.0.113.21", "203.0.113.22"])
    kernel = kernel_info([before]) + [
        {"vip": None, "port": 0, "protocol": None, "fwmark": CHECK_FWMARK_BASE + n, "family": 4,
         "real_servers": [{"address": addr, "port": 0, "weight": 1}]}
        for n, addr in ((1, "203.0.113.21"), (2, "203.0.113.22"))]
    drained = model(before, states={"203.0.113.21": "drained"})
    assert lvs_removed_real_servers(kernel, drained) == []
    disabled = model(before, states={"203.0.113.22": "disabled"})
    assert [(r["fwmark"], r["address"], r["real_port"]) for r in lvs_removed_real_servers(kernel, disabled)] == [
        (None, "203.0.113.22", 8080)]
    assert [ks["fwmark"] for ks in lvs_traffic_services(kernel)] == [None]
