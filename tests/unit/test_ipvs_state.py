"""Desired state from the model, and the diff: exactly the writes needed, nothing more."""
import socket

from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.ipvs_state import Plan, apply_to_table, diff, from_model, render, restore_script
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.model import normalize_services


def table(services):
    return from_model(normalize_services(services))


WEB = {"name": "web", "vip": "198.51.100.10", "port": 80, "scheduler": "wrr",
       "real_servers": [{"address": "203.0.113.21", "weight": 2}, "203.0.113.22", "203.0.113.23"]}


def test_identical_tables_need_no_write():
    assert len(diff(table([WEB]), table([WEB]))) == 0


def test_one_weight_change_is_one_write():
    changed = dict(WEB, real_servers=[{"address": "203.0.113.21", "weight": 5}, "203.0.113.22", "203.0.113.23"])
    plan = diff(table([WEB]), table([changed]))
    assert len(plan) == 1 and plan.set_dests[0][1].weight == 5


def test_scheduler_change_sets_the_service_only():
    plan = diff(table([WEB]), table([dict(WEB, scheduler="lc")]))
    assert len(plan) == 1 and plan.set_services[0].scheduler == "lc"


def test_undeclared_services_stay_unless_purged():
    other = {"name": "other", "vip": "198.51.100.11", "port": 80, "real_servers": ["203.0.113.21"]}
    actual = table([WEB, other])
    assert len(diff(actual, table([WEB]))) == 0
    plan = diff(actual, table([WEB]), purge_services=True)
    assert [k.addr for k in plan.del_services] == ["198.51.100.11"]


def test_undeclared_real_servers_of_a_declared_service_are_removed():
    fewer = dict(WEB, real_servers=[{"address": "203.0.113.21", "weight": 2}])
    plan = diff(table([WEB]), table([fewer]))
    assert sorted(d.addr for _, d in plan.del_dests) == ["203.0.113.22", "203.0.113.23"]


def test_drained_is_weight_zero_and_disabled_is_absent():
    svc = dict(WEB, real_servers=[{"address": "203.0.113.21", "state": "drained"},
                                  {"address": "203.0.113.22", "state": "disabled"}])
    (s,) = table([svc]).values()
    assert list(s.dests) == [("203.0.113.21", 80)] and s.dests[("203.0.113.21", 80)].weight == 0


def test_apply_to_table_predicts_the_result_and_restore_script_says_it():
    before = table([WEB])
    after = table([dict(WEB, scheduler="rr"), {"name": "v6", "vip": "2001:db8::1", "port": 443,
                                               "forwarding": "dr", "real_servers": ["2001:db8::2"]}])
    plan = diff(before, after, purge_services=True)
    assert render(apply_to_table(before, plan)) == render(after)
    assert restore_script(plan).splitlines() == [
        "-A -t [2001:db8::1]:443 -s wlc",
        "-E -t 198.51.100.10:80 -s rr",
        "-a -t [2001:db8::1]:443 -r [2001:db8::2]:443 -g -w 1",
    ]
    assert len(Plan()) == 0 and socket.AF_INET6 in {k.af for k in after}
