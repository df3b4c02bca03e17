#!/usr/bin/env python3
"""Compare the firings of window rules with the ground truth of gen_txlog.

usage: txlog_truth_check.py [--no-lines] [--pack PACK] TRUTH EVIDENCE.ndjson

TRUTH is the file gen_txlog --truth wrote: one line per planted pattern,
`fire|nofire <TAB> rule <TAB> key <TAB> pattern <TAB> txids <TAB> lines`.
EVIDENCE holds one JSON record per line ("-" reads stdin); a record is a firing
of a window rule when it names a rule id and a key (paths below). Records of
other indicators are skipped; with --pack, only rules of that pack count.

The set of (rule, key) pairs that fired must equal the set of `fire` lines.
Unless --no-lines is given, the lines a firing names as contributors must be
lines of its planted pattern. Prints every difference; exits 1 if there is
any, 2 on unreadable input. Python 3 standard library only.
"""
import json
import sys

# Where the evidence record keeps what is compared; the first path present wins.
ID_PATHS = (("indicator", "id"), ("rule", "id"), ("indicator_id",))
KEY_PATHS = (("key",), ("window", "key"), ("match", "key"), ("correlation", "key"))
CONTRIB_PATHS = (("contributors",), ("window", "contributors"), ("match", "contributors"))
CONTRIB_LINE = "line"


def dig(obj, paths):
    """The value at the first of paths present in obj, else None."""
    for path in paths:
        cur = obj
        for part in path:
            if not isinstance(cur, dict) or part not in cur:
                cur = None
                break
            cur = cur[part]
        if cur is not None:
            return cur
    return None


def read_truth(path):
    """{(rule, key): entry} for must-fire and for near-miss patterns."""
    fire, nofire = {}, {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) < 4 or cols[0] not in ("fire", "nofire"):
                raise ValueError(f"{path}:{n}: not a truth line")
            entry = {
                "pattern": cols[3],
                "txids": cols[4].split(",") if len(cols) > 4 and cols[4] else [],
                "lines": {int(x) for x in cols[5].split(",")} if len(cols) > 5 and cols[5] else set(),
            }
            (fire if cols[0] == "fire" else nofire)[(cols[1], cols[2])] = entry
    return fire, nofire


def pack_window_ids(path):
    """Ids of the window rules of a pack."""
    ids = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and not parts[0].startswith(("#", "@")) and parts[1].split("@")[0].split("/")[0] == "window":
                ids.add(parts[0])
    return ids


def read_firings(path, rule_ids=None):
    """{(rule, key): [contributor line lists, one per firing]} and the count of skipped records."""
    firings, skipped = {}, 0
    f = sys.stdin if path == "-" else open(path, encoding="utf-8")
    try:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except ValueError as e:
                raise ValueError(f"{path}:{n}: {e}") from None
            rule, key = dig(rec, ID_PATHS), dig(rec, KEY_PATHS)
            if rule is None or key is None or (rule_ids is not None and rule not in rule_ids):
                skipped += 1
                continue
            contrib = dig(rec, CONTRIB_PATHS) or []
            lines = [c[CONTRIB_LINE] for c in contrib if isinstance(c, dict) and CONTRIB_LINE in c]
            firings.setdefault((str(rule), str(key)), []).append(lines)
    finally:
        if f is not sys.stdin:
            f.close()
    return firings, skipped


def compare(fire, nofire, firings, check_lines=True, out=sys.stdout):
    """Prints the differences; returns their number."""
    bad = 0
    for rk in sorted(set(fire) - set(firings)):
        e = fire[rk]
        print(f"missing: {rk[0]} {rk[1]} ({e['pattern']}, txids {','.join(e['txids'])})", file=out)
        bad += 1
    for rk in sorted(set(firings) - set(fire)):
        why = f"near miss {nofire[rk]['pattern']}" if rk in nofire else "not planted"
        print(f"unexpected: {rk[0]} {rk[1]} ({why}, fired {len(firings[rk])} time(s))", file=out)
        bad += 1
    for rk in sorted(set(firings) & set(fire)):
        if len(firings[rk]) > 1:
            print(f"note: {rk[0]} {rk[1]} fired {len(firings[rk])} times", file=out)
        if not check_lines:
            continue
        planted = fire[rk]["lines"]
        for lines in firings[rk]:
            stray = sorted(set(lines) - planted)
            if not lines or stray:
                print(f"lines: {rk[0]} {rk[1]} contributors {lines or 'absent'} are not all planted lines "
                      f"{sorted(planted)}", file=out)
                bad += 1
    return bad


def main(argv):
    args, check_lines, pack = [], True, None
    it = iter(argv[1:])
    for a in it:
        if a == "--no-lines":
            check_lines = False
        elif a == "--pack":
            pack = next(it, None)
        else:
            args.append(a)
    if len(args) != 2 or (pack is None and "--pack" in argv):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        fire, nofire = read_truth(args[0])
        firings, skipped = read_firings(args[1], pack_window_ids(pack) if pack else None)
    except (OSError, ValueError) as e:
        print(f"txlog_truth_check: {e}", file=sys.stderr)
        return 2
    bad = compare(fire, nofire, firings, check_lines)
    hit = len(set(fire) & set(firings))
    print(f"txlog truth: {len(fire)} must fire, {len(nofire)} near misses; fired {len(firings)} (rule, key) pairs "
          f"in {sum(len(v) for v in firings.values())} records ({skipped} other records); {hit} expected, "
          f"{bad} difference(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
