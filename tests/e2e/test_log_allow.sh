#!/bin/bash
# --allow FILE: MISP warning-lists drop known false positives from every pack
# before matching. A scam pack that lists a real bank's domain (1822direkt.com,
# on the bank-website warning-list) and a private address (10.1.2.3, inside
# rfc1918) next to two true indicators: with the lists only the true ones
# match, the count is printed and written to summary.json. A list that does
# not load stops the run.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
FEEDS="$CS_SRC/tests/data/feeds"

dir="$E2E_TMP/in"
mkdir -p "$dir"
cat >"$dir/scam.pack" <<'PACK'
@name e2e-allow
@category scam
@source cybersieve end-to-end tests
@licence CC0-1.0
@tlp clear

bank-1 domain 1822direkt.com
evil-1 domain evil-refund.example
priv-1 ip 10.1.2.3
c2-1 ip 198.51.100.7
PACK
cat >"$dir/in.log" <<'LOG'
GET https://www.1822direkt.com/login
GET http://evil-refund.example/claim
conn 10.1.2.3 -> 198.51.100.7:443
LOG

cs_scan "$E2E_TMP/plain" --rules "$dir/scam.pack" "$dir/in.log"
expect_rc "scan without --allow" 0 "$CS_RC"
[ "$(summary_get "$E2E_TMP/plain/summary.json" "s['matches']")" = 4 ] ||
	fail "without --allow: expected 4 matches"
[ "$(summary_get "$E2E_TMP/plain/summary.json" "s['indicators_suppressed']")" = 0 ] ||
	fail "without --allow: indicators_suppressed should be 0"

cs_scan "$E2E_TMP/allow" --allow "$FEEDS/bank-website.json" --allow "$FEEDS/rfc1918.json" \
	--rules "$dir/scam.pack" "$dir/in.log"
expect_rc "scan with --allow" 0 "$CS_RC"
S="$E2E_TMP/allow/summary.json"
[ "$(summary_get "$S" "s['indicators_suppressed']")" = 2 ] ||
	fail "with --allow: indicators_suppressed $(summary_get "$S" "s['indicators_suppressed']"), expected 2"
[ "$(summary_get "$S" "s['matches']")" = 2 ] || fail "with --allow: expected 2 matches"
[ "$(summary_get "$S" "s['packs'][0]['indicators']")" = 2 ] ||
	fail "with --allow: the pack should keep 2 indicators"
ids=$(python3 -c 'import json,sys; print(" ".join(sorted(json.loads(l)["indicator"]["id"] for l in open(sys.argv[1]))))' \
	"$E2E_TMP/allow/records.ndjson")
[ "$ids" = "c2-1 evil-1" ] || fail "with --allow: records of '$ids', expected 'c2-1 evil-1'"
expect_grep "stderr" "$E2E_TMP/allow.err" \
	"cybersieve: 2 indicators suppressed by allow-lists ($FEEDS/bank-website.json, $FEEDS/rfc1918.json)"

# A list that does not load is fatal: nothing is scanned.
echo '{"name": "broken", "list": [' >"$dir/broken.json"
cs_scan "$E2E_TMP/broken" --allow "$dir/broken.json" --rules "$dir/scam.pack" "$dir/in.log"
expect_rc "scan with a broken --allow" 2 "$CS_RC"
expect_grep "stderr" "$E2E_TMP/broken.err" "--allow: $dir/broken.json"
[ ! -e "$E2E_TMP/broken/records.ndjson" ] || fail "broken --allow: records were written"

finish
