"""The service model: defaults for a minimal service, and exact messages for bad inventory."""
import pytest

from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.model import ModelError, normalize_services

MINIMAL = {"name": "web", "vip": "198.51.100.10", "port": 80, "real_servers": ["203.0.113.21", "203.0.113.22"]}


def svc(**over):
    s = {k: v for k, v in MINIMAL.items()}
    s.update(over)
    return s


def test_minimal_service_gets_defaults():
    (n,) = normalize_services([MINIMAL])
    assert n["protocol"] == "tcp" and n["scheduler"] == "wlc" and n["forwarding"] == "nat"
    assert n["health_check"]["type"] == "tcp" and n["delay_loop"] == n["health_check"]["interval"]
    assert [r["port"] for r in n["real_servers"]] == [80, 80]
    assert [r["weight"] for r in n["real_servers"]] == [1, 1]
    assert n["family"] == 4


def test_ipv6_and_fwmark_services():
    v6 = svc(name="v6", vip="2001:db8::10", real_servers=["2001:db8::21"])
    fw = {"name": "fw", "vip": "198.51.100.20", "fwmark": 7, "real_servers": ["203.0.113.21"]}
    a, b = normalize_services([v6, fw])
    assert a["family"] == 6 and b["fwmark"] == 7 and b["port"] == 0


BAD = [
    ([svc(vip="198.51.100.300")], "lvs_services[0] (web).vip: '198.51.100.300' is not an IPv4 or IPv6 address"),
    ([svc(scheduler="roundrobin")], "lvs_services[0] (web).scheduler: 'roundrobin' is not one of rr, wrr, lc, wlc, "
                                    "lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh"),
    ([svc(forwarding="masq")], "lvs_services[0] (web).forwarding: 'masq' is not one of nat, dr, tun"),
    ([svc(real_servers=[{"address": "203.0.113.21", "weight": 70000}])],
     "lvs_services[0] (web).real_servers[0].weight: 70000 is outside 0..65535"),
    ([svc(real_servers=["203.0.113.21", "203.0.113.21"])],
     "lvs_services[0] (web).real_servers[1]: 203.0.113.21:80 is listed twice"),
    ([svc(forwarding="dr", real_servers=[{"address": "203.0.113.21", "port": 8080}])],
     "lvs_services[0] (web).real_servers[0].port: 8080 differs from the service port 80; DR cannot rewrite ports"),
    ([svc(real_servers=["2001:db8::1"])],
     "lvs_services[0] (web).real_servers[0].address: 2001:db8::1 is IPv6 but the VIP 198.51.100.10 is IPv4 "
     "(IPVS cannot mix families in one service)"),
    ([svc(), svc(name="web2")], "lvs_services[1] (web2): tcp 198.51.100.10:80 is already declared by lvs_services[0]"),
    ([svc(), svc(port=81)], "lvs_services[1].name: 'web' is already used by lvs_services[0]"),
    ([svc(schedular="rr")], "lvs_services[0] (web): unknown key 'schedular'"),
    ([svc(health_check={"type": "http", "payload": "x"})],
     "lvs_services[0] (web).health_check.payload: not an option of a http health check (it belongs to udp)"),
    ([svc(health_check={"type": "http", "pth": "/"})],
     "lvs_services[0] (web).health_check: unknown key 'pth' (did you mean 'path'?)"),
    ([svc(health_check={"type": "icmp"})], "lvs_services[0] (web).health_check.type: 'icmp' is not one of"),
    ([svc(scheduler="rr", scheduler_flags=["sh-port"])], "lvs_services[0] (web).scheduler_flags: 'sh-port'"),
    ([svc(port="http")], "lvs_services[0] (web).port: 'http' is not an integer"),
    ([svc(real_servers=[])], "lvs_services[0] (web).real_servers: needs a non-empty list of real servers"),
    ({"web": MINIMAL}, "lvs_services: {'web': {'name': 'web'"),
]


@pytest.mark.parametrize("services,message", BAD, ids=[m[:60] for _, m in BAD])
def test_bad_inventory_names_variable_item_and_value(services, message):
    with pytest.raises(ModelError) as err:
        normalize_services(services)
    assert str(err.value).startswith(message)


def test_a_check_without_type_is_the_service_s_own_transport():
    from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.model import normalize_services
    svc = normalize_services([{"name": "dns", "vip": "198.51.100.10", "port": 53, "protocol": "udp",
                               "health_check": {"interval": 5}, "real_servers": ["203.0.113.21"]}])[0]
    assert svc["health_check"]["type"] == "udp" and svc["health_check"]["interval"] == 5


def test_the_gate_s_sysctl_profiles_are_the_role_s():
    from pathlib import Path

    import yaml

    from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.model import SYSCTL_PROFILES
    spec = yaml.safe_load((Path(__file__).resolve().parents[2] / "roles" / "lvs_director" / "meta"
                           / "argument_specs.yml").read_text())
    options = spec["argument_specs"]["main"]["options"]
    assert tuple(options["lvs_director_sysctl_profile"]["choices"]) == SYSCTL_PROFILES


def test_the_inventory_check_normalizes_each_distinct_service_list_once(monkeypatch):
    """Real servers reading the directors' lvs_services (the usual case) reuse the directors' model: a fleet of
    many real servers costs one normalization per distinct list, and a real server's own list is still checked
    under its own name."""
    from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet import model

    services = [{"name": "web", "vip": "198.51.100.10", "port": 80, "forwarding": "dr",
                 "real_servers": ["203.0.113.21", "203.0.113.22"]}]
    vrrp = [{"name": "VI_1", "interface": "lan0", "virtual_router_id": 51, "priorities": {"lb1": 150, "lb2": 100},
             "virtual_ipaddresses": ["198.51.100.10/24"]}]
    directors = {h: {"lvs_services": services, "lvs_vrrp_instances": vrrp} for h in ("lb1", "lb2")}
    calls = []
    real = model.normalize_services
    monkeypatch.setattr(model, "normalize_services", lambda s, var="lvs_services": calls.append(var) or real(s, var))
    same = {f"rs{i}": {"services": [dict(services[0])], "addresses": None} for i in range(50)}
    model.check_inventory(directors, same)
    assert calls == ["lvs_services"]
    other = dict(same, rs99={"services": [dict(services[0], port=8080)], "addresses": None})
    model.check_inventory(directors, other)
    assert calls[1:] == ["lvs_services", "rs99: real_server_services"]
    bad = dict(same, rs99={"services": [dict(services[0], port="http")], "addresses": None})
    with pytest.raises(ModelError, match=r"rs99: real_server_services\[0\] \(web\)\.port"):
        model.check_inventory(directors, bad)


@pytest.mark.parametrize("field,value", [("port", 80.0), ("inhibit_on_failure", 0), ("quorum", True)])
def test_a_real_server_list_equal_only_in_python_is_still_checked(field, value):
    """80.0 == 80 and 0 == False in Python: a real server's list that differs from the directors' only so is
    checked on its own, and refused where the model refuses the value."""
    from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet import model

    svc = {"name": "web", "vip": "198.51.100.10", "port": 80, "forwarding": "dr", "inhibit_on_failure": False,
           "quorum": 1, "real_servers": ["203.0.113.21"]}
    vrrp = [{"name": "VI_1", "interface": "lan0", "virtual_router_id": 51, "priorities": {"lb1": 150, "lb2": 100},
             "virtual_ipaddresses": ["198.51.100.10/24"]}]
    directors = {h: {"lvs_services": [svc], "lvs_vrrp_instances": vrrp} for h in ("lb1", "lb2")}
    twin = dict(svc, **{field: value})
    assert twin == svc
    with pytest.raises(ModelError, match=rf"rs1: real_server_services\[0\] \(web\)\.{field}"):
        model.check_inventory(directors, {"rs1": {"services": [twin], "addresses": None}})


def test_a_director_whose_list_is_equal_only_in_python_differs():
    """Only the first director's lists are normalized; another director's must be the same values of the same
    kinds (80.0 is not 80 to the model), or it would be rendered from a list nobody checked."""
    from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet import model

    svc = {"name": "web", "vip": "198.51.100.10", "port": 80, "forwarding": "dr", "real_servers": ["203.0.113.21"]}
    vrrp = [{"name": "VI_1", "interface": "lan0", "virtual_router_id": 51, "priorities": {"lb1": 150, "lb2": 100},
             "virtual_ipaddresses": ["198.51.100.10/24"]}]
    directors = {"lb1": {"lvs_services": [svc], "lvs_vrrp_instances": vrrp},
                 "lb2": {"lvs_services": [dict(svc, port=80.0)], "lvs_vrrp_instances": vrrp}}
    with pytest.raises(ModelError, match="lb2: lvs_services differs from lb1's"):
        model.check_inventory(directors)
