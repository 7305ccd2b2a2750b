"""Docker's .dockerignore rules, for the tests that look at the build context without an engine
(deploy_dockerfile, deploy_compose; deploy_engine sends the real one). The rules: patterns in
order, the last one that matches a path (or its parent folder at the pattern's depth) decides,
`!` keeps what an earlier pattern excluded, `*` and `?` stay within one path segment, `**`
crosses any number of them."""
import os
import re


def _compile(pat):
    out, i = [], 0
    while i < len(pat):
        c = pat[i]
        if pat.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pat.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = pat.find("]", i + 1)
            if j < 0:
                out.append(re.escape(c))
            else:
                out.append("[" + pat[i + 1:j].replace("!", "^", 1) + "]")
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("^" + "".join(out) + "$")


def load(path):
    """The rules of the .dockerignore at path (none when it does not exist)."""
    rules = []
    if not os.path.exists(path):
        return rules
    for line in open(path):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        neg = line.startswith("!")
        pat = os.path.normpath(line[1:].strip() if neg else line).lstrip("/")
        rules.append((neg, _compile(pat), len(pat.split("/")), pat))
    return rules


def ignored(rules, rel):
    """True when Docker leaves rel (a path relative to the context) out of the build context."""
    rel = os.path.normpath(rel)
    parent = os.path.dirname(rel)
    dirs = parent.split("/") if parent else []
    matched = False
    for neg, rx, depth, _ in rules:
        m = bool(rx.match(rel))
        if not m and dirs and depth <= len(dirs):
            m = bool(rx.match("/".join(dirs[:depth])))
        if m:
            matched = not neg
    return matched


def prunable(rules, rel_dir):
    """True when nothing below the ignored folder rel_dir can be kept by a `!` rule."""
    pre = os.path.normpath(rel_dir) + "/"
    return ignored(rules, rel_dir) and not any(
        neg and (pat.startswith(pre) or "**" in pat or "*" in pat.split("/")[0])
        for neg, _, _, pat in rules)
