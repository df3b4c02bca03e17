#!/bin/sh
# The chunk size when --chunk-size is not given: 4 MiB, or 32 MiB when the rules
# hold PDQ hashes (their lookups go in one batch per chunk). Seen from outside
# through the note a line longer than the chunk gives, which names the chunk's
# size; the matches are the same whatever the chunk.
# Usage: test_log_chunk.sh BINARY SOURCE_DIR.
. "$2/tests/e2e/lib.sh"
e2e_init "$1" "$2"

pack=$CS_SRC/tests/e2e/log-pdq/pdq.pack
log=$E2E_TMP/long.log
# A 20 MB line ending in a domain, then a line with a listed PDQ hash.
{
	head -c 20000000 /dev/zero | tr '\0' 'a'
	printf ' evil-chunk.example\n'
	printf 'upload ok pdq=3a37dfe702393e0fa6c8bbc2a299e490bbed2cf3dfc8df07413df4f73ef8c9fc\n'
} >"$log"

# check NAME EXPECTED_NOTE|- ARGS...: scan, then the note (or its absence) and
# the two records.
check() {
	name=$1
	want=$2
	shift 2
	cs_scan "$E2E_TMP/$name" --threads 2 -e domain:evil-chunk.example "$@" "$log"
	expect_rc "$name: scan" 0 "$CS_RC"
	if [ "$want" = - ]; then
		if grep -q 'longer than the' "$E2E_TMP/$name.err"; then
			fail "$name: a 20 MB line said to be longer than the chunk:"
			sed 's/^/    /' "$E2E_TMP/$name.err" >&2
		fi
	else
		expect_grep "$name: chunk size named" "$E2E_TMP/$name.err" \
			"a line longer than the $want-byte chunk"
	fi
	python3 - "$E2E_TMP/$name/records.ndjson" "$@" <<'PY' || fail "$name: records wrong"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
got = sorted((r["indicator"]["type"], r["source"]["line"]) for r in recs)
want = [("domain", 1)]
if "--rules" in sys.argv[2:]:
    want.append(("pdq", 2))
assert got == sorted(want), got
PY
}

check plain 4194304
check pdq - --rules "$pack"
check pdq-set 1048576 --rules "$pack" --chunk-size 1M
check plain-set - --chunk-size 64M
finish
