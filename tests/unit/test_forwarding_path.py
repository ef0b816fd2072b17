"""Forwarding-path checks (health_check.via: forwarding) and client-side services: model, rendering, kernel
table, adoption. The lab proves the behaviour (molecule/clientside); these check the logic."""
import socket

import pytest

from ansible_collections.lvsfleet.lvs.plugins.filter.lvs import lvs_without_checks
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet import keepalived_adopt as ka
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet import keepalived_conf as kc
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.ipvs_state import FWD_BY_NAME, ServiceKey, from_model
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.model import CHECK_FWMARK_BASE, ModelError, client_side_services, normalize_services
from test_keepalived_adopt import render as render_adopted
from test_keepalived_render import block, render

VIA = {"type": "tcp", "interval": 2, "timeout": 2, "retries": 1, "via": "forwarding"}
SERVICES = [
    {"name": "web", "vip": "198.51.100.10", "port": 80, "real_servers": ["203.0.113.21"]},
    {"name": "web-dr", "vip": "198.51.100.10", "port": 8080, "forwarding": "dr", "health_check": VIA,
     "real_servers": ["203.0.113.21", {"address": "203.0.113.22", "state": "disabled"}, "203.0.113.23"]},
    {"name": "web-tun", "vip": "198.51.100.11", "port": 8080, "forwarding": "tun", "health_check": VIA,
     "real_servers": ["203.0.113.21"]},
]


def test_each_real_server_gets_a_mark_in_service_order_disabled_ones_too():
    model = normalize_services(SERVICES)
    marks = [rs.get("check_fwmark") for svc in model for rs in svc["real_servers"]]
    assert marks == [None, CHECK_FWMARK_BASE + 1, CHECK_FWMARK_BASE + 2, CHECK_FWMARK_BASE + 3, CHECK_FWMARK_BASE + 4]


def test_the_check_goes_to_the_vip_from_the_director_marked_for_its_path():
    text = render(SERVICES, check_source="203.0.113.11")
    dr = block(text, "virtual_server 198.51.100.10 8080")
    for rs, mark in (("203.0.113.21", CHECK_FWMARK_BASE + 1), ("203.0.113.23", CHECK_FWMARK_BASE + 3)):
        check = block(dr, f"real_server {rs} 8080")
        assert "connect_ip 198.51.100.10" in check and "bindto 203.0.113.11" in check
        assert f"fwmark {mark}" in check and "connect_port 8080" in check
        path = block(text, f"virtual_server fwmark {mark}")
        assert "lb_kind DR" in path and f"real_server {rs} {{" in path
        assert "_CHECK" not in path  # no checker: the path itself is never taken out
    assert f"virtual_server fwmark {CHECK_FWMARK_BASE + 2}" not in text  # a disabled real server has no path
    assert "lb_kind TUN" in block(text, f"virtual_server fwmark {CHECK_FWMARK_BASE + 4}")
    # a check of the real server's own address stays as it was
    assert "connect_ip" not in block(text, "virtual_server 198.51.100.10 80")


def test_the_kernel_table_holds_the_check_paths_after_the_services():
    table = from_model(normalize_services(SERVICES))
    keys = list(table)
    assert [k.fwmark for k in keys[-3:]] == [CHECK_FWMARK_BASE + 1, CHECK_FWMARK_BASE + 3, CHECK_FWMARK_BASE + 4]
    path = table[ServiceKey(af=socket.AF_INET, fwmark=CHECK_FWMARK_BASE + 4)]
    (dest,) = path.dests.values()
    assert (dest.addr, dest.port, dest.weight, dest.fwd) == ("203.0.113.21", 0, 1, FWD_BY_NAME["tun"])


def test_the_rolling_reload_keeps_forwarding_checks_and_drops_the_others():
    raw = SERVICES + [{"name": "db", "vip": "198.51.100.10", "port": 3306,
                       "health_check": {"type": "mysql", "user": "u", "password": "secret"},
                       "real_servers": ["203.0.113.21"]}]
    out = lvs_without_checks(raw)
    assert out[1]["health_check"]["via"] == "forwarding"
    assert out[0]["health_check"] == {"type": "none"} and out[3]["health_check"] == {"type": "none"}
    assert len(from_model(normalize_services(out))) == len(from_model(normalize_services(raw)))


def test_a_forwarding_check_adopts_back_to_the_same_model():
    text = render(SERVICES, check_source="203.0.113.11")
    inv = ka.merge({"lb1": ka.adopt(kc.parse(text), "lb1")})
    names = [s["name"] for s in inv["lvs_services"]]
    assert not [n for n in names if n.startswith("fwmark-")], names  # the check paths are not services
    dr = next(s for s in inv["lvs_services"] if s.get("forwarding") == "dr")
    assert dr["health_check"]["via"] == "forwarding"
    assert inv["host_vars"]["lb1"]["lvs_check_source"] == "203.0.113.11"
    again = render_adopted(inv)
    assert ka.meaning(kc.parse(again))["services"] == ka.meaning(kc.parse(text))["services"]


def test_a_hand_written_connect_ip_is_reported_not_taken_for_a_path():
    text = render(SERVICES, check_source="203.0.113.11").replace("connect_ip 198.51.100.10", "connect_ip 192.0.2.99")
    inv = ka.merge({"lb1": ka.adopt(kc.parse(text), "lb1")})
    assert any("connect_ip" in r["reason"] for r in inv["report"]), inv["report"]
    dr = next(s for s in inv["lvs_services"] if s.get("forwarding") == "dr")
    assert dr["health_check"].get("via") is None


def test_a_client_side_service_is_the_directors_service_as_nat_at_its_own_vip():
    raw = SERVICES + [{"name": "dns", "vip": "198.51.100.53", "port": 53, "protocol": "udp", "ops": True,
                       "forwarding": "dr", "tunnel": None, "real_servers": ["203.0.113.21"]}]
    out = client_side_services(raw, [{"service": "web-dr", "vip": "192.0.2.10"}, "dns"], [], ["203.0.113.100"])
    web, dns = normalize_services(out)
    assert (web["vip"], web["forwarding"], web["health_check"]["via"]) == ("192.0.2.10", "nat", "address")
    assert [r["address"] for r in web["real_servers"]] == ["203.0.113.21", "203.0.113.22", "203.0.113.23"]
    assert (dns["vip"], dns["forwarding"], dns["ops"]) == ("198.51.100.53", "nat", False)


def test_a_client_side_vip_needs_a_source_of_its_family():
    with pytest.raises(ModelError, match="no IPv4 address for service web"):
        client_side_services(SERVICES, ["web"], [], [])
