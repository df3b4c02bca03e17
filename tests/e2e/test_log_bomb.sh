#!/bin/sh
# A gzip bomb of one 300 MB line (300 MB of 'a', 1.3 MB compressed) with an
# indicator at its very end: scanned to the end in pieces, the indicator found,
# the line counted as split, and memory bounded by the caps (--max-line and the
# chunk ring), not by the size of the line.
# Usage: test_log_bomb.sh BINARY SOURCE_DIR. Needs /usr/bin/time (Debian: time).
. "$2/tests/e2e/lib.sh"
e2e_init "$1" "$2"
if [ ! -x /usr/bin/time ]; then
	echo "SKIP: /usr/bin/time not found (Debian package time)" >&2
	exit 77
fi
trap 'rm -rf "$E2E_TMP"' EXIT

{ head -c 300000000 /dev/zero | tr '\0' 'a'; printf ' evil-bomb.example\n'; } | gzip -1 >"$E2E_TMP/bomb.gz"
/usr/bin/time -f '%M' -o "$E2E_TMP/rss" "$CS_BIN" scan -q --threads 2 --max-line 16M \
	-e domain:evil-bomb.example --out "$E2E_TMP/ev" "$E2E_TMP/bomb.gz" 2>"$E2E_TMP/err"
expect_rc "scan of the bomb" 0 $?
expect_grep "split line said" "$E2E_TMP/err" "scanned in overlapping pieces"
python3 - "$E2E_TMP/ev" <<'PY' || fail "summary or records wrong"
import json, sys
d = sys.argv[1]
s = json.load(open(d + "/summary.json"))
i = s["inputs"][0]
assert i["status"] == "complete", i
assert i["bytes"] == 300000000 + len(" evil-bomb.example\n"), i["bytes"]
assert i["lines"] == 1 and i["lines_split"] == 1, i
recs = [json.loads(l) for l in open(d + "/records.ndjson")]
assert len(recs) == 1, recs
r = recs[0]
assert r["source"]["line"] == 1 and r["source"]["offset"] == 300000001, r["source"]
assert r["match"]["text"] == "evil-bomb.example" and r["match"]["line_split"] is True
PY
rss=$(cat "$E2E_TMP/rss")
# 4 MiB chunks (the default) in a ring of threads + 4 slots, a line buffer of
# at most --max-line, plus the database: far below the 300 MB the line would
# need if it were held whole.
# ThreadSanitizer's shadow memory is several times what the program touches,
# so under it the bound is left to the plain and AddressSanitizer builds.
if [ -z "${CS_TEST_TSAN:-}" ]; then
	[ "$rss" -lt 250000 ] || fail "peak RSS ${rss} KiB: memory follows the line, not the caps"
fi
note "peak RSS ${rss} KiB for a 300 MB line"
finish
