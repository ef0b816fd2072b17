"""keepalived_conf reads keepalived.conf as keepalived 2.2.7 does (lib/parser.c read_line, decomment,
alloc_strvec_r), and the strict reader that judges what lvsfleet renders refuses what keepalived would read
otherwise than it looks. Vectors: keepalived's own parser, run on each line (the project's notes on keepalived's
reader); the two validator bypasses the security review found are among them."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet import keepalived_conf as kc


def lines(text):
    return [toks for _n, toks in kc.read_lines(text) if toks]


@pytest.mark.parametrize("raw,expected", [
    ('router_id "a ! b" c ! comment', ["router_id", "a ! b", "c"]),                 # '!' inside quotes
    ('script "/usr/bin/check#1 --x" # trailing', ["script", "/usr/bin/check#1 --x"]),  # '#' inside quotes
    ("router_id 'x # y' z", ["router_id", "'x"]),                                   # single quotes do not protect
    ('r8 a"b c"d ""e', ["r8", "a", "b c", "d", "", "e"]),                           # quotes inside words
    ("vrrp_instance VI_1 { state MASTER }", ["vrrp_instance", "VI_1", "{", "state", "MASTER", "}"]),
    ("k_cr b\rc", ["k_cr", "b", "c"]),                                              # a CR inside is a blank
    ("k_crlf a\r", ["k_crlf", "a"]),
])
def test_lines_read_as_keepalived_reads_them(raw, expected):
    assert lines(raw) == [expected]


def test_decomment_skips_backslash_pairs():
    assert kc.decomment('notify_master "/bin/x \\" # y" root') == 'notify_master "/bin/x \\" # y" root'
    assert kc.decomment('notify_master \\"/bin/true # \\" root') == 'notify_master \\"/bin/true'
    assert kc.decomment("k1 a # comment \\") == "k1 a\\"
    assert kc.decomment("router_id a\\#b c") == "router_id a#b c"


def test_a_line_past_the_buffer_is_read_as_two_lines():
    """A comment running past byte 1023 does not hide what follows: keepalived reads a notify_master there."""
    raw = "router_id r1 # " + "A" * 1008 + "notify_master /tmp/evil root # " + "z" * 46
    assert len(raw) == 1100
    assert lines(raw) == [["router_id", "r1"], ["notify_master", "/tmp/evil", "root"]]


def test_a_line_the_parent_and_the_children_read_differently_is_refused():
    # keepalived's parent reads ["router_id", "a#b", "c"], its VRRP and checker processes ["router_id", "a"].
    with pytest.raises(kc.ConfError, match="read this line differently"):
        lines("router_id a\\#b c")


@pytest.mark.parametrize("text", [
    'vrrp_instance V {\n  notify_master "/bin/x \\" # y" root\n}\n',
    "global_defs {\n  router_id r1 # " + "A" * 1008 + "notify_master /tmp/evil root\n}\n",
    "global_defs {\n  router_id r1\r\n}\n",
    "global_defs {\n  router_id r1\0 notify /tmp/x\n}\n",
])
def test_the_strict_reader_refuses_the_validator_bypasses(text):
    with pytest.raises(kc.ConfError, match="buffer|backslash"):
        kc.parse(text)


@pytest.mark.parametrize("text", ["global_defs {\n} include /tmp/x.conf\n", "vrrp_instance V { @lb1 priority 1\n}\n"])
def test_a_special_line_after_a_brace_is_refused(text):
    # keepalived cuts a line at each unquoted brace and reads the rest as a line of its own.
    with pytest.raises(kc.ConfError, match="starts a line"):
        kc.parse(text)


# The reader's fast paths (a line without quotes, comment characters or backslashes; a line too short to need
# cutting) against the character-by-character readers they stand for, on lines made of what those act on.
_LINE = st.text(alphabet=st.sampled_from(list(' \t\r\v\f\0"\\#!{}ab9/.') + ["é", "\u2028", "\udcff"]), max_size=60)


@given(_LINE)
def test_decomment_fast_path_reads_as_the_general_reader(line):
    assert kc.decomment(line) == kc._decomment(line)


@given(_LINE)
def test_tokens_fast_path_splits_as_the_general_reader(line):
    once = kc.decomment(line)
    try:
        general = kc._tokens(once)
    except kc.ConfError:
        general = "refused"
    try:
        fast = kc.tokens(once)
    except kc.ConfError:
        fast = "refused"
    assert fast == general


_LONG = st.lists(st.sampled_from(["é", "a", "\0", "\r", "\U0001f600", "#", "ab" * 40]), min_size=100,
                 max_size=400).map("".join)


@given(st.lists(st.one_of(_LINE, _LONG), max_size=4))
def test_physical_lines_fast_path_cuts_as_keepalived_does(lines_):
    text = "\n".join(lines_)
    general = [(n, chunk) for n, line in enumerate(text.split("\n"), 1) for chunk in kc._chunks(line)]
    assert list(kc.physical_lines(text)) == general
