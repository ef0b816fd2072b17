"""The model refuses any value that would push a rendered keepalived.conf line past keepalived 2.2.7's 1023-byte
line buffer (lib/parser.c read_line(): the rest of a longer line is read as a line of its own), naming the variable;
the longest values it accepts still fit."""
import pytest

from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet import keepalived_conf as kc
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.model import (ModelError, normalize_services,
                                                                                   normalize_vrrp_scripts)

SERVICE = {"name": "web", "vip": "2001:db8::10", "port": 80, "real_servers": ["2001:db8::21"]}


def service(check):
    return normalize_services([dict(SERVICE, health_check=check)])[0]


def test_a_long_check_command_is_refused_with_its_variable():
    script = ["/usr/local/bin/check"] + ["x" * 100] * 9 + ["%RS_ADDRESS%"]
    with pytest.raises(ModelError, match=r"lvs_services\[0\].*health_check\.script: the command is \d+ bytes once "
                                         r"rendered; keepalived reads a configuration line of at most 1023 bytes"):
        service({"type": "custom", "script": script})


def test_a_long_vrrp_script_is_refused_with_its_variable():
    with pytest.raises(ModelError, match=r"lvs_vrrp_scripts\[0\].*\.script: the command is 1021 bytes"):
        normalize_vrrp_scripts([{"name": "chk", "script": ["/usr/local/bin/chk", "y" * 1002]}])


@pytest.mark.parametrize("check,where", [
    ({"type": "http", "path": "/" + "p" * 961}, "health_check.path"),
])
def test_a_long_path_is_refused(check, where):
    with pytest.raises(ModelError, match=rf"lvs_services\[0\].*{where}: "):
        service(check)


def test_the_longest_accepted_values_fit_the_buffer():
    script = ["/usr/local/bin/check", "%RS_ADDRESS%", "z" * (960 - len("/usr/local/bin/check") - 39 - 2)]
    hc = service({"type": "custom", "script": script})["health_check"]
    rendered = " ".join(hc["script"]).replace("%RS_ADDRESS%", "ffff:" * 7 + "ffff")
    # the deepest a command is rendered: keepalived_render's misc_path inside virtual_server/real_server/MISC_CHECK
    assert len(f'            misc_path "{rendered}"'.encode()) <= kc.LINE_BYTES
    path = service({"type": "http", "path": "/" + "p" * 960})["health_check"]["path"]
    assert len(f"                path {path}".encode()) <= kc.LINE_BYTES
