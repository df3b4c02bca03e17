#!/bin/bash
# --shard K/N: the shards 1/3, 2/3 and 3/3 of a tree of files are disjoint (no
# input scanned twice) and together give exactly the records and inputs of the
# unsharded run (records compared normalised, without seq, which numbers
# records per run). Also: an invalid --shard is refused with exit status 2.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init "$@"

t="$E2E_TMP/tree"
mkdir -p "$t/d1" "$t/d2"
for i in $(seq 1 24); do
	d=$t/d$((i % 2 + 1))
	{
		echo "file $i line one"
		for j in $(seq 1 $((i % 4))); do echo "hit $j evil.com in file $i"; done
		echo "tail $i"
	} >"$d/f$i.log"
done

cs_scan "$E2E_TMP/all" -e domain:evil.com --threads 2 "$t"
expect_rc "unsharded" 0 "$CS_RC"
ndjson_norm "$E2E_TMP/all/records.ndjson" "" drop-seq >"$E2E_TMP/all.norm"
[ "$(wc -l <"$E2E_TMP/all.norm")" -eq 36 ] || fail "unsharded run: $(wc -l <"$E2E_TMP/all.norm") records, want 36"

: >"$E2E_TMP/union.norm"
: >"$E2E_TMP/inputs"
for k in 1 2 3; do
	cs_scan "$E2E_TMP/s$k" -e domain:evil.com --threads 2 --shard "$k/3" "$t"
	case $CS_RC in 0 | 1) ;; *) fail "shard $k/3: exit status $CS_RC" ;; esac
	ndjson_valid "$E2E_TMP/s$k/records.ndjson" || fail "shard $k: invalid NDJSON"
	ndjson_norm "$E2E_TMP/s$k/records.ndjson" "" drop-seq >>"$E2E_TMP/union.norm"
	summary_get "$E2E_TMP/s$k/summary.json" "'\n'.join(i['path'] for i in s['inputs'])" >>"$E2E_TMP/inputs"
done
sort -o "$E2E_TMP/union.norm" "$E2E_TMP/union.norm"
if ! diff -q "$E2E_TMP/all.norm" "$E2E_TMP/union.norm" >/dev/null; then
	fail "union of the shards differs from the unsharded records:"
	diff "$E2E_TMP/all.norm" "$E2E_TMP/union.norm" | head -5 >&2
fi
sed -i '/^$/d' "$E2E_TMP/inputs"
[ "$(sort "$E2E_TMP/inputs" | uniq -d | wc -l)" -eq 0 ] || fail "shards overlap: $(sort "$E2E_TMP/inputs" | uniq -d | head -3)"
[ "$(sort -u "$E2E_TMP/inputs" | wc -l)" -eq 24 ] || fail "shards cover $(sort -u "$E2E_TMP/inputs" | wc -l) of 24 files"
# The split is meant to spread files: no shard may take them all.
for k in 1 2 3; do
	n=$(summary_get "$E2E_TMP/s$k/summary.json" "len(s['inputs'])")
	[ "$n" -lt 24 ] || fail "shard $k/3 took all 24 files"
done

for bad in 0/3 4/3 1/0 x; do
	"$CS_BIN" scan -q -e domain:evil.com --shard "$bad" --out - "$t" >/dev/null 2>"$E2E_TMP/bad.err"
	expect_rc "--shard $bad" 2 $?
	expect_grep "--shard $bad message" "$E2E_TMP/bad.err" "--shard"
done
finish
