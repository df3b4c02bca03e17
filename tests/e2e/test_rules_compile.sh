#!/bin/bash
# cybersieve rules compile: packs saved compiled, then given to scan as
# --rules FILE. The records equal those of the packs loaded directly (the
# shipped packs plus 400 domains, which go to the suffix set); a damaged or
# truncated file is refused with a message; a pack changed since compiling
# makes scan rebuild from the packs (with a message) and write the file
# again; when a changed file's packs are gone it is refused.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init "$@"

dir="$E2E_TMP/in"
mkdir -p "$dir/packs"
cp "$CS_SRC"/rules/*.pack "$dir/packs/"
{
	printf '@name e2e-many-domains\n@category scam\n@source cybersieve end-to-end tests\n'
	printf '@licence CC0-1.0\n@tlp clear\n'
	for i in $(seq 1 400); do printf 'md-%d domain host%d.e2e-scale.example\n' "$i" "$i"; done
} >"$dir/packs/zz-domains.pack"
logs="$CS_SRC/samples/logs"
printf 'GET http://cdn.host7.e2e-scale.example/a\nhost70.e2e-scale.example.org\n' >"$dir/extra.log"

"$CS_BIN" rules compile "$dir/packs" -o "$dir/r.csdb" 2>"$E2E_TMP/compile.err"
expect_rc "rules compile" 0 $?
expect_grep "compile message" "$E2E_TMP/compile.err" "$dir/r.csdb: "
[ -s "$dir/r.csdb" ] || fail "no compiled file written"

cs_scan "$E2E_TMP/direct" --rules "$dir/packs" "$logs" "$dir/extra.log"
expect_rc "scan with packs" 0 "$CS_RC"
cs_scan "$E2E_TMP/saved" --rules "$dir/r.csdb" "$logs" "$dir/extra.log"
expect_rc "scan with the compiled file" 0 "$CS_RC"
ndjson_norm "$E2E_TMP/direct/records.ndjson" "" drop-seq | sort >"$E2E_TMP/a"
ndjson_norm "$E2E_TMP/saved/records.ndjson" "" drop-seq | sort >"$E2E_TMP/b"
n=$(wc -l <"$E2E_TMP/a")
[ "$n" -ge 10 ] || fail "only $n records from the packs"
cmp -s "$E2E_TMP/a" "$E2E_TMP/b" || fail "records differ between packs and compiled file"
grep -q '"id": "md-7"' "$E2E_TMP/b" || fail "the suffix-set domain md-7 was not found"
grep -q '"id": "md-70"' "$E2E_TMP/b" && fail "md-70 matched inside host70.e2e-scale.example.org"
[ ! -s "$E2E_TMP/saved.err" ] || { fail "messages loading a fitting file:"; cat "$E2E_TMP/saved.err" >&2; }
# The summary names the packs as compiled, digests included.
python3 - "$E2E_TMP/direct/summary.json" "$E2E_TMP/saved/summary.json" <<'PY' || fail "summary packs differ"
import json, sys
a, b = (json.load(open(p))["packs"] for p in sys.argv[1:3])
assert [(p["name"], p["sha256"], p["indicators"]) for p in a] == \
       [(p["name"], p["sha256"], p["indicators"]) for p in b], (a, b)
PY

# Damaged: one byte changed; truncated.
size=$(stat -c %s "$dir/r.csdb")
cp "$dir/r.csdb" "$dir/bad.csdb"
printf 'X' | dd of="$dir/bad.csdb" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
cs_scan "$E2E_TMP/bad" --strict --rules "$dir/bad.csdb" "$dir/extra.log"
expect_rc "damaged file, --strict" 2 "$CS_RC"
expect_grep "damaged message" "$E2E_TMP/bad.err" "compiled rules file refused: the SHA-256 of the body"
head -c $((size - 100)) "$dir/r.csdb" >"$dir/short.csdb"
cs_scan "$E2E_TMP/short" --rules "$dir/short.csdb" -e domain:host7.e2e-scale.example "$dir/extra.log"
expect_rc "truncated file, other rules" 3 "$CS_RC"
expect_grep "truncated message" "$E2E_TMP/short.err" "compiled rules file refused: truncated"

# A pack changed since: rebuilt from the packs, and the file written again.
echo 'md-401 domain host401.e2e-scale.example' >>"$dir/packs/zz-domains.pack"
printf 'x host401.e2e-scale.example\n' >>"$dir/extra.log"
cs_scan "$E2E_TMP/stale" --rules "$dir/r.csdb" "$dir/extra.log"
expect_rc "changed pack" 0 "$CS_RC"
expect_grep "rebuild message" "$E2E_TMP/stale.err" "zz-domains.pack has changed since the file was compiled; rebuilding from its $(ls "$dir"/packs/*.pack | wc -l) packs"
expect_grep "rewrite message" "$E2E_TMP/stale.err" "$dir/r.csdb: written again for this machine"
grep -q "\"id\":\"md-401\"" "$E2E_TMP/stale/records.ndjson" || fail "the new indicator md-401 was not found"
cs_scan "$E2E_TMP/again" --rules "$dir/r.csdb" "$dir/extra.log"
expect_rc "rewritten file" 0 "$CS_RC"
[ ! -s "$E2E_TMP/again.err" ] || { fail "the rewritten file did not fit:"; cat "$E2E_TMP/again.err" >&2; }
grep -q "\"id\":\"md-401\"" "$E2E_TMP/again/records.ndjson" || fail "md-401 not in the rewritten file"

# Changed again, and the packs gone: refused.
echo 'md-402 domain host402.e2e-scale.example' >>"$dir/packs/zz-domains.pack"
mv "$dir/packs/scam-urls.pack" "$dir/gone.pack"
cs_scan "$E2E_TMP/gone" --strict --rules "$dir/r.csdb" "$dir/extra.log"
expect_rc "changed and packs gone" 2 "$CS_RC"
expect_grep "gone message" "$E2E_TMP/gone.err" "scam-urls.pack is not available to rebuild from"

# An imported feed keeps its format and refused count through a compiled file.
feed=$CS_SRC/tests/e2e/log-feed-refused
"$CS_BIN" rules compile "$feed/feed.intel" -o "$dir/feed.csdb" 2>"$E2E_TMP/feedc.err" ||
	fail "compile of a feed: $(cat "$E2E_TMP/feedc.err")"
cs_scan "$E2E_TMP/feed" --rules "$dir/feed.csdb" "$feed/input.log"
expect_rc "compiled feed" 0 "$CS_RC"
python3 - "$E2E_TMP/feed/summary.json" <<'PY' || fail "compiled feed: format or refused lost"
import json, sys
p = json.load(open(sys.argv[1]))['packs']
assert len(p) == 1 and p[0]['format'] == 'Zeek intel' and p[0]['refused'] == 1, p
PY
finish
