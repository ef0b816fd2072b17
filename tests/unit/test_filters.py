"""Controller filters that keep secrets out of previews and module arguments."""
from pathlib import Path

from ansible_collections.lvsfleet.lvs.plugins.filter import lvs as filters

REPO = Path(__file__).resolve().parents[2]

LIVE = "vrrp_instance VI_1 {\n    authentication {\n        auth_type PASS\n        auth_pass 0ld-s3c\n    }\n}\n"


def test_masked_diff_shows_changes_but_no_secret():
    nxt = LIVE.replace("0ld-s3c", "n3w-s3c").replace("VI_1 {", "VI_1 {\n    priority 150")
    lines = filters.lvs_masked_diff(LIVE, nxt, "lb1", "/etc/keepalived/keepalived.conf")
    text = "\n".join(lines)
    assert "0ld-s3c" not in text and "n3w-s3c" not in text
    assert "+    priority 150" in lines and "auth_pass ********" in text
    assert lines[0] == "--- lb1:/etc/keepalived/keepalived.conf (live)"


def test_masked_diff_of_equal_files():
    assert filters.lvs_masked_diff(LIVE, LIVE) == ["(no change)"]


def test_without_checks_drops_secrets_and_applies_states():
    services = [{"name": "db", "vip": "198.51.100.10", "port": 3306,
                 "health_check": {"type": "mysql", "user": "u", "password": "pw"},
                 "real_servers": ["203.0.113.21", {"address": "203.0.113.22", "weight": 2}]}]
    out = filters.lvs_without_checks(services, {"203.0.113.22:3306": "drained"})
    assert "pw" not in repr(out) and out[0]["health_check"] == {"type": "none"}
    assert out[0]["real_servers"] == [{"address": "203.0.113.21"},
                                      {"address": "203.0.113.22", "weight": 2, "state": "drained"}]
    assert services[0]["health_check"]["password"] == "pw", "the inventory itself is not changed"


def test_split_brain_names_the_instance_and_its_masters():
    states = {"lb1": {"VI_1": {"state": "MASTER"}, "VI_2": {"state": "BACKUP"}},
              "lb2": {"VI_1": {"state": "MASTER"}, "VI_2": {"state": "MASTER"}}}
    assert filters.lvs_split_brain(states) == ["VI_1: lb1, lb2"]
    assert filters.lvs_split_brain({"lb1": {"VI_1": {"state": "MASTER"}}, "lb2": {"VI_1": {"state": "BACKUP"}}}) == []


def test_adopted_text_is_never_evaluated_by_ansible(tmp_path):
    """A hand-written keepalived.conf is untrusted: Ansible's templar leaves what adopt.yml carries (or reports)
    as it is, and a '{{' can only reach the report, never the inventory (the model's grammars have no braces)."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template

    templar = Templar(loader=DataLoader())
    assert templar.template(trust_as_template("{{ 1 + 1 }}")) == 2  # the templar does evaluate trusted text

    def kept_as_text(value):
        return templar.template(value) == value

    from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet import keepalived_adopt as ka
    from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet import keepalived_conf as kc

    conf = tmp_path / "keepalived.conf"
    conf.write_text('vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 150\n'
                    ' notify_master "/bin/x {{ lookup(\'pipe\', \'id\') }}"\n virtual_ipaddress {\n  192.0.2.1/24\n }\n}\n')
    merged = filters.lvs_adopt_merge({"lb1": ka.adopt(kc.load(str(conf), host="lb1"), "lb1")})
    (entry,) = merged["report"]
    assert "{{ lookup" in entry["directive"] and kept_as_text(entry["directive"])
    files = filters.lvs_adopt_files(merged, {"lb1": {"ansible_host": "192.0.2.11"}})
    assert all(kept_as_text(v) for v in files.values())
    assert "{{ lookup" in files["adopt-report.txt"]
    assert "{{" not in files["group_vars/directors/lvsfleet.yml"] and files["secrets"] == ""


# `dpkg-query` and `systemctl show` as the guests print them (Debian 12): the read-only checks that let a no-op
# run skip apt and systemd_service.
DPKG = "ii |keepalived\nii |nginx-light\nrc |nginx\niU |ipvsadm\nhi |bird2\niiR|broken\n"
SHOW = ("LoadState=loaded\nActiveState=active\nUnitFileState=enabled\n\n"
        "LoadState=not-found\nActiveState=inactive\nUnitFileState=\n\n"
        "LoadState=loaded\nActiveState=inactive\nUnitFileState=enabled\n\n"
        "LoadState=loaded\nActiveState=active\nUnitFileState=disabled\n")


def test_dpkg_query_argv_is_a_list_with_the_names_after_the_options():
    argv = filters.lvs_dpkg_query(["keepalived", "-x"])
    assert argv[:2] == ["dpkg-query", "--show"] and argv[-3:] == ["--", "keepalived", "-x"]


def test_packages_missing_keeps_only_installed_ones_out():
    wanted = ["keepalived", "nginx", "ipvsadm", "bird2", "broken", "unknown", "nginx-light=1.22", "nginx-light"]
    assert filters.lvs_packages_missing(wanted, DPKG) == ["nginx", "ipvsadm", "broken", "unknown",
                                                          "nginx-light=1.22"]


def test_packages_missing_without_output_is_everything():
    assert filters.lvs_packages_missing(["a", "b"], "") == ["a", "b"]


def test_unit_states_in_the_order_asked():
    states = filters.lvs_unit_states(SHOW, ["nginx", "nosuch", "lvsfleet-real-server.service", "bird"])
    assert states == {
        "nginx": {"loaded": True, "active": True, "enabled": True},
        "nosuch": {"loaded": False, "active": False, "enabled": False},
        "lvsfleet-real-server.service": {"loaded": True, "active": False, "enabled": True},
        "bird": {"loaded": True, "active": True, "enabled": False},
    }


def test_unit_states_of_output_that_does_not_match_the_units_is_unknown():
    # A block short (systemctl failed half-way): nothing may be taken as settled.
    states = filters.lvs_unit_states(SHOW, ["a", "b", "c", "d", "e"])
    assert all(not s["active"] and not s["enabled"] for s in states.values())
    assert filters.lvs_unit_states("", ["a"]) == {"a": {"loaded": False, "active": False, "enabled": False}}


def _show_result(units, stdout=SHOW, rc=0):
    return {"rc": rc, "cmd": filters.lvs_systemctl_show(units), "stdout": stdout}


def test_unit_settled_reads_the_registered_result():
    result = _show_result(["nginx", "nosuch", "lvsfleet-real-server.service", "bird"])
    assert filters.lvs_unit_settled(result, "nginx")
    assert not filters.lvs_unit_settled(result, "nosuch")
    assert not filters.lvs_unit_settled(result, "lvsfleet-real-server.service")  # enabled, not running
    assert filters.lvs_unit_settled(result, "lvsfleet-real-server.service", "enabled")
    assert not filters.lvs_unit_settled(result, "bird", "enabled")  # running, not enabled


def test_unit_settled_is_false_for_whatever_it_cannot_tell():
    assert not filters.lvs_unit_settled({"skipped": True, "changed": False}, "nginx")
    assert not filters.lvs_unit_settled(_show_result(["nginx"], rc=1), "nginx")
    assert not filters.lvs_unit_settled(_show_result(["bird"]), "nginx")  # not asked about
    assert not filters.lvs_unit_settled("", "nginx")


def _dpkg_result(packages, stdout=DPKG, rc=0):
    return {"rc": rc, "cmd": filters.lvs_dpkg_query(packages), "stdout": stdout}


def test_packages_installed_reads_the_registered_result():
    assert filters.lvs_packages_installed(_dpkg_result(["keepalived", "nginx-light", "bird2"]))
    assert not filters.lvs_packages_installed(_dpkg_result(["keepalived", "nginx"]))  # nginx: removed, config left
    assert not filters.lvs_packages_installed(_dpkg_result(["keepalived", "unknown"], rc=1))  # dpkg knows no such
    assert not filters.lvs_packages_installed({"skipped": True, "changed": False})
    assert not filters.lvs_packages_installed("")
