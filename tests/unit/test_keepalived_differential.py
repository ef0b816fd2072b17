"""Differential test: what keepalived 2.2.7 runs against what the project's checks see (issue #31 item 3).

Generated keepalived.conf files put every line that runs a program (vrrp_instance and vrrp_sync_group notify*,
vrrp_script script/user, virtual_server quorum_up/down, real_server notify_up/down, MISC_CHECK misc_path/user)
through keepalived's lexical traps: quotes glued to words, \\" and \\\\, '#' and '!' inside and outside quotes,
single quotes, lines of 1000-1100 bytes around the 1023-byte buffer, tabs, CR, NUL, braces on the next line,
comments after '}', unknown keywords with '{', nested blocks. The review's two reproducers are among the files.

The oracle is keepalived itself, run for real: each file is started once as the VRRP process (-P) and once as the
checker (-C), in `unshare --net --mount --pid --fork` (no network reach, private /run and /tmp, the bench's own
users); after a second SIGUSR1 makes each process write what it parsed to $TMPDIR/keepalived.data and
keepalived_check.data (fprintf: the --dump-conf log cuts lines at lib/logger.h MAX_LOG_MSG, 255 bytes), and half a
second later SIGTERM stops it. What it parsed is read from those files: "<Type> state
transition script = 'ARG' ..., uid:gid U:G" (keepalived/vrrp/vrrp_data.c dump_notify_script), "Command = " and
"Script uid:gid = " (dump_vscript), "Quorum up notify script = " (keepalived/check/check_data.c dump_vs),
"RS up notify script = " (dump_rs), MISC_CHECK "script = " and "uid:gid = " (check_misc.c dump_misc_check); the
words are what lib/notify.c cmd_str() prints. The dump comes after script security (lib/notify.c
check_script_secure), so every program the generator names exists in the namespace, root's and executable (it
exits 0); a command keepalived reads otherwise names a file that does not exist and is missing from the dump. The
checker needs IPVS before it dumps (ipvswrapper.c ipvs_start): fixtures/keepalived_fake_ipvs.c, built here, answers
for the missing ip_vs module in keepalived's process only.

The project decides as keepalived-config-test does on the director: keepalived_conf.parse() (the strict reader),
then its Checker with the bench's users, and each program must exist. For every file the project accepts, the
multiset of (block, keyword, argv, uid:gid) it sees must equal keepalived's. LVSFLEET_DIFF_SEED replays a run
(the seed is in every failure message and printed); LVSFLEET_DIFF_FILES sets how many files (60; CI: seed 31).
"""
import os
import random
import re
import shlex
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet import keepalived_conf as kc
from conftest import keepalived_bench
from test_adopt_public_corpus import config_test_script

SEED = int(os.environ.get("LVSFLEET_DIFF_SEED")
           or (31 if os.environ.get("CI") else random.SystemRandom().randrange(2**32)))
FILES = int(os.environ.get("LVSFLEET_DIFF_FILES", "60"))
REPLAY = f"replay: LVSFLEET_DIFF_SEED={SEED}"
SHIM = Path(__file__).resolve().parent / "fixtures" / "keepalived_fake_ipvs.c"

BIN = "/run/lvsfleet-bench/bin"
PROGRAMS = [f"{BIN}/p{i}" for i in range(8)]
ACCOUNTS = {"root": (0, 0), "nobody": (65534, 65534), "u1": (1001, 1001), "u2": (1002, 1002)}
GROUPS = {"root": 0, "nogroup": 65534, "g1": 1001, "g2": 1002}
INTERFACES = ["b0"]
ARGS = ["a", "b=1", "--x", "c:d", "e,f", "1.5"]
USERS = ["", "", "u1", "u2", "nobody", "u1 g1", "u2 nogroup", "nobody g2"]
REFUSED_USERS = ["root", "u1 root", "u9", "u1 g9"]
NOTIFY_VRRP = ["notify", "notify_master", "notify_backup", "notify_fault", "notify_stop", "notify_master_rx_lower_pri"]
NOTIFY_GROUP = ["notify", "notify_master", "notify_backup", "notify_fault", "notify_stop"]

# The review's two reproducers: `\"` moving where decomment() sees a comment start, and a line past the buffer.
REPRODUCERS = [
    "global_defs {\n  enable_script_security\n  script_user u1\n}\n"
    "vrrp_instance R1 {\n  interface b0\n  virtual_router_id 1\n  priority 100\n"
    f'  notify_master "{BIN}/p1 \\" # " root\n}}\n',
    "global_defs {\n  enable_script_security\n  script_user u1\n}\n"
    "vrrp_instance R2 {\n  interface b0\n  virtual_router_id 2\n  priority 100\n"
    f"  priority 100 # {'A' * (1023 - 17)}notify_master {BIN}/p2 root # {'z' * 40}\n}}\n",
]


# Disagreements this test found, fixed: the project now refuses both (keepalived reads them otherwise).
FIXED = [
    # A quote glued to a word: the project read command "/p3 a" and user u2; keepalived joins them
    # (alloc_strvec_quoted_escaped) into the command "/p3 au2" and takes "nogroup" as the user.
    "global_defs {\n  enable_script_security\n  script_user u1\n}\n"
    "virtual_server 10.99.0.1 80 {\n  protocol TCP\n  real_server 10.99.0.2 80 {\n"
    f'    notify_up "{BIN}/p3 a"u2 nogroup\n    TCP_CHECK {{\n      connect_timeout 3\n    }}\n  }}\n}}\n',
    # An unknown keyword's block: keepalived ignores its '{' and its '}' closes global_defs, so script_user and
    # enable_script_security fall outside it and the notify script runs as keepalived's default user.
    "global_defs {\n  unknown_option {\n  }\n  enable_script_security\n  script_user u1\n}\n"
    f"vrrp_instance F2 {{\n  interface b0\n  virtual_router_id 3\n  priority 100\n  notify_master {BIN}/p1\n}}\n",
]


# ---------------------------------------------------------------------------------------------------------------
# The generator


class Gen:
    """One file: blocks in keepalived's grammar, each line that runs a program written in a random lexical style."""

    def __init__(self, rng: random.Random, n: int, hard: bool):
        self.rng, self.n = rng, n
        self.hard = 1 if hard else 0  # a hard file holds one trap the strict reader refuses, wherever it falls
        self.lines: list[str] = []

    def pick(self, *options):
        return self.rng.choice(options)

    def command(self, words_max: int = 3) -> tuple[str, str]:
        prog = self.rng.choice(PROGRAMS)
        return prog, " ".join(self.rng.sample(ARGS, self.rng.randrange(words_max + 1)))

    def program_line(self, kw: str, with_user: bool) -> str:
        """KEYWORD COMMAND [USER [GROUP]] in one of the styles that trap a reader."""
        prog, rest = self.command()
        cmd = f"{prog} {rest}".strip()
        if not with_user:
            user = "u1" if self.rng.random() < 0.02 else ""  # a user on `script` or `misc_path`: refused
        else:
            user = self.rng.choice(REFUSED_USERS if self.rng.random() < 0.02 else USERS)
        u = f" {user}" if user else ""
        clean = [
            lambda: f"{kw} {cmd}{u}" if not rest else f'{kw} "{cmd}"{u}',
            lambda: f'{kw} "{cmd}"{u}',
            lambda: f'{kw}\t"{cmd}"\t{user}'.rstrip("\t"),
            lambda: f'{kw} "{cmd}" "{user.split()[0]}"' if user else f'{kw} "{cmd}"',
            lambda: f'{kw} "{cmd}"{u} # notify_master {BIN}/p7 root',            # a comment after the line
        ]
        soft = [
            lambda: f'{kw} "{prog} !x {rest}"{u} ! a comment',                   # '!' inside quotes
            lambda: f'{kw} "{prog} #x"{u}',                                       # '#' inside quotes
            lambda: f'{kw} "{cmd}"{user}',                                        # a quote glued to the user
            lambda: f'{kw} {prog}"{(" " + rest) if rest else ""}"{u}',            # glued to the program
            lambda: f'{kw} "{prog}""{rest}"{u}',                                  # two quoted strings glued
            lambda: f'{kw} "{prog}" "{rest}"{u}' if rest else f'{kw} "{prog}"{u}',
            lambda: f"{kw} '{cmd}'{u}",                                           # single quotes
            lambda: f'{kw} "{prog} \'a b\'"{u}',
            lambda: f"{kw} {prog} '{user}'" if user else f"{kw} '{prog}'",
            lambda: f"{kw} {prog}#x{u}",                                          # '#' glued outside quotes
            lambda: f'{kw} "{cmd}"{u} # it"s',                                    # a quote in the comment
            lambda: self.long(f'{kw} "{prog} ', f'"{u}', 985, 1005),              # just inside the buffer
        ]
        hard = [
            lambda: f'{kw} "{prog} \\" # y"{u}',                                 # \" inside quotes (reproducer 1)
            lambda: f'{kw} \\"{prog} # \\"{u}',
            lambda: f'{kw} "{prog} a\\\\"{u}',                                   # \\ before the closing quote
            lambda: f"{kw} {prog}\\ a{u}",
            lambda: f"{kw} {prog} a\\#b{u}",
            lambda: f'{kw} "{cmd}"{u}\r',                                        # CR
            lambda: f'{kw} "{cmd}"\r{u}',
            lambda: f'{kw} "{cmd}"\0 root',                                      # NUL
            lambda: self.long(f'{kw} "{prog} ', f'"{u}'),                        # past the buffer
            lambda: self.long(f"{kw} {prog} ", u),
        ]
        roll = self.rng.random()
        if self.hard and roll < 0.05:
            self.hard -= 1
            return self.rng.choice(hard)()
        return self.rng.choice(soft if roll < 0.04 else clean)()

    def account(self) -> str:
        """A `user` line's value: now and then one the checker refuses (root, unknown, quoted)."""
        return self.rng.choice(["root", "u9", '"u2"'] if self.rng.random() < 0.04 else ["u1", "u2 g1", "nobody"])

    def long(self, head: str, tail: str, lo: int = 1000, hi: int = 1100) -> str:
        """A line of lo-hi bytes (before its indent) whose tail (the user, a closing quote) may fall past byte 1023."""
        total = self.rng.randrange(lo, hi + 1)
        return head + "x" * max(1, total - len(head) - len(tail)) + tail

    def noise(self, depth: int, blocks: bool) -> None:
        """Lines that run nothing, or run something only if a reader gets them wrong."""
        ind = "  " * depth
        soft = [
            f"{ind}! notify_master {BIN}/p7 root",
            f"{ind}# notify_backup {BIN}/p6",
            f'{ind}# a "quoted # comment',
            "",
            f"{ind}\t",
        ]
        hard = [
            f"{ind}# {'A' * self.rng.randrange(990, 1030)}notify_fault {BIN}/p7 root",   # reproducer 2's shape
            f"{ind}! a comment \\\n{ind}# notify_stop {BIN}/p6 root",
            f"{ind}# \\\" notify_stop {BIN}/p6 root",
        ] + blocks * [  # keepalived reads an unknown block's lines as the enclosing block's (lib/parser.c)
            f"{ind}unknown_keyword_{self.n} {{ notify_master {BIN}/p5 }}",
            f"{ind}unknown_block {{\n{ind}  notify_fault {BIN}/p4 u1\n{ind}  nested {{ a }}\n{ind}}}",
        ]
        if self.hard and self.rng.random() < 0.03:
            self.hard -= 1
            self.lines.append(self.rng.choice(hard))
        else:
            self.lines.append(self.rng.choice(soft))

    def block(self, head: str, body, depth: int = 0) -> None:
        ind = "  " * depth
        opener = self.rng.random()
        if self.hard and opener < 0.03:
            self.hard -= 1
            self.lines += [f"{ind}{head}", f"{ind}{{"]                          # brace on the next line
        elif opener < 0.15:
            self.lines.append(f"{ind}{head} {{ # {head} opens")
        else:
            self.lines.append(f"{ind}{head} {{")
        body(depth + 1)
        close = self.rng.random()
        self.lines.append(f"{ind}}}" if close < 0.7 else
                          f"{ind}}} # closes {head} notify_master {BIN}/p3 root" if close < 0.85 else
                          f"{ind}}}\t! closes")

    def some(self, depth: int, lines: list[str], noise: float = 0.3, blocks: bool = True) -> None:
        """Lines with noise between them (unknown blocks only where the checker allows any keyword)."""
        for line in lines:
            if self.rng.random() < noise:
                self.noise(depth, blocks)
            self.lines.append("  " * depth + line)

    def file(self) -> str:
        n, rng = self.n, self.rng
        script_user = rng.choice(["u1", "u2", "nobody", "u1 g2"])
        self.block("global_defs", lambda d: self.some(d, ["enable_script_security", f"script_user {script_user}",
                                                          f"router_id r{n}"]))
        scripts = [f"chk{n}_{i}" for i in range(2)]
        for name in scripts:
            body = [self.program_line("script", with_user=False), "interval 60"]
            if rng.random() < 0.6:
                body.insert(1, "user " + self.account())
            self.block(f"vrrp_script {name}", lambda d, b=body: self.some(d, b, blocks=False))
        instances = [f"V{n}_{i}" for i in range(2)]
        for i, name in enumerate(instances):
            def body(d, i=i):
                self.some(d, ["interface b0", "state BACKUP", f"virtual_router_id {10 + i}", "priority 100"])
                self.block("virtual_ipaddress", lambda d2: self.some(d2, [f"192.0.2.{10 + i}/32"]), d)
                self.block("track_script", lambda d2: self.some(d2, scripts, 0.2, False), d)
                self.some(d, [self.program_line(k, True) for k in rng.sample(NOTIFY_VRRP, rng.randrange(1, 4))])
            self.block(f"vrrp_instance {name}", body)
        self.block(f"vrrp_sync_group G{n}", lambda d: (
            self.block("group", lambda d2: self.some(d2, instances, 0.1), d),
            self.some(d, [self.program_line(k, True) for k in rng.sample(NOTIFY_GROUP, rng.randrange(1, 3))])))
        for j in range(2):
            def vs(d, j=j):
                self.some(d, ["protocol TCP", "quorum 1"] + [self.program_line(k, True) for k in
                                                            rng.sample(["quorum_up", "quorum_down"], rng.randrange(3))])
                for m in range(2, 4):
                    def rs(d2, m=m):
                        self.some(d2, [self.program_line(k, True) for k in
                                       rng.sample(["notify_up", "notify_down"], rng.randrange(3))])
                        misc = [self.program_line("misc_path", False)]
                        if rng.random() < 0.6:
                            misc.append("user " + self.account())
                        self.block("MISC_CHECK", lambda d3: self.some(d3, misc, blocks=False), d2)
                    self.block(f"real_server 10.{n}.{j}.{m} 80", rs, d)
            self.block(f"virtual_server 10.{n}.{j}.1 80", vs)
        return "\n".join(self.lines) + "\n"


def generated(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return [Gen(rng, n, hard=rng.random() < 0.4).file() for n in range(count)]


# ---------------------------------------------------------------------------------------------------------------
# What the project sees


def ids(names: list[str], default: tuple[int, int]) -> tuple[int, int]:
    if not names:
        return default
    uid, gid = ACCOUNTS[names[0]]
    return uid, GROUPS[names[1]] if len(names) > 1 else gid


class Bench:
    """pwd/grp as the bench's /etc/passwd and /etc/group answer (the Checker looks script users up)."""

    class _Found:
        def __init__(self, ident):
            self.pw_uid = self.gr_gid = ident

    @classmethod
    def getpwnam(cls, name):
        return cls._Found(ACCOUNTS[name][0])

    @classmethod
    def getgrnam(cls, name):
        return cls._Found(GROUPS[name])


def project_runs(text: str):
    """(Counter of (block, keyword, argv, (uid, gid)), None) when keepalived-config-test's checks pass the file on
    the director, else (None, why)."""
    cfg = config_test_script()
    cfg.pwd, cfg.grp = Bench, Bench
    try:
        nodes = kc.parse(text)
    except kc.ConfError as exc:
        return None, str(exc)
    checker = cfg.Checker(on_director=True)
    checker.walk(nodes)
    checker.structure(nodes)
    checker.global_defs(nodes)
    problems = checker.problems + [f"{p}: no such file" for p in checker.programs if p not in PROGRAMS]
    if problems:
        return None, "; ".join(problems)
    users = [c.args for g in kc.find(nodes, "global_defs") for c in g.children or [] if c.keyword == "script_user"]
    default = ids(users[-1], (0, 0))
    seen = Counter()

    def notify(owner, node):
        seen[(owner, node.keyword, tuple(node.args[0].split()), ids(node.args[1:3], default))] += 1

    def script(owner, node, kw):
        lines = [c for c in node.children or [] if c.keyword == kw]
        user = [c.args for c in node.children or [] if c.keyword == "user"]
        if lines:
            seen[(owner, kw, tuple(lines[-1].args[0].split()), ids(user[-1] if user else [], default))] += 1

    for node in nodes:
        kids = node.children or []
        if node.keyword in ("vrrp_instance", "vrrp_sync_group"):
            for c in kids:
                if c.keyword.startswith("notify") and c.children is None:
                    notify(node.args[0], c)
        elif node.keyword == "vrrp_script":
            script(node.args[0], node, "script")
        elif node.keyword == "virtual_server":
            for c in kids:
                if c.keyword in ("quorum_up", "quorum_down"):
                    notify(node.args[0], c)
                elif c.keyword == "real_server":
                    for r in c.children or []:
                        if r.keyword in ("notify_up", "notify_down"):
                            notify(c.args[0], r)
                        elif r.keyword == "MISC_CHECK":
                            script(c.args[0], r, "misc_path")
    return seen, None


# ---------------------------------------------------------------------------------------------------------------
# What keepalived runs

TRANSITION = {"Backup": "notify_backup", "Master": "notify_master", "Fault": "notify_fault", "Stop": "notify_stop",
              "Deleted": "notify_deleted", "Generic": "notify", "Master rx lower pri": "notify_master_rx_lower_pri"}


def argv(cmd: str) -> tuple:
    """lib/notify.c cmd_str(): each word in single quotes, separated by one space."""
    return tuple(re.findall(r"'([^']*)'", cmd))


def keepalived_runs(vrrp_log: str, check_log: str) -> Counter:
    seen = Counter()
    owner = pending = None
    for line in (vrrp_log + "\n" + check_log).splitlines():
        if m := re.match(r" VRRP (?:Instance|Script) = (\S+)$| VRRP Sync Group = (\S+),", line):
            owner = m.group(1) or m.group(2)
        elif m := re.match(r" +(?:VS VIP|RIP) = ([\d.]+),", line):
            owner = m.group(1)
        elif m := re.match(r" \[[\d.]+\]:\w+:\d+ -> \[([\d.]+)\]:", line):
            owner = m.group(1)
        elif m := re.match(r"   (.+) state transition script = (.*), uid:gid (\d+):(\d+)$", line):
            seen[(owner, TRANSITION[m.group(1)], argv(m.group(2)), (int(m.group(3)), int(m.group(4))))] += 1
        elif m := re.match(r"     RS (up|down) notify script = (.*), uid:gid (\d+):(\d+)$", line):
            seen[(owner, f"notify_{m.group(1)}", argv(m.group(2)), (int(m.group(3)), int(m.group(4))))] += 1
        elif m := re.match(r"   Quorum (up|down) notify script = (.*), uid:gid (\d+):(\d+)$", line):
            seen[(owner, f"quorum_{m.group(1)}", argv(m.group(2)), (int(m.group(3)), int(m.group(4))))] += 1
        elif m := re.match(r"   (?:Command|script) = (.*)$", line):
            pending = ("script" if line.startswith("   Command") else "misc_path", argv(m.group(1)))
        elif (m := re.match(r"   (?:Script uid:gid|uid:gid) = (\d+):(\d+)$", line)) and pending:
            seen[(owner, pending[0], pending[1], (int(m.group(1)), int(m.group(2))))] += 1
            pending = None
    return seen


def oracle_unavailable() -> str | None:
    for tool in ("keepalived", "unshare", "gcc", "timeout", "ip"):
        if not shutil.which(tool):
            return f"{tool} is not installed (the oracle runs keepalived 2.2.7 in a private namespace)"
    version = subprocess.run(["keepalived", "--version"], capture_output=True, text=True).stderr
    if "v2.2.7" not in version:
        return f"the oracle is keepalived 2.2.7, not {version.splitlines()[:1]}"
    if os.geteuid() != 0 or subprocess.run(["unshare", "--net", "--mount", "--pid", "--fork", "true"],
                                           capture_output=True).returncode:
        return "cannot create private network, mount and pid namespaces here (needs root)"
    return None


def run_keepalived(texts: list[str], work: Path) -> list[tuple[str, str]]:
    """(VRRP process log, checker process log) of each file, keepalived run for real in one private namespace."""
    subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-o", str(work / "fake_ipvs.so"), str(SHIM), "-ldl"],
                   check=True)
    for i, text in enumerate(texts):
        (work / f"{i}.conf").write_bytes(text.encode("utf-8", "surrogateescape"))
    io = "/run/lvsfleet-bench/io"
    programs = " ".join(shlex.quote(p) for p in PROGRAMS)
    starts = []
    for i in range(len(texts)):
        for proc in ("P", "C"):  # one process each: a data file per process, no interleaving
            run = f"{io}/{i}{proc}"
            starts.append(f"(mkdir {run} && TMPDIR={run} LD_PRELOAD={io}/fake_ipvs.so keepalived -{proc} --dont-fork "
                          f"--log-console --no-syslog -i lb1 -p /run/{i}{proc}.pid -r /run/{i}{proc}.vrrp.pid "
                          f"-c /run/{i}{proc}.check.pid -f {io}/{i}.conf > {run}/log 2>&1 & pid=$!; "
                          f"sleep 1; kill -USR1 $pid; sleep 0.5; kill -TERM $pid; wait $pid || true) &")
            if len(starts) % 16 == 0:
                starts.append("wait")
    script = " && ".join([
        keepalived_bench(INTERFACES, ACCOUNTS, GROUPS),
        f"mkdir -p {io} {BIN} && mount --bind \"$0\" {io} && mount -t tmpfs -o mode=1777 tmpfs /tmp",
        f"for p in {programs}; do printf '#!/bin/sh\\nexit 0\\n' > $p && chmod 755 $p; done",
        "ip link set lo up"]) + "\n" + "\n".join(starts) + "\nwait\n"
    subprocess.run(["unshare", "--net", "--mount", "--pid", "--fork", "--mount-proc", "sh", "-ec", script,
                    str(work)], check=True, timeout=300)
    def data(run: Path, name: str) -> str:
        path = run / name
        return path.read_text(errors="replace") if path.exists() else f"(no {name})\n" + (run / "log").read_text()

    return [(data(work / f"{i}P", "keepalived.data"), data(work / f"{i}C", "keepalived_check.data"))
            for i in range(len(texts))]


# ---------------------------------------------------------------------------------------------------------------


def test_the_generator_reaches_every_trap():
    text = "".join(generated(7, 400))
    for trap in ("'a b'", '\\"', "\\\\", '"u', "#x", "!x", "\t", "\r", "\0", "\n{\n", "} #", "unknown_block {"):
        assert trap in text, trap
    lengths = {len(line.encode()) for line in text.split("\n")}
    assert any(990 <= n <= 1023 for n in lengths) and any(1024 <= n <= 1100 for n in lengths)


def test_keepalived_runs_what_the_project_checked(tmp_path):
    why = oracle_unavailable()
    if why:
        # In CI (make setup installs keepalived, gcc and util-linux; CI runs as root) a missing oracle is a failure.
        assert not os.environ.get("CI"), f"the differential oracle cannot run in CI: {why}"
        pytest.skip(why)
    print(f"keepalived differential: {REPLAY} LVSFLEET_DIFF_FILES={FILES}")
    texts = REPRODUCERS + FIXED + generated(SEED, FILES)
    logs = run_keepalived(texts, tmp_path)
    compared, disagreements = 0, []
    for i, (text, (vrrp_log, check_log)) in enumerate(zip(texts, logs)):
        want, why = project_runs(text)
        if want is None:
            continue  # the project refuses the file: it never reaches keepalived
        assert "< VRRP Topology >" in vrrp_log and "< LVS Topology >" in check_log, \
            f"file {i}: keepalived did not dump what it parsed ({REPLAY})\n{vrrp_log[-3000:]}\n{check_log[-3000:]}"
        got = keepalived_runs(vrrp_log, check_log)
        compared += 1
        if got != want:
            disagreements.append(f"file {i} ({tmp_path / f'{i}.conf'}):\n  keepalived only: "
                                 f"{sorted(got - want)}\n  project only: {sorted(want - got)}")
    assert not disagreements, f"{REPLAY}\n" + "\n".join(disagreements)
    assert compared >= len(texts) // 8, f"only {compared} of {len(texts)} files were accepted: nothing to compare"


@pytest.mark.parametrize("text", REPRODUCERS + FIXED)
def test_the_reproducers_and_the_fixed_disagreements_are_refused(text):
    assert project_runs(text)[0] is None
