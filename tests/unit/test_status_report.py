"""status.yml's report: the fleet put together from each director's reading, as a table and a page."""
import html.parser

import pytest

from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet import status

EVENT = ('v=1 ts=2026-11-25T10:31:53.123Z director=lb1 event=reload result=ok by=ops services=~web '
         'generation=0123456789abcdef')
NOW = 1795602773.0  # a minute after EVENT


def view(vrrp="MASTER", held=True, rs2_up=True, keepalived=True, drift=False, reload_ok=True):
    return {"keepalived": keepalived, "restarts": 0, "vrrp": {"VI_LAB": vrrp},
            "vips": [{"vrrp_instance": "VI_LAB", "vip": "198.51.100.10", "held": held}],
            "real_servers": [
                {"service": "web", "vip": "198.51.100.10", "port": 80, "protocol": "tcp",
                 "real_server": "203.0.113.21", "real_port": 8080, "up": True, "weight": 1},
                {"service": "web", "vip": "198.51.100.10", "port": 80, "protocol": "tcp",
                 "real_server": "203.0.113.22", "real_port": 8080, "up": rs2_up, "weight": 1 if rs2_up else -1}],
            "drift": drift, "generation": {"running": "aaaa", "expected": "aaaa"},
            "last_reload": {"time": 1764066713.0, "ok": reload_ok}}


IPVS = [{"protocol": "tcp", "vip": "198.51.100.10", "port": 80, "fwmark": None,
         "real_servers": [{"address": "203.0.113.21", "port": 8080, "active_conns": 4, "inact_conns": 90}]}]


def test_a_healthy_pair():
    rep = status.report({"lb1": {"view": view(), "ipvs": IPVS, "events": [EVENT, "garbage line"]},
                         "lb2": {"view": view("BACKUP", held=False), "ipvs": IPVS, "events": []}}, now=NOW)
    assert rep["problems"] == []
    assert rep["vips"] == [{"vip": "198.51.100.10", "vrrp_instance": "VI_LAB", "holders": ["lb1"], "state": "ok",
                            "services": ["web (tcp/80)"]}]
    rs1 = rep["services"][0]["real_servers"][0]
    assert rs1["by_director"]["lb1"] == {"up": True, "weight": 1, "active": 4, "inactive": 90}
    assert rep["events"] == [status.parse_event(EVENT)] and rep["events"][0]["services"] == "~web"
    lines = status.table(rep)
    assert any("198.51.100.10" in ln and "held by lb1" in ln for ln in lines)
    assert "Problems: none" in lines


def test_split_brain_a_down_server_drift_a_failed_reload_and_an_unreachable_director():
    rep = status.report({"lb1": {"view": view(rs2_up=False, drift=True, reload_ok=False), "ipvs": IPVS},
                         "lb2": {"view": view(keepalived=False), "ipvs": []},
                         "lb3": {"unreachable": "ssh: connect timed out"}}, now=0)
    text = "\n".join(rep["problems"])
    assert "VIP 198.51.100.10: held by lb1, lb2 (split brain)" in text
    assert "web: real server 203.0.113.22:8080 is down (as keepalived on lb1 sees it)" in text
    assert "lb1: keepalived.conf differs" in text and "lb1: its last reload failed" in text
    assert "lb2: keepalived is not running" in text and "lb3: unreachable (ssh: connect timed out)" in text
    assert rep["vips"][0]["state"] == "split"
    lines = status.table(rep)
    assert any("SPLIT BRAIN" in ln for ln in lines) and any("UNREACHABLE" in ln for ln in lines)
    assert any("203.0.113.22:8080" in ln and "DOWN" in ln for ln in lines)


def test_nobody_holds_the_vip():
    rep = status.report({"lb1": {"view": view("BACKUP", held=False)}, "lb2": {"view": view("BACKUP", held=False)}})
    assert "VIP 198.51.100.10: held by no director" in rep["problems"]
    assert any("NOBODY" in ln for ln in status.table(rep))


class Text(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.text, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_the_page_is_one_file_with_everything_escaped():
    bad = view()
    bad["real_servers"][0]["service"] = "<img src=x onerror=alert(1)>"
    rep = status.report({"lb1": {"view": bad, "events": [EVENT.replace("by=ops", 'by="<script>x</script>"')]}})
    page = status.page(rep)
    parser = Text()
    parser.feed(page)
    assert "script" not in parser.tags and "img" not in parser.tags and "link" not in parser.tags
    assert "http://" not in page and "https://" not in page, "the page must need no network"
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "198.51.100.10" in "".join(parser.text)


@pytest.mark.parametrize("line", ["", "v=2 ts=x event=y", "v=1 event=reload", 'v=1 ts=a event=b by="unterminated'])
def test_lines_that_are_not_events_are_left_out(line):
    assert status.parse_event(line) is None


def test_an_event_is_the_director_s_it_was_read_from_and_never_from_the_future():
    """Forged lines (any local user can log as lvsfleet-event; status.yml reads only root's, _UID=0): a line
    naming another director counts for the one it was read from, one dated ahead is dropped."""
    forged = EVENT.replace("director=lb1", "director=lb2").replace("2026-11-25T10:31", "2031-01-01T00:00")
    claims_lb1 = EVENT.replace("by=ops", "by=intruder")
    rep = status.report({"lb1": {"view": view(), "events": [forged, EVENT]},
                         "lb2": {"view": view("BACKUP", held=False), "events": [claims_lb1]}}, now=NOW)
    assert [(e["director"], e["by"]) for e in rep["events"]] == [("lb1", "ops"), ("lb2", "intruder")]
    assert rep["problems"] == ["lb1: 1 event(s) dated more than 5 min ahead, left out (its clock, or forged lines)"]
    assert status._when("2026-11-25T10:31:53.123Z") == 1795602713.123
    assert status._when("2026-13-40T99:00:00Z") is None and status._when("yesterday") is None
