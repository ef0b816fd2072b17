# -*- coding: utf-8 -*-
"""keepalived.conf as keepalived 2.2.7's parser (lib/parser.c) reads it: physical lines cut at its 1023-byte
buffer, comments ('#' or '!' outside double quotes, backslash pairs skipped) removed as decomment() does, lines
of whitespace-separated tokens, '{' and '}' as tokens of their own, "double-quoted" strings as one token. A line whose first token is `include`, starts with '@' (a per-host line), '$' (a
variable definition or expansion) or '~' (a sequence) is reported as such: rendered values must never make
one. Standard library only.

    parse(text) -> [Node]   Node: keyword, args (tokens), children (for a block), line
        strict: what lvsfleet renders is checked with it, so the special lines are errors, and so are a line past
        the buffer, a backslash, CR or NUL, and a '"' touching a word (keepalived splits commands otherwise).
    load(path, host, read, expand) -> [Node]
        a hand-written configuration as keepalived reads it: `include` lines (glob patterns, relative to the
        including file's directory) are read in place, `@host` / `@^host` lines are kept only for (or except
        for) `host`, and a '{' alone on the line after its keyword opens that keyword's block. Variables
        ('$') and sequences ('~') are refused with the file and line: adopting them would need keepalived's
        macro language.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field


class ConfError(ValueError):
    """The text does not have the shape keepalived reads (unbalanced braces, unterminated quote)."""


@dataclass
class Node:
    keyword: str
    args: list[str] = field(default_factory=list)
    children: list["Node"] | None = None
    line: int = 0
    file: str = ""

    def plain(self):
        """Comparable form without line numbers."""
        return (self.keyword, tuple(self.args),
                None if self.children is None else tuple(c.plain() for c in self.children))


SPECIAL_FIRST = ("@", "$", "~")
# What decomment() acts on, and a token of a line without double quotes (tokens()).
_COMMENT_OR_QUOTE = re.compile(r'["\\#!]')
_BARE_TOKEN = re.compile(r"[{}]|[^ \t\r\v\f{}]+")
# lib/parser.h MAXBUF (1024): read_line() reads a physical line with fgets() in chunks of MAXBUF - 1 bytes, and
# each further chunk is read as a line of its own, with its own comment state (keepalived 2.2.7 lib/parser.c).
LINE_BYTES = 1023


def physical_lines(text: str):
    """(line number, line) as keepalived's read_line() delivers them: each physical line cut into chunks of
    LINE_BYTES bytes (a later chunk is a new line: a comment does not hide what lies past byte 1023), text after
    a NUL dropped, trailing CR removed."""
    for lineno, line in enumerate(text.split("\n"), 1):
        if len(line) <= LINE_BYTES // 4:
            # One chunk, whatever the encoding (at most 4 bytes a character), and NUL and CR are one byte each
            # in UTF-8: the same cut as _chunks() on the text itself (the common case, about 30 times faster).
            yield lineno, line.split("\0", 1)[0].rstrip("\r")
        else:
            for chunk in _chunks(line):
                yield lineno, chunk


def _chunks(line: str):
    """One physical line as read_line() delivers it, cut byte by byte (any line)."""
    raw = line.encode("utf-8", "surrogateescape")
    for i in range(0, len(raw), LINE_BYTES) if raw else [0]:
        yield raw[i:i + LINE_BYTES].split(b"\0", 1)[0].rstrip(b"\r").decode("utf-8", "surrogateescape")


def decomment(line: str) -> str:
    """keepalived 2.2.7 lib/parser.c decomment(): '#' and '!' start a comment outside double quotes; a backslash
    and the next character are skipped as a pair (so \\" never opens or closes a quote), and outside quotes \\#
    and \\! lose their backslash; a trailing backslash is kept. Leading and trailing blanks removed."""
    if not _COMMENT_OR_QUOTE.search(line):
        return line.strip(" \t")  # nothing below would act on it
    return _decomment(line)


def _decomment(line: str) -> str:
    """decomment() character by character (any line)."""
    s = list(line.lstrip(" \t"))
    quote, cont, skip, i = False, False, None, 0
    while i < len(s):
        c = s[i]
        if c == '"':
            if skip is None:
                quote = not quote
        elif c == "\\":
            if i + 1 < len(s):
                if not quote and s[i + 1] in "#!":
                    del s[i]
                else:
                    i += 1
            else:
                del s[i:]
                cont = True
                break
        elif c in "#!" and not quote and skip is None:
            skip = i
        i += 1
    if skip is not None:
        del s[skip:]
    out = "".join(s).rstrip(" \t")
    return out + "\\" if cont else out


def read_lines(text: str, where: str = "line"):
    """(line number, tokens) of each line as keepalived's VRRP and checker processes see it. keepalived's parent
    decomments each line and hands the result to them, and they decomment it again: a line the two passes read
    differently (a backslash before '#', '!' or a quote) is refused, as is a line past keepalived's buffer."""
    for lineno, line in physical_lines(text):
        once = decomment(line)
        if decomment(once) != once:
            raise ConfError(f"{where} {lineno}: keepalived's processes read this line differently (a backslash "
                            f"before '#', '!' or '\"'): write it without one")
        yield lineno, tokens(once, lineno)


def tokens(line: str, lineno: int = 0) -> list[str]:
    """A decommented line's tokens as keepalived's alloc_strvec_r() splits it: blanks separate, a '"' at a token's
    start quotes up to the next '"' (no escapes), '{' and '}' outside quotes are tokens of their own."""
    if '"' not in line:
        return _BARE_TOKEN.findall(line)  # without quotes: the same split in one pass of the regex engine
    return _tokens(line, lineno)


def _tokens(line: str, lineno: int = 0) -> list[str]:
    """tokens() character by character (any line)."""
    out, cur, quoted, i = [], None, False, 0
    while i < len(line):
        ch = line[i]
        if quoted:
            if ch == '"':
                quoted = False
                out.append(cur)
                cur = None
            else:
                cur += ch
        elif ch == '"':
            if cur is not None:
                out.append(cur)
            cur, quoted = "", True
        elif ch in " \t\r\v\f":
            if cur is not None:
                out.append(cur)
                cur = None
        elif ch in "{}":
            if cur is not None:
                out.append(cur)
                cur = None
            out.append(ch)
        else:
            cur = (cur or "") + ch
        i += 1
    if quoted:
        raise ConfError(f"line {lineno}: unterminated quoted string")
    if cur is not None:
        out.append(cur)
    return out


def _glued_quote(line: str) -> bool:
    """Whether a '"' opens right after a word or closes right before one (`"/bin/x"nobody`, `a"b c"`).
    keepalived 2.2.7 splits a line in two ways: lib/parser.c alloc_strvec_r() ends a word at a '"' (the tokens this
    module reads: "/bin/x", "nobody"), while the command and user of notify*, quorum_*, misc_path and vrrp_script's
    script are split again by alloc_strvec_quoted_escaped() (lib/notify.c notify_script_init, check/check_misc.c
    misc_path_handler, vrrp/vrrp_parser.c vrrp_vscript_script_handler), which joins quoted and bare text into one
    word as a shell does ("/bin/xnobody", run as the default script user). A quote with a blank, a brace or the
    line's end on its outer side reads the same both ways."""
    quoted = False
    for i, ch in enumerate(line):
        if ch != '"':
            continue
        outside = line[i + 1:i + 2] if quoted else line[i - 1:i] if i else ""
        if outside and outside not in " \t\r\v\f{}":
            return True
        quoted = not quoted
    return False


def _line_starts(toks: list[str]) -> list[str]:
    """The tokens keepalived sees at the start of a line: the first, and each after a brace (read_line() cuts a
    line at every unquoted brace and reads the rest as a line of its own)."""
    return [t for i, t in enumerate(toks) if t not in ("{", "}") and (i == 0 or toks[i - 1] in ("{", "}"))]


def parse(text: str) -> list[Node]:
    lines = []
    for lineno, line in enumerate(text.split("\n"), 1):
        # What lvsfleet renders never needs these; each makes keepalived read the line otherwise than it looks.
        if len(line) > LINE_BYTES // 4 and len(line.encode("utf-8", "surrogateescape")) > LINE_BYTES:
            raise ConfError(f"line {lineno}: longer than keepalived's {LINE_BYTES}-byte line buffer (keepalived "
                            f"would read the rest as a new line)")
        if any(ch in line for ch in "\\\0\r"):
            raise ConfError(f"line {lineno}: a backslash, NUL or carriage return changes how keepalived reads it")
    for lineno, line in physical_lines(text):
        if '"' in line and _glued_quote(decomment(line)):
            raise ConfError(f"line {lineno}: a '\"' touches a word: keepalived reads the words of a command and its "
                            f"user as one (write a blank between a quoted string and the next word)")
    for lineno, toks in read_lines(text):
        for first in _line_starts(toks):
            if first == "include" or first[:1] in SPECIAL_FIRST:
                raise ConfError(f"line {lineno}: {first!r} starts a line: keepalived reads it as an include, a "
                                f"per-host line, a variable or a sequence")
        lines.append(("", lineno, toks))
    return _build(lines, brace_next_line=False)


MAX_INCLUDE_DEPTH = 8
MAX_FILES = 256


def load(path: str, host: str = "", read=None, expand=None) -> list[Node]:
    """Parse the configuration at `path` with its includes.

    `read(path) -> str` and `expand(pattern) -> [paths, sorted]` default to the local file system (glob).
    """
    import glob as _glob
    import os

    read = read or (lambda p: open(p, encoding="utf-8", errors="replace").read())
    expand = expand or (lambda pattern: sorted(_glob.glob(pattern)))
    lines: list[tuple[str, int, list[str]]] = []
    open_files: list[str] = []  # the include chain being read
    count = [0]

    def walk(name: str, depth: int) -> None:
        if depth > MAX_INCLUDE_DEPTH:
            raise ConfError(f"{name}: includes nest deeper than {MAX_INCLUDE_DEPTH} files")
        if name in open_files:
            raise ConfError(f"{name}: includes itself (through {' -> '.join(open_files)})")
        open_files.append(name)
        count[0] += 1
        if count[0] > MAX_FILES:
            raise ConfError(f"{path}: more than {MAX_FILES} files through includes")
        for lineno, toks in read_lines(read(name), name):
            if toks and toks[0].startswith("@"):
                tag, toks = toks[0][1:], toks[1:]
                keep = tag[1:] != host if tag.startswith("^") else tag == host
                if not keep:
                    continue
            if not toks:
                continue
            for first in _line_starts(toks)[1:]:
                if first == "include" or first[:1] in SPECIAL_FIRST:
                    raise ConfError(f"{name}:{lineno}: {first!r} after a brace: keepalived reads it as a line of "
                                    f"its own; write it on a line of its own")
            if toks[0] == "include":
                if len(toks) != 2:
                    raise ConfError(f"{name}:{lineno}: include takes one file name or pattern")
                pattern = os.path.normpath(toks[1] if toks[1].startswith("/")
                                           else os.path.join(os.path.dirname(name), toks[1]))
                found = expand(pattern)
                if not found and not any(ch in pattern for ch in "*?["):
                    raise ConfError(f"{name}:{lineno}: include {toks[1]}: no such file")
                for child in found:
                    walk(child, depth + 1)
                continue
            if toks[0][:1] in ("$", "~"):
                raise ConfError(f"{name}:{lineno}: {toks[0]!r}: keepalived variables and sequences are not "
                                f"adopted; expand them by hand first")
            lines.append((name, lineno, toks))
        open_files.pop()

    walk(path, 0)
    return _build(lines, brace_next_line=True)


def _build(lines, brace_next_line: bool) -> list[Node]:
    root: list[Node] = []
    stack: list[list[Node]] = [root]
    last: Node | None = None  # the last keyword of the previous line, for a '{' on the next line
    for name, lineno, toks in lines:
        where = f"{name}:{lineno}" if name else f"line {lineno}"
        pending: Node | None = None  # the last keyword of this line: a '{' after it opens its block
        for i, tok in enumerate(toks):
            if tok == "{":
                if pending is None and i == 0 and brace_next_line and last is not None and last.children is None:
                    pending = last
                if pending is None:
                    raise ConfError(f"{where}: '{{' opens no block")
                pending.children = []
                stack.append(pending.children)
                pending = None
            elif tok == "}":
                if len(stack) == 1:
                    raise ConfError(f"{where}: '}}' closes no block")
                stack.pop()
                pending = None
            elif pending is not None:
                pending.args.append(tok)
            else:
                pending = Node(tok, line=lineno, file=name)
                stack[-1].append(pending)
        last = pending
    if len(stack) != 1:
        raise ConfError("unbalanced braces: a block is not closed")
    return root


def find(nodes: list[Node], *path: str) -> list[Node]:
    """Nodes reached by keywords along `path` (every match at each level)."""
    level = list(nodes)
    for key in path:
        level = [n for n in level if n.keyword == key]
        if key != path[-1]:
            level = [c for n in level for c in (n.children or [])]
    return level
