# -*- coding: utf-8 -*-
"""The fleet as it is, for playbooks/status.yml: one report from every director's own reading, printed as a
table, kept as JSON and shown as a single-file HTML page (no script, no CDN, no server).

    report(readings, now) -> dict
        readings: {director: {"view": lvsfleet-metrics --json, "ipvs": lvs_ipvs_info's services,
                              "events": [lvsfleet-event lines]}, or {"unreachable": "why"}}
    table(report) -> [str]      the fleet table, one line each
    page(report) -> str         the HTML page
Standard library only; every value from a director or the inventory is escaped on the page.
"""
from __future__ import annotations

import calendar
import html
import re
import time

EVENT_FIELD = re.compile(r'\s*([a-z][a-z0-9_]*)=("((?:[^"\\]|\\.)*)"(?=\s|$)|[^\s"]*(?=\s|$))')


def parse_event(text: str) -> dict | None:
    """One lvsfleet-event line (logfmt, v=1) as its fields; None for anything else."""
    out, i = {}, 0
    while i < len(text):
        m = EVENT_FIELD.match(text, i)
        if not m:
            return None
        out[m.group(1)] = re.sub(r"\\(.)", r"\1", m.group(3)) if m.group(3) is not None else m.group(2)
        i = m.end()
    return out if out.get("v") == "1" and "ts" in out and "event" in out else None


# A clock a little ahead of the controller's still counts; an event further in the future is forged or the
# director's clock is wrong, and would push real events off the page.
FUTURE_SLACK = 300


def _when(stamp: str) -> float | None:
    """An event's ts (YYYY-MM-DDTHH:MM:SS.mmmZ, UTC) as epoch seconds; None when it is not one."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{3}))?Z", stamp)
    if not m:
        return None
    try:
        return calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")) + int(m.group(2) or 0) / 1000
    except ValueError:
        return None


def _connections(ipvs: list) -> dict:
    """lvs_ipvs_info's services -> {(protocol, vip, port): {(address, port): (active, inactive)}}."""
    out = {}
    for svc in ipvs or []:
        key = ("fwmark", str(svc.get("fwmark")), 0) if svc.get("fwmark") else \
            (svc.get("protocol"), svc.get("vip"), int(svc.get("port") or 0))
        out[key] = {(rs["address"], int(rs["port"])): (rs.get("active_conns", 0), rs.get("inact_conns", 0))
                    for rs in svc.get("real_servers", [])}
    return out


def report(readings: dict, now: float | None = None, events: int = 20) -> dict:
    now = time.time() if now is None else now
    directors, vips, services, log, problems = [], {}, {}, [], []
    for name in sorted(readings):
        r = readings[name] or {}
        if "view" not in r:
            directors.append({"name": name, "reachable": False, "why": str(r.get("unreachable", "no reading"))})
            problems.append(f"{name}: unreachable ({r.get('unreachable', 'no reading')})")
            continue
        view, conns = r["view"], _connections(r.get("ipvs"))
        directors.append({"name": name, "reachable": True, "keepalived": view["keepalived"],
                          "restarts": view.get("restarts"), "vrrp": view["vrrp"], "drift": view["drift"],
                          "generation": view.get("generation", {}), "last_reload": view.get("last_reload")})
        if not view["keepalived"]:
            problems.append(f"{name}: keepalived is not running")
        if view["drift"]:
            problems.append(f"{name}: keepalived.conf differs from what the inventory rendered (drift)")
        if view.get("last_reload") and view["last_reload"].get("ok") is False:
            problems.append(f"{name}: its last reload failed")
        for v in view["vips"]:
            entry = vips.setdefault(v["vip"], {"vip": v["vip"], "vrrp_instance": v["vrrp_instance"], "holders": []})
            if v["held"]:
                entry["holders"].append(name)
        for rs in view["real_servers"]:
            skey = (rs["service"], rs["protocol"], rs["vip"], rs["port"])
            svc = services.setdefault(skey, {"name": rs["service"], "protocol": rs["protocol"], "vip": rs["vip"],
                                             "port": rs["port"], "real_servers": {}})
            row = svc["real_servers"].setdefault((rs["real_server"], rs["real_port"]), {
                "address": rs["real_server"], "port": rs["real_port"], "by_director": {}})
            key = ("fwmark", rs["vip"], 0) if rs["protocol"] == "fwmark" else (rs["protocol"], rs["vip"], rs["port"])
            active, inactive = conns.get(key, {}).get((rs["real_server"], rs["real_port"]), (None, None))
            row["by_director"][name] = {"up": rs["up"], "weight": rs["weight"], "active": active,
                                        "inactive": inactive}
        # The events are root's (status.yml reads the journal's _UID=0 lines only); each is the director's it
        # was read from, whatever the line says, and one dated after now is dropped.
        ahead = 0
        for text in r.get("events") or []:
            ev = parse_event(text)
            when = _when(ev["ts"]) if ev else None
            if when is not None and when <= now + FUTURE_SLACK:
                ev["director"] = name
                log.append(ev)
            elif when is not None:
                ahead += 1
        if ahead:
            problems.append(f"{name}: {ahead} event(s) dated more than {FUTURE_SLACK // 60} min ahead, left out "
                            f"(its clock, or forged lines)")
    for v in vips.values():
        v["services"] = sorted({f"{s['name']} ({s['protocol']}/{s['port']})" for s in services.values()
                                if s["vip"] == v["vip"]})
        v["state"] = {0: "none", 1: "ok"}.get(len(v["holders"]), "split")
        if v["state"] == "none" and any(d["reachable"] for d in directors):
            problems.append(f"VIP {v['vip']}: held by no director")
        elif v["state"] == "split":
            problems.append(f"VIP {v['vip']}: held by {', '.join(v['holders'])} (split brain)")
    out_services = []
    for svc in sorted(services.values(), key=lambda s: (s["name"], s["vip"], s["port"])):
        rows = sorted(svc["real_servers"].values(), key=lambda r: (r["address"], r["port"]))
        for row in rows:
            row["up"] = all(d["up"] for d in row["by_director"].values())
            if not row["up"]:
                down_on = sorted(n for n, d in row["by_director"].items() if not d["up"])
                problems.append(f"{svc['name']}: real server {row['address']}:{row['port']} is down "
                                f"(as keepalived on {', '.join(down_on)} sees it)")
        out_services.append({**svc, "real_servers": rows})
    log.sort(key=lambda e: e["ts"], reverse=True)
    return {"generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
            "vips": sorted(vips.values(), key=lambda v: v["vip"]), "directors": directors,
            "services": out_services, "events": log[:events], "problems": problems}


def _count(value) -> str:
    return "-" if value is None else str(value)


def _weight(value) -> str:
    """The kernel weight; '-' when the real server is not in the table (keepalived took it out)."""
    return "-" if value is None or value < 0 else str(value)


def table(rep: dict) -> list[str]:
    lines = [f"lvsfleet status at {rep['generated']}"]
    lines.append("VIPs:")
    for v in rep["vips"]:
        holders = ", ".join(v["holders"]) or "NOBODY"
        mark = {"ok": "", "none": "  <-- held by no director", "split": "  <-- SPLIT BRAIN"}[v["state"]]
        lines.append(f"  {v['vip']:<39} {v['vrrp_instance']:<16} held by {holders}{mark}"
                     + (f"  serves {', '.join(v.get('services') or [])}" if v.get("services") else ""))
    lines.append("Directors:")
    for d in rep["directors"]:
        if not d["reachable"]:
            lines.append(f"  {d['name']:<12} UNREACHABLE ({d['why']})")
            continue
        vrrp = " ".join(f"{k}={v}" for k, v in sorted(d["vrrp"].items())) or "no VRRP instances"
        lines.append(f"  {d['name']:<12} keepalived {'up' if d['keepalived'] else 'DOWN'}  {vrrp}"
                     f"  config {d['generation'].get('running', '?')}{'  DRIFT' if d['drift'] else ''}")
    lines.append("Services (weight, health, active/inactive connections per director):")
    for svc in rep["services"]:
        where = f"fwmark {svc['vip']}" if svc["protocol"] == "fwmark" else f"{svc['protocol']} {svc['vip']}:{svc['port']}"
        lines.append(f"  {svc['name']} ({where})")
        for row in svc["real_servers"]:
            cells = [f"{n}: w{_weight(d['weight'])} {'up' if d['up'] else 'DOWN'} {_count(d['active'])}/{_count(d['inactive'])}"
                     for n, d in sorted(row["by_director"].items())]
            lines.append(f"    {row['address'] + ':' + str(row['port']):<28} {'  '.join(cells)}")
    lines.append("Problems:" if rep["problems"] else "Problems: none")
    lines += [f"  {p}" for p in rep["problems"]]
    return lines


STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1f23;background:#fff}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}
table{border-collapse:collapse;margin:.4em 0}th,td{border:1px solid #d0d7de;padding:.25em .6em;text-align:left}
th{background:#f6f8fa}.up{color:#116329}.down{color:#b3261e;font-weight:bold}
.bad{background:#ffebe9}.muted{color:#6e7781}code{font-size:.95em}
"""


def page(rep: dict) -> str:
    e = html.escape
    out = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
           f"<title>lvsfleet status {e(rep['generated'])}</title><style>{STYLE}</style></head><body>",
           f"<h1>lvsfleet status</h1><p class=\"muted\">Generated {e(rep['generated'])} by status.yml.</p>"]
    out.append("<h2>Problems</h2>")
    if rep["problems"]:
        out.append("<ul id=\"problems\">" + "".join(f"<li class=\"down\">{e(p)}</li>" for p in rep["problems"]) + "</ul>")
    else:
        out.append("<p id=\"problems\" class=\"up\">None.</p>")
    out.append("<h2>VIPs</h2><table id=\"vips\"><tr><th>VIP</th><th>VRRP instance</th><th>Held by</th>"
               "<th>Services</th></tr>")
    for v in rep["vips"]:
        cls = "" if v["state"] == "ok" else " class=\"bad\""
        holders = e(", ".join(v["holders"])) or "<span class=\"down\">nobody</span>"
        if v["state"] == "split":
            holders += " <span class=\"down\">(split brain)</span>"
        served = e(", ".join(v.get("services") or [])) or "-"
        out.append(f"<tr{cls}><td><code>{e(v['vip'])}</code></td><td>{e(v['vrrp_instance'])}</td><td>{holders}</td>"
                   f"<td>{served}</td></tr>")
    out.append("</table><h2>Directors</h2><table id=\"directors\"><tr><th>Director</th><th>keepalived</th>"
               "<th>VRRP</th><th>Configuration</th><th>Last reload</th></tr>")
    for d in rep["directors"]:
        if not d["reachable"]:
            out.append(f"<tr class=\"bad\"><td>{e(d['name'])}</td><td colspan=\"4\" class=\"down\">unreachable: "
                       f"{e(d['why'])}</td></tr>")
            continue
        ka = "<span class=\"up\">up</span>" if d["keepalived"] else "<span class=\"down\">down</span>"
        vrrp = "<br>".join(f"{e(k)}: {e(v)}" for k, v in sorted(d["vrrp"].items()))
        conf = e(d["generation"].get("running", "?")) + (" <span class=\"down\">drift</span>" if d["drift"] else "")
        lr = d.get("last_reload")
        last = "-" if not lr else (time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(lr.get("time", 0))) + " "
                                   + ("<span class=\"up\">ok</span>" if lr.get("ok") else "<span class=\"down\">failed</span>"))
        out.append(f"<tr><td>{e(d['name'])}</td><td>{ka}</td><td>{vrrp}</td><td><code>{conf}</code></td><td>{last}</td></tr>")
    out.append("</table><h2>Services</h2>")
    names = [d["name"] for d in rep["directors"] if d["reachable"]]
    for svc in rep["services"]:
        where = f"fwmark {svc['vip']}" if svc["protocol"] == "fwmark" else f"{svc['protocol']} {svc['vip']}:{svc['port']}"
        out.append(f"<h3>{e(svc['name'])} <span class=\"muted\">{e(where)}</span></h3>"
                   f"<table class=\"service\" data-service=\"{e(svc['name'])}\"><tr><th>Real server</th>"
                   + "".join(f"<th>{e(n)}: weight, health, active/inactive</th>" for n in names) + "</tr>")
        for row in svc["real_servers"]:
            cls = "" if row["up"] else " class=\"bad\""
            cells = []
            for n in names:
                d = row["by_director"].get(n)
                if d is None:
                    cells.append("<td class=\"muted\">-</td>")
                    continue
                health = "<span class=\"up\">up</span>" if d["up"] else "<span class=\"down\">DOWN</span>"
                cells.append(f"<td>{e(_weight(d['weight']))}, {health}, {e(_count(d['active']))}/{e(_count(d['inactive']))}</td>")
            out.append(f"<tr{cls} data-real-server=\"{e(row['address'])}:{e(str(row['port']))}\"><td><code>"
                       f"{e(row['address'])}:{e(str(row['port']))}</code></td>{''.join(cells)}</tr>")
        out.append("</table>")
    out.append("<h2>Recent events</h2><table id=\"events\"><tr><th>Time (UTC)</th><th>Director</th><th>Event</th>"
               "<th>Details</th></tr>")
    for ev in rep["events"]:
        details = " ".join(f"{k}={v}" for k, v in ev.items() if k not in ("v", "ts", "director", "event"))
        out.append(f"<tr><td>{e(ev['ts'])}</td><td>{e(ev.get('director', ''))}</td><td>{e(ev['event'])}</td>"
                   f"<td><code>{e(details)}</code></td></tr>")
    out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
