#!/usr/bin/env python3
"""Checks the DOM of a cybersieve report as headless Chromium dumped it.

usage: dom_check.py DOM.html EVIDENCE_DIR EXPECT...
EXPECT is one of
  verdict=WORD          the verdict shown (verified, tampered, unsealed)
  failure=TEXT          the first failure shown contains TEXT
  broken=SEQ            the row marked "chain breaks here" is the record with seq SEQ
  rows=N                the records table has N rows
  capped                the note that the table is capped is shown
  counts                counts per category equal summary.json's matches_by_category
  top                   the top indicator ids are those the records give
  tlp=LABEL             the TLP banner says LABEL (e.g. TLP:RED)
  text=CLASS:TEXT       some cell of class CLASS holds TEXT as text
  run=TEXT              the run table holds TEXT
  safe                  the title is the report's, our script ran (CSP by hash),
                        no element came from record text (one script, no img/i),
                        and no bidirectional control is left in the text
Prints one line per failed expectation and exits 1 if any failed.
"""
import collections
import json
import os
import sys
from html.parser import HTMLParser


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children = []

    def text(self):
        return ''.join(c if isinstance(c, str) else c.text() for c in self.children)

    def walk(self):
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.walk()

    def classes(self):
        return (self.attrs.get('class') or '').split()


VOID = {'meta', 'link', 'br', 'img', 'input', 'hr', 'col', 'source', 'area', 'base', 'wbr'}


class Tree(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node('#root', [], None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.children.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not self.root and n.tag != tag:
            n = n.parent
        if n is not self.root:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def main():
    dom_path, ev_dir, expects = sys.argv[1], sys.argv[2], sys.argv[3:]
    t = Tree()
    t.feed(open(dom_path, encoding='utf-8').read())
    nodes = list(t.root.walk())
    by_id = {n.attrs['id']: n for n in nodes if 'id' in n.attrs}
    errs = []

    def tbody_rows(table_id):
        tb = by_id.get(table_id)
        if tb is None:
            errs.append('no table #%s' % table_id)
            return []
        return [n for n in tb.walk() if n.tag == 'tr' and n.parent.tag == 'tbody']

    def cells(tr):
        return [c for c in tr.children if isinstance(c, Node) and c.tag == 'td']

    records = []
    rec_path = os.path.join(ev_dir, 'records.ndjson')
    if os.path.exists(rec_path):
        for line in open(rec_path, 'rb'):
            try:
                records.append(json.loads(line))
            except ValueError:
                pass

    for e in expects:
        key, _, val = e.partition('=')
        if key == 'verdict':
            got = by_id.get('verdict-word')
            if got is None or got.text().strip() != val:
                errs.append('verdict: %r, expected %r' % (got and got.text(), val))
        elif key == 'failure':
            got = by_id.get('first-failure')
            if got is None or val not in got.text():
                errs.append('first failure: %r does not hold %r' % (got and got.text(), val))
        elif key == 'broken':
            rows = [r for r in tbody_rows('records') if 'broken' in r.classes()]
            if len(rows) != 1 or cells(rows[0])[0].text().split()[0] != val:
                errs.append('broken row: %r, expected seq %s' %
                            ([cells(r)[0].text() for r in rows], val))
        elif key == 'rows':
            n = len(tbody_rows('records'))
            if n != int(val):
                errs.append('records table: %d rows, expected %s' % (n, val))
        elif key == 'capped':
            if 'rows-capped' not in by_id:
                errs.append('no note that the table is capped')
        elif key == 'counts':
            s = json.load(open(os.path.join(ev_dir, 'summary.json')))
            shown = {}
            for tr in tbody_rows('categories'):
                c = cells(tr)
                shown[c[0].text()] = int(c[1].text())
            if shown != s['matches_by_category']:
                errs.append('categories: %r, summary.json says %r' %
                            (shown, s['matches_by_category']))
            if not by_id.get('chart-categories'):
                errs.append('no category chart')
        elif key == 'top':
            n = collections.Counter()
            ids = {}
            for r in records:
                k = r['indicator']['pack']['name'] + '\x1f' + r['indicator']['id']
                n[k] += 1
                ids[k] = r['indicator']['id']
            want = [ids[k] for k in sorted(n, key=lambda k: (-n[k], k.encode()))][:10]
            got = [c.text() for c in nodes if 'ind-id' in c.classes()]
            if got != want:
                errs.append('top indicators: %r, expected %r' % (got, want))
            if not by_id.get('chart-top') or not by_id.get('chart-time'):
                errs.append('no top-indicator or time chart')
        elif key == 'tlp':
            got = by_id.get('tlp')
            if got is None or val not in got.text():
                errs.append('TLP banner: %r, expected %r' % (got and got.text(), val))
        elif key == 'text':
            cls, _, want = val.partition(':')
            if not any(want in n.text() for n in nodes if cls in n.classes()):
                errs.append('no .%s element holds the text %r' % (cls, want))
        elif key == 'run':
            got = by_id.get('run')
            if got is None or val not in got.text():
                errs.append('run table does not hold %r' % val)
        elif key == 'safe':
            m = json.load(open(os.path.join(ev_dir, 'summary.json')))
            title = [n.text() for n in nodes if n.tag == 'title' and n.parent.tag == 'head']
            if title != ['cybersieve evidence report: run ' + m['run_id']]:
                errs.append('title changed: %r' % title)
            body = [n for n in nodes if n.tag == 'body']
            if not body or body[0].attrs.get('data-script') != 'ran':
                errs.append('the report\'s own script did not run')
            bidi = [c for c in t.root.text() if c in '\u061c\u200e\u200f\u202a\u202b'
                    '\u202c\u202d\u202e\u2066\u2067\u2068\u2069']
            if bidi:
                errs.append('bidirectional controls in the text: %r' % bidi)
            tags = collections.Counter(n.tag for n in nodes)
            if tags['script'] != 1 or tags['img'] or tags['i'] or tags['iframe']:
                errs.append('elements injected: %d script, %d img, %d i' %
                            (tags['script'], tags['img'], tags['i']))
        else:
            errs.append('unknown expectation %r' % e)
    for m in errs:
        print('  ' + m)
    sys.exit(1 if errs else 0)


main()
