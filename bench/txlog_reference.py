#!/usr/bin/env python3
"""A small reference of the window-rule semantics, to check gen_txlog apart from the engine.

usage: txlog_reference.py --pack PACK [--format auto|json|csv|kv|zeek] [--out FILE]
                          [--truth TRUTH] LOG

Reads the `window` rules of PACK, evaluates them over LOG and writes one JSON
record per firing, in the shape txlog_truth_check.py reads (to --out, or
stdout when --truth is not given). With --truth, compares the firings with
the ground truth the same way and exits 1 on any difference.

Semantics, as written for the rules:
  <id> window key=F [time=F] [when=C]... AGG within=D [slack=D]
  <id> window passthrough in=F out=F within=D [when=C]... [slack=D]
  C: F:LO..HI (numeric, inclusive) | F=V | F!=V; a missing field fails C.
  AGG: count>=N | sum(F)>=X | distinct(F)>=N.
- A record is late for a rule when its time is older than the newest time
  seen so far (in file order) minus the rule's slack (default 0); it is
  ignored. The rest are taken in time order (file order among equal times).
- Per key, the qualifying records within `within` of each other are kept;
  when they satisfy the aggregate the rule fires once with them as
  contributors, and they are consumed.
- passthrough fires for account A when a record with out=A has a time at or
  after a record with in=A, at most `within` later; both are consumed (the
  oldest waiting in-record first).
Times: time=F, else the first of ts, time, timestamp, @timestamp, date;
RFC 3339, epoch seconds or milliseconds (fractions allowed), CLF.
"""
import calendar
import collections
import csv
import json
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import txlog_truth_check  # noqa: E402

TIME_FIELDS = ("ts", "time", "timestamp", "@timestamp", "date")
DUR = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
RFC3339 = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(\.\d+)?(Z|z|[+-]\d\d:?\d\d)?$")
CLF = re.compile(r"(\d\d)/([A-Z][a-z]{2})/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-]\d\d)(\d\d)$")
EPOCH = re.compile(r"\d+(\.\d+)?$")
KV = re.compile(r'(?:^|\s)([A-Za-z_@][\w.@-]*)=("(?:[^"\\]|\\.)*"|\S*)')


def duration(s):
    m = re.fullmatch(r"(\d+)([smhd])", s)
    if not m:
        raise ValueError(f"bad duration {s!r}")
    return int(m.group(1)) * DUR[m.group(2)]


_time_cache = {}


def parse_time(v):
    """Seconds since the epoch, or None."""
    if v is None:
        return None
    t = _time_cache.get(v)
    if t is None:
        if len(_time_cache) > 100000:
            _time_cache.clear()
        t = _time_cache[v] = _parse_time(v)
    return t


def _parse_time(v):
    v = str(v).strip()
    if EPOCH.match(v):
        t = float(v)
        return t / 1000.0 if t >= 1e11 else t
    m = RFC3339.match(v)
    if m:
        y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
        t = calendar.timegm((y, mo, d, h, mi, s)) + (float(m.group(7)) if m.group(7) else 0.0)
        z = m.group(8)
        if z and z not in ("Z", "z"):
            sign = -1 if z[0] == "-" else 1
            z = z[1:].replace(":", "")
            t -= sign * (int(z[:2]) * 3600 + int(z[2:]) * 60)
        return t
    m = CLF.match(v)
    if m and m.group(2) in MONTHS:
        t = calendar.timegm((int(m.group(3)), MONTHS[m.group(2)], int(m.group(1)),
                             int(m.group(4)), int(m.group(5)), int(m.group(6))))
        sign = -1 if m.group(7)[0] == "-" else 1
        return t - sign * (int(m.group(7)[1:]) * 3600 + int(m.group(8)) * 60)
    return None


class Rule:
    def __init__(self, rid, spec):
        self.id, self.conds, self.slack = rid, [], 0
        self.key = self.time = self.agg = self.in_f = self.out_f = None
        self.within = None
        toks = spec.split()
        self.passthrough = bool(toks) and toks[0] == "passthrough"
        for t in toks[1:] if self.passthrough else toks:
            if t.startswith("key="):
                self.key = t[4:]
            elif t.startswith("time="):
                self.time = t[5:]
            elif t.startswith("in="):
                self.in_f = t[3:]
            elif t.startswith("out="):
                self.out_f = t[4:]
            elif t.startswith("within="):
                self.within = duration(t[7:])
            elif t.startswith("slack="):
                self.slack = duration(t[6:])
            elif t.startswith("when="):
                self.conds.append(self.cond(t[5:]))
            else:
                m = re.fullmatch(r"(count|sum|distinct)(?:\(([^)]+)\))?>=([0-9.]+)", t)
                if not m or (m.group(1) == "count") != (m.group(2) is None):
                    raise ValueError(f"{rid}: bad token {t!r}")
                self.agg = (m.group(1), m.group(2), float(m.group(3)))
        if self.within is None or (self.passthrough and not (self.in_f and self.out_f)) or \
                (not self.passthrough and not (self.key and self.agg)):
            raise ValueError(f"{rid}: incomplete rule")

    @staticmethod
    def cond(c):
        m = re.fullmatch(r"([^:=!]+):([-0-9.eE]+)\.\.([-0-9.eE]+)", c)
        if m:
            return ("range", m.group(1), float(m.group(2)), float(m.group(3)))
        m = re.fullmatch(r"([^:=!]+)(!=|=)(.*)", c)
        if m:
            return ("ne" if m.group(2) == "!=" else "eq", m.group(1), m.group(3), None)
        raise ValueError(f"bad condition {c!r}")

    def fields(self):
        f = {c[1] for c in self.conds} | {x for x in (self.key, self.time, self.in_f, self.out_f) if x}
        if self.agg and self.agg[1]:
            f.add(self.agg[1])
        return f

    def holds(self, rec):
        for kind, f, a, b in self.conds:
            v = rec.get(f)
            if v is None:
                return False
            if kind == "range":
                try:
                    x = float(v)
                except ValueError:
                    return False
                if not a <= x <= b:
                    return False
            elif (v == a) != (kind == "eq"):
                return False
        return True


def read_pack(path):
    rules = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split(None, 2)
            if len(parts) == 3 and not parts[0].startswith(("#", "@")) and parts[1].split("@")[0].split("/")[0] == "window":
                rules.append(Rule(parts[0], parts[2]))
    return rules


def value_at(obj, path):
    if "." not in path:
        obj = obj.get(path)
        if obj is None or isinstance(obj, (dict, list)):
            return None
        return "true" if obj is True else "false" if obj is False else str(obj)
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    if isinstance(obj, (dict, list)):
        return None
    return "true" if obj is True else "false" if obj is False else str(obj)


def records(path, fmt):
    """(line number, dict of field -> string) for each record of the log."""
    with open(path, encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if fmt == "auto":
        first = next((x for x in lines if x.strip()), "")
        fmt = "json" if first.lstrip().startswith("{") else "zeek" if first.startswith("#separator") else \
            "csv" if "," in first and "=" not in first else "kv"
    if fmt == "json":
        for n, line in enumerate(lines, 1):
            if line.strip():
                obj = json.loads(line)
                yield n, _Flat(obj)
    elif fmt == "csv":
        header = None
        for n, row in enumerate(csv.reader(lines), 1):
            if not row:
                continue
            if header is None:
                header = row
                continue
            yield n, dict(zip(header, row))
    elif fmt == "zeek":
        names = None
        for n, line in enumerate(lines, 1):
            if line.startswith("#"):
                if line.startswith("#fields\t"):
                    names = line.split("\t")[1:]
                continue
            if names and line:
                yield n, dict(zip(names, line.split("\t")))
    else:
        for n, line in enumerate(lines, 1):
            rec = {}
            for k, v in KV.findall(line):
                rec[k] = v[1:-1].replace('\\"', '"') if v.startswith('"') and len(v) > 1 else v
            if rec:
                yield n, rec


class _Flat:
    """A JSON object read by dotted path."""
    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def get(self, path):
        return value_at(self.obj, path)


def evaluate(rules, log, fmt="auto"):
    """[(rule id, key, [(line, time), ...])] in the order the firings happen."""
    wanted = set(TIME_FIELDS)
    for r in rules:
        wanted |= r.fields()
    per_rule = {r.id: [] for r in rules}
    newest = {r.id: None for r in rules}  # newest time seen, in file order
    for n, rec in records(log, fmt):
        small = {}
        for f in wanted:
            v = rec.get(f)
            if v is not None:
                small[f] = v
        times = {}  # one parse per time field
        for r in rules:
            tf = r.time or next((f for f in TIME_FIELDS if f in small), None)
            if tf not in times:
                times[tf] = parse_time(small.get(tf)) if tf else None
            t = times[tf]
            if t is None:
                continue
            top = newest[r.id]
            if top is not None and t < top - r.slack:
                continue
            if top is None or t > top:
                newest[r.id] = t
            if r.holds(small):
                per_rule[r.id].append((t, n, small))
    out = []
    for r in rules:
        recs = sorted(per_rule[r.id], key=lambda x: (x[0], x[1]))
        out.extend(passthrough(r, recs) if r.passthrough else aggregate(r, recs))
    return out


def aggregate(r, recs):
    kind, field, thr = r.agg
    thr_units = round(thr * 1e8)
    # per key: the records in the window and the aggregate's state (running sum, or counts of values)
    win = collections.defaultdict(lambda: (collections.deque(), [0] if kind == "sum" else collections.Counter()))
    fired = []
    for t, n, rec in recs:
        key = rec.get(r.key)
        if key is None:
            continue
        v = rec.get(field) if field else None
        if field and v is None:
            continue
        if kind == "sum":  # in units of 1e-8, so that adding and removing stays exact
            try:
                v = round(float(v) * 1e8)
            except ValueError:
                continue
        q, st = win[key]
        q.append((t, n, v))
        add(kind, st, v, 1)
        while q[0][0] < t - r.within:
            add(kind, st, q.popleft()[2], -1)
        if (len(q) if kind == "count" else len(st)) >= thr if kind != "sum" else st[0] >= thr_units:
            fired.append((r.id, key, [(x[1], x[0]) for x in q]))
            win[key] = (collections.deque(), [0] if kind == "sum" else collections.Counter())
    return fired


def add(kind, st, v, d):
    if kind == "sum":
        st[0] += d * v
    elif kind == "distinct":
        st[v] += d
        if not st[v]:
            del st[v]


def passthrough(r, recs):
    ins = collections.defaultdict(collections.deque)   # account -> waiting in-records
    outs = collections.defaultdict(list)               # account -> unmatched outs at the newest time
    fired = []
    for t, n, rec in recs:
        a_out, a_in = rec.get(r.out_f), rec.get(r.in_f)
        if a_out is not None:
            q = ins[a_out]
            while q and q[0][0] < t - r.within:
                q.popleft()
            if q:
                i = q.popleft()
                fired.append((r.id, a_out, [(i[1], i[0]), (n, t)]))
            else:
                outs[a_out] = [o for o in outs[a_out] if o[0] == t] + [(t, n)]
        if a_in is not None:
            waiting = [o for o in outs.get(a_in, []) if o[0] == t]
            if waiting:  # an out at the same time counts as following it
                o = waiting[0]
                outs[a_in].remove(o)
                fired.append((r.id, a_in, [(n, t), (o[1], o[0])]))
            else:
                ins[a_in].append((t, n))
    return fired


def main(argv):
    args, opts = [], {"--format": "auto", "--out": None, "--truth": None, "--pack": None}
    it = iter(argv[1:])
    for a in it:
        if a in opts:
            opts[a] = next(it, None)
        else:
            args.append(a)
    if len(args) != 1 or not opts["--pack"] or None in (opts["--format"],):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        rules = read_pack(opts["--pack"])
        fired = evaluate(rules, args[0], opts["--format"])
    except (OSError, ValueError) as e:
        print(f"txlog_reference: {e}", file=sys.stderr)
        return 2
    dest = opts["--out"] or (None if opts["--truth"] else "-")
    if dest:
        f = sys.stdout if dest == "-" else open(dest, "w", encoding="utf-8")
        for rid, key, contrib in fired:
            rec = {"indicator": {"id": rid, "type": "window"}, "key": key,
                   "contributors": [{"line": n, "time": t} for n, t in contrib]}
            f.write(json.dumps(rec, separators=(",", ":")) + "\n")
        if f is not sys.stdout:
            f.close()
    if not opts["--truth"]:
        return 0
    fire, nofire = txlog_truth_check.read_truth(opts["--truth"])
    firings = {}
    for rid, key, contrib in fired:
        firings.setdefault((rid, key), []).append([n for n, _ in contrib])
    bad = txlog_truth_check.compare(fire, nofire, firings)
    print(f"txlog reference: {len(rules)} rules, {len(fired)} firings of {len(firings)} (rule, key) pairs; "
          f"{len(fire)} must fire, {len(nofire)} near misses; {bad} difference(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
