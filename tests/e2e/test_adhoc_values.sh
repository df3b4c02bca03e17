#!/bin/bash
# Ad-hoc indicators (-e, -f): a typed value (domain, hash, IBAN) loses spaces
# and tabs at either end, as in a pack, so a list pasted from a spreadsheet
# loads whole; a literal keeps them, as grep -f does; a bad value is skipped
# and named by its -f file and line (or by -e), and the run goes on.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
T=$E2E_TMP

printf 'evil.example \n\tbad.example\t\nnot_a_domain\n   \n' >"$T/list.txt"
printf '  d41d8cd98f00b204e9800998ecf8427e  \n' >"$T/md5.txt"
printf '  wire fee\n' >"$T/lit.txt"
cat >"$T/in.log" <<'LOG'
go to evil.example now
and to bad.example later
empty file d41d8cd98f00b204e9800998ecf8427e here
pay the wire fee today
pay the  wire fee today
LOG
cs_scan "$T/o1" -f domain:"$T/list.txt" -f md5:"$T/md5.txt" -f literal:"$T/lit.txt" \
	-e 'iban: GB82 WEST 1234 5698 7654 32 ' -e 'domain:bad value' -e 'domain:  ' "$T/in.log"
# matches, and some values were skipped
expect_rc "values" 3 "$CS_RC"
got=$(python3 - "$T/o1/records.ndjson" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    print(r['indicator']['type'], r['source']['line'], r['match']['text'])
PY
)
want="domain 1 evil.example
domain 2 bad.example
md5 3 d41d8cd98f00b204e9800998ecf8427e
literal 5   wire fee"
if [ "$got" != "$want" ]; then
	fail "records differ"
	printf '  got:\n%s\n  want:\n%s\n' "$got" "$want" >&2
fi
# Named by file and line (or -e); the blank line and the spaces are no error.
expect_grep "-f error" "$T/o1.err" "$T/list.txt:3: invalid domain 'not_a_domain'"
expect_grep "-e error" "$T/o1.err" "-e: invalid domain 'bad value'"
# A -e of spaces only is an empty value, refused; a blank -f line is passed over.
expect_grep "-e empty" "$T/o1.err" "-e: invalid domain '': empty"
[ "$(grep -c "invalid" "$T/o1.err")" = 3 ] || fail "three errors expected"
# The IBAN given with spaces around it loaded too.
n=$(summary_get "$T/o1/summary.json" "sum(p['indicators'] for p in s['packs'])")
[ "$n" = 5 ] || fail "indicators loaded: $n, expected 5 (2 domains, md5, literal, iban)"
finish
