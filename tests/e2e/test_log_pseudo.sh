#!/bin/bash
# --pseudonymise KEYFILE: IP and e-mail addresses in record context become
# "pseud:" + 16 hex of HMAC-SHA256(key, value), computed here independently
# with Python's hmac; the same address gives the same token in every record
# and every run, no raw address is left in records.ndjson, the matched e-mail
# indicator stays, records say how they were minimised and which article of
# the Convention they speak to; --context 0 gives empty context; csam records
# still carry no content; a short key is refused.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init "$@"

dir="$E2E_TMP/in"
mkdir -p "$dir"
key="$dir/pseudo.key"
printf 'cybersieve e2e pseudonymisation key, 48 bytes.\n' >"$key"
short="$dir/short.key"
printf '0123456789abcdef0123456789abcde' >"$short" # 31 bytes

cat >"$dir/scam.pack" <<'EOF'
@name e2e-pseudo
@category scam
@source cybersieve end-to-end tests
@licence CC0-1.0
@tlp amber

mail-1 email payments@evil-bank.example
EOF

log="$dir/mail.log"
{
	echo "Mar  1 10:00:00 mx login from 203.0.113.77 user=alice@mail.example to payments@evil-bank.example ok"
	echo "Mar  1 10:00:05 mx relay 203.0.113.77 for Bob@Corp.Example rcpt payments@evil-bank.example cc payments@evil-bank.example v1.2.3"
	echo "Mar  1 10:00:09 mx peer [2001:db8::42] sent to payments@evil-bank.example at 198.51.100.9."
} >"$log"

cs_scan "$E2E_TMP/out" --rules "$dir/scam.pack" --context 100 --pseudonymise "$key" "$log"
expect_rc "pseudonymised scan" 0 "$CS_RC"
rec="$E2E_TMP/out/records.ndjson"
ndjson_valid "$rec" || fail "records are not valid NDJSON"
for raw in 203.0.113.77 alice@mail.example Bob@Corp.Example bob@corp.example 2001:db8::42 198.51.100.9; do
	if grep -qiF -- "$raw" "$rec"; then
		fail "raw address $raw appears in the records"
	fi
done

python3 - "$rec" "$key" <<'EOF' || fail "pseudonymised records are not as expected"
import hashlib, hmac, json, sys
recs = [json.loads(l) for l in open(sys.argv[1], 'rb') if l.strip()]
key = open(sys.argv[2], 'rb').read()
def tok(v):
    return 'pseud:' + hmac.new(key, v.encode(), hashlib.sha256).hexdigest()[:16]
errs = []
if len(recs) != 3:
    sys.exit('%d records, want 3' % len(recs))
ctx = [r['match']['context']['before'] + '|' + r['match']['context']['after'] for r in recs]
ip = tok('203.0.113.77')
if ip not in ctx[0] or ip not in ctx[1]:
    errs.append('the same IP does not give the same token %s in records 1 and 2: %r' % (ip, ctx[:2]))
for want, i in ((tok('alice@mail.example'), 0), (tok('bob@corp.example'), 1),
                (tok('2001:db8::42'), 2), (tok('198.51.100.9'), 2)):
    if want not in ctx[i]:
        errs.append('record %d: token %s missing from %r' % (i + 1, want, ctx[i]))
# The indicator itself is not third-party data: its other occurrence stays.
if 'cc payments@evil-bank.example' not in recs[1]['match']['context']['after']:
    errs.append('the indicator in context was replaced: %r' % ctx[1])
if 'v1.2.3' not in recs[1]['match']['context']['after']:
    errs.append('a version string was touched: %r' % ctx[1])
key_id = hashlib.sha256(key).hexdigest()[:16]
for r in recs:
    if r['match']['text'].lower() != 'payments@evil-bank.example':
        errs.append('match text changed: %r' % r['match']['text'])
    want = {'pseudonymised': True, 'method': 'HMAC-SHA256/64', 'key_id': key_id}
    if r.get('minimisation') != want:
        errs.append('minimisation %r, want %r' % (r.get('minimisation'), want))
    if r.get('article') != 13 or r.get('tlp') != 'amber':
        errs.append('article %r tlp %r' % (r.get('article'), r.get('tlp')))
    keys = list(r)
    if keys.index('article') != keys.index('legal') + 1:
        errs.append('article does not follow legal: %r' % keys)
for e in errs:
    print('  ' + e, file=sys.stderr)
sys.exit(1 if errs else 0)
EOF

# A second run with the same key gives the same tokens.
cs_scan "$E2E_TMP/out2" --rules "$dir/scam.pack" --context 100 --pseudonymise "$key" "$log"
expect_rc "second run" 0 "$CS_RC"
ctx_of() {
	python3 -c 'import json,sys; [print(json.dumps(json.loads(l)["match"]["context"])) for l in open(sys.argv[1])]' "$1"
}
[ "$(ctx_of "$rec")" = "$(ctx_of "$E2E_TMP/out2/records.ndjson")" ] ||
	fail "the same key gave other tokens in a second run"

# --context 0: empty context strings, still minimised.
cs_scan "$E2E_TMP/out0" --rules "$dir/scam.pack" --context 0 --pseudonymise "$key" "$log"
expect_rc "context 0" 0 "$CS_RC"
python3 - "$E2E_TMP/out0/records.ndjson" <<'EOF' || fail "--context 0 records are not as expected"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1], 'rb') if l.strip()]
bad = [r['match'] for r in recs if r['match']['context'] != {'before': '', 'after': ''}
       or 'minimisation' not in r]
sys.exit('%d records, bad: %r' % (len(recs), bad) if len(recs) != 3 or bad else 0)
EOF

# Without the option nothing is replaced and no minimisation is claimed.
cs_scan "$E2E_TMP/plain" --rules "$dir/scam.pack" --context 100 "$log"
expect_rc "plain scan" 0 "$CS_RC"
expect_grep "plain scan" "$E2E_TMP/plain/records.ndjson" "203.0.113.77"
if grep -q '"minimisation"' "$E2E_TMP/plain/records.ndjson"; then
	fail "minimisation claimed without --pseudonymise"
fi

# csam: still no content, with the art. 14 and the minimisation note.
pack="$CS_SRC/rules/csam-test-hashes.pack"
if [ -f "$pack" ]; then
	printf 'cybersieve csam-pack test file %s\n' 1 >"$dir/f1"
	md5_1=$(md5sum <"$dir/f1" | cut -c1-32)
	echo "upload from 203.0.113.77 SECRETWORD md5=$md5_1 by carol@home.example" >"$dir/up.log"
	cs_scan "$E2E_TMP/csam" --rules "$pack" --context 100 --pseudonymise "$key" "$dir/up.log"
	expect_rc "csam scan" 0 "$CS_RC"
	crec="$E2E_TMP/csam/records.ndjson"
	if grep -qE 'SECRETWORD|203\.0\.113\.77|carol|pseud:' "$crec"; then
		fail "csam record holds content"
	fi
	python3 - "$crec" <<'EOF' || fail "csam record is not as expected"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1], 'rb') if l.strip()]
bad = [r for r in recs if r['match'].get('content_withheld') is not True or 'context' in r['match']
       or 'text' in r['match'] or r.get('article') != 14 or 'minimisation' not in r]
sys.exit('%d records, bad: %r' % (len(recs), bad) if not recs or bad else 0)
EOF
else
	note "no $pack: csam part skipped"
fi

# A key shorter than 32 bytes is refused, before anything is written.
"$CS_BIN" scan -q --out "$E2E_TMP/short" --rules "$dir/scam.pack" --pseudonymise "$short" "$log" \
	2>"$E2E_TMP/short.err"
expect_rc "short key" 2 "$?"
expect_grep "short key" "$E2E_TMP/short.err" "--pseudonymise"
expect_grep "short key" "$E2E_TMP/short.err" "not 31"
[ -e "$E2E_TMP/short/records.ndjson" ] && fail "records written with a refused key"

finish
