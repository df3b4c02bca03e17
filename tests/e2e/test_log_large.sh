#!/bin/sh
# Inputs past 8 MiB are read and hashed ahead by a helper thread, which may
# finish hashing (and so know the digest) long before the scan reaches the end;
# from then on the input's records are written as they come. Whichever way a
# record left, it carries the SHA-256 of the whole file, at the line grep
# finds; the first input (opened while the indicators compile) and a later
# one, plain and gzip, one and two workers; the folder verifies.
# Usage: test_log_large.sh BINARY SOURCE_DIR.
. "$2/tests/e2e/lib.sh"
e2e_init "$1" "$2"

log=$E2E_TMP/big.log
# About 40 MB of varied lines (so the gzip copy passes 8 MiB too), with a
# planted phrase on lines 1, every 37,813th line and the last one.
python3 - "$log" <<'PY'
import random, sys
rnd = random.Random(7)
words = ["alpha", "GET", "/index.html", "200", "mail", "from=<a@b.example>", "dns",
         "query", "ok", "transfer", "amount=12.50", "EUR", "proxy", "TCP_MISS"]
n = 300000
with open(sys.argv[1], "w") as f:
    for i in range(1, n + 1):
        parts = [rnd.choice(words) for _ in range(12)]
        parts.append("%016x" % rnd.getrandbits(64))
        if i == 1 or i % 37813 == 0 or i == n:
            parts.insert(rnd.randrange(len(parts)), "pay the release fee now")
        f.write(" ".join(parts) + "\n")
PY
gzip -1 -c "$log" >"$log.gz"
size=$(wc -c <"$log.gz")
[ "$size" -gt 8388608 ] || fail "the gzip copy is only $size bytes: not past 8 MiB"
grep -n -F 'pay the release fee now' "$log" | cut -d: -f1 >"$E2E_TMP/want.lines"
[ "$(wc -l <"$E2E_TMP/want.lines")" -eq 9 ] || fail "planted lines: $(wc -l <"$E2E_TMP/want.lines")"
sum_log=$(sha256sum "$log" | cut -d' ' -f1)
sum_gz=$(sha256sum "$log.gz" | cut -d' ' -f1)

for t in 1 2; do
	for order in plain-first gz-first; do
		name=t$t-$order
		if [ "$order" = plain-first ]; then
			set -- "$log" "$log.gz"
		else
			set -- "$log.gz" "$log"
		fi
		cs_scan "$E2E_TMP/$name" --threads "$t" -e 'literal:pay the release fee now' "$@"
		expect_rc "$name: scan" 0 "$CS_RC"
		python3 - "$E2E_TMP/$name/records.ndjson" "$E2E_TMP/want.lines" \
			"$log" "$sum_log" "$log.gz" "$sum_gz" <<'PY' || fail "$name: records wrong"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
want = [int(x) for x in open(sys.argv[2]).read().split()]
sums = {sys.argv[3]: sys.argv[4], sys.argv[5]: sys.argv[6]}
for path, digest in sums.items():
    mine = [r for r in recs if r["source"]["path"] == path]
    lines = sorted(r["source"]["line"] for r in mine)
    assert lines == want, (path, lines)
    bad = [r["source"]["sha256"] for r in mine if r["source"]["sha256"] != digest]
    assert not bad, (path, bad[:2])
PY
		"$CS_BIN" verify "$E2E_TMP/$name" >"$E2E_TMP/$name.verify" 2>&1 ||
			fail "$name: verify: $(tail -3 "$E2E_TMP/$name.verify")"
	done
done
finish
