#!/bin/bash
# csam category: records carry the indicator, the hash and the location, never
# content bytes (no match text, no context; content_withheld true), TLP red and
# the art. 14 heading. Uses rules/csam-test-hashes.pack, whose values are the
# digests of three files this script writes (see the pack header); the digests
# are computed here with md5sum/sha1sum/sha256sum, not copied.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init "$@"

pack="$CS_SRC/rules/csam-test-hashes.pack"
[ -f "$pack" ] || { echo "SKIP: $pack not found" >&2; exit 77; }

files="$E2E_TMP/files"
mkdir -p "$files"
for n in 1 2 3; do
	printf 'cybersieve csam-pack test file %s\n' "$n" >"$files/$n"
done
md5_1=$(md5sum <"$files/1" | cut -c1-32)
sha1_2=$(sha1sum <"$files/2" | cut -c1-40)
sha256_3=$(sha256sum <"$files/3" | cut -c1-64)
sha256_1=$(sha256sum <"$files/1" | cut -c1-64)
for h in "$md5_1" "$sha1_2" "$sha256_3" "$sha256_1"; do
	grep -q " $h\$" "$pack" || fail "digest $h of a test file is not in $pack"
done

# A log that quotes the digests next to words that must never reach a record.
log="$E2E_TMP/upload.log"
{
	echo "2025-03-01T10:00:00Z upload SECRETWORD-A md5=$md5_1 name=SECRETNAME-A.jpg"
	echo "2025-03-01T10:00:01Z nothing here"
	echo "2025-03-01T10:00:02Z upload sha1=$(echo "$sha1_2" | tr a-f A-F) SECRETWORD-B"
	echo "2025-03-01T10:00:03Z SECRETWORD-C $sha256_3 $sha256_1 SECRETWORD-D"
	echo "2025-03-01T10:00:04Z not a hit: 0$md5_1 SECRETWORD-E"
} >"$log"

cs_scan "$E2E_TMP/out" --rules "$pack" --context 64 "$log"
expect_rc "csam scan" 0 "$CS_RC"
rec="$E2E_TMP/out/records.ndjson"
ndjson_valid "$rec" || fail "records are not valid NDJSON"
if grep -q SECRET "$rec"; then
	fail "content bytes of the log line appear in csam records:"
	grep -o '.\{0,40\}SECRET.\{0,40\}' "$rec" | head -5 >&2
fi

python3 - "$rec" "$log" <<'EOF' || fail "csam records are not as expected"
import json, sys
data = open(sys.argv[2], 'rb').read()
recs = [json.loads(l) for l in open(sys.argv[1], 'rb') if l.strip()]
errs = []
got = set()
for r in recs:
    m, s, ind = r['match'], r['source'], r['indicator']
    got.add((ind['id'], s['line']))
    if m.get('content_withheld') is not True:
        errs.append('%s: content_withheld not true' % ind['id'])
    for k in ('text', 'text_b64', 'context'):
        if k in m:
            errs.append('%s: match.%s present' % (ind['id'], k))
    if ind['category'] != 'csam' or r['tlp'] != 'red':
        errs.append('%s: category %s tlp %s' % (ind['id'], ind['category'], r['tlp']))
    if not (r.get('legal') or '').find('art. 14') >= 0:
        errs.append('%s: legal %r does not cite art. 14' % (ind['id'], r.get('legal')))
    # The location must still be exact: the hash is at the offset, any case.
    hexv = data[s['offset']:s['offset'] + m['length']].decode().lower()
    if hexv != ind['value']:
        errs.append('%s: offset %d holds %r, not the value' % (ind['id'], s['offset'], hexv))
    if data.count(b'\n', 0, s['offset']) + 1 != s['line']:
        errs.append('%s: line %d does not hold offset %d' % (ind['id'], s['line'], s['offset']))
want = {('csam-test-md5-1', 1), ('csam-test-sha1-2', 3), ('csam-test-sha256-3', 4),
        ('csam-test-sha256-1', 4)}
if got != want:
    errs.append('records %s, want %s' % (sorted(got), sorted(want)))
for e in errs:
    print('  ' + e, file=sys.stderr)
sys.exit(1 if errs else 0)
EOF

summary="$E2E_TMP/out/summary.json"
[ "$(summary_get "$summary" "s['matches_by_category'].get('csam')")" = 4 ] ||
	fail "summary matches_by_category.csam is not 4"
[ "$(summary_get "$summary" "s['packs'][0]['tlp']")" = red ] || fail "pack tlp is not red"
finish
