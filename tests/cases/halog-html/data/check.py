#!/usr/bin/env python3
"""Structure checks of a halog HTML report, printed as stable lines for a golden `stdout`:
self-contained (no script, no remote URL, a CSP), well nested, valid UTF-8, every chart an
<svg role="img"> with an aria-label and a <title>, and the sections, tables, rows and counts the
page holds. usage: check.py REPORT.html"""
import re
import sys
from html.parser import HTMLParser

VOID = {"meta", "link", "br", "img", "input", "hr"}


class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors = [], []
        self.charts, self.kinds, self.tables, self.sections = [], {}, {}, []
        self.remote, self.scripts, self.events = 0, 0, []
        self.rows, self.row, self.cell, self.in_title = [], None, None, None
        self.svg_title = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k in ("src", "href", "xlink:href", "action"):
            v = a.get(k) or ""
            if re.match(r"\s*([a-z]+:)?//", v, re.I) or re.match(r"\s*(https?|ftp):", v, re.I):
                self.remote += 1
        if tag == "script" or tag == "iframe" or tag == "object" or tag == "embed":
            self.scripts += 1
        if tag == "svg" and a.get("role") == "img":
            self.charts.append([a.get("data-chart"), a.get("aria-label") or "", ""])
            k = a.get("data-chart")
            self.kinds[k] = self.kinds.get(k, 0) + 1
        if tag == "title" and self.stack and self.stack[-1][0] == "svg":
            self.in_title = self.charts[-1] if self.charts else None
        if tag == "table":
            k = a.get("data-table")
            self.tables[k] = self.tables.get(k, 0) + 1
            self.table = k
        if tag == "section" and a.get("data-kind"):
            self.sections.append(f"{a['data-kind']} {a.get('data-name')}")
        if tag == "g" and a.get("class") == "event":
            lane = [x for t, x in self.stack if t == "g" and x.get("class") == "lane"]
            self.events.append(f"{lane[-1].get('data-name') if lane else '?'} {a.get('data-state')}")
        if tag == "tr" and a.get("data-name") is not None and self.table in ("servers", "backends"):
            self.row = [self.table, a["data-name"], None]
        if tag == "td" and self.row is not None and a.get("data-col") == "requests":
            self.cell = ""
        if tag not in VOID:
            self.stack.append((tag, a))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1][0] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1][0] if self.stack else '-'}>")
            return
        self.stack.pop()
        if tag == "title":
            self.in_title = None
        if tag == "td" and self.cell is not None:
            self.row[2] = self.cell.strip()
            self.cell = None
        if tag == "tr" and self.row is not None:
            self.rows.append(" ".join(self.row))
            self.row = None

    def handle_data(self, data):
        if self.in_title is not None:
            self.in_title[2] += data
        if self.cell is not None:
            self.cell += data


def main():
    raw = open(sys.argv[1], "rb").read()
    try:
        text = raw.decode("utf-8")
        print("utf-8: valid")
    except UnicodeDecodeError as e:
        print(f"utf-8: INVALID at byte {e.start}")
        text = raw.decode("utf-8", "replace")
    print("doctype:", "yes" if text.startswith("<!DOCTYPE html>") else "NO")
    print("csp default-src none:", "yes" if "default-src 'none'" in text else "NO")
    print("control bytes:", len(re.findall(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text)))
    print("http(s) URLs anywhere:", len(re.findall(r"https?://", text)))
    p = Page()
    p.feed(text)
    p.close()
    print("remote references:", p.remote)
    print("scripts/frames:", p.scripts)
    print("nesting errors:", len(p.errors), *p.errors[:3])
    print("unclosed:", " ".join(t for t, _ in p.stack) or "none")
    print("charts:", len(p.charts), " ".join(f"{k}={n}" for k, n in sorted(p.kinds.items())))
    print("charts without aria-label:", sum(1 for c in p.charts if len(c[1]) < 10))
    print("charts whose <title> differs from aria-label:", sum(1 for c in p.charts if c[1] != c[2]))
    print("tables:", " ".join(f"{k}={n}" for k, n in sorted(p.tables.items(), key=lambda x: str(x[0]))))
    # the overview's bins add up to the banner (raw and rollup paths count alike)
    ov = text.split('id="overview"', 1)[1].split('data-table="backends"', 1)[0] if 'id="overview"' in text else ""
    col = lambda c: sum(int(x) for x in re.findall(r'<td class="num" data-col="%s">(\d+)</td>' % c, ov))
    card = re.search(r'data-card="requests"><div class="k">requests</div><div class="v">(\d+)', text)
    errs = re.search(r'data-card="errors">.*?<div class="s">(\d+) error', text)
    print("overview bins: requests %d errors %d; banner: requests %s errors %s" % (
        col("total"), col("errors"), card and card.group(1), errs and errs.group(1)))
    for s in p.sections:
        print("section:", s)
    for r in p.rows:
        print("row:", r)
    for e in p.events:
        print("event:", e)
    return 0


if __name__ == "__main__":
    sys.exit(main())
