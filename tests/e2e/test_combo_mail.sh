#!/bin/bash
# Combination rules on real e-mail (SpamAssassin corpus, tests/data/mail):
# a message-scope rule joins parts found on different lines of one message,
# never across two messages of an mbox; NOT keeps a message out; part-only
# indicators (modifier q) write no record of their own; line-scope rules
# need their parts on one line. The evidence verifies.
. "$(dirname "$0")/lib.sh"
e2e_init "$1" "$2"
MAIL=$CS_SRC/tests/data/mail

cat >"$E2E_TMP/money.pack" <<'PACK'
@name mail-money
@category scam
@source e2e test
@licence CC0-1.0
@tlp clear
mm literal/i making money
mil literal/i multi-million dollar
dom domain/q supersitescentral.com
sf domain/q sourceforge.net
m1 combo scope=message (mm | mil) & dom & !sf
l1 combo mm & mil
l2 combo dom & type:literal
PACK

# summary FILE: one line per record: id scope indicator@line...
summary() {
	python3 - "$1" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    ind = r['indicator']['id']
    if 'contributors' in r:
        parts = ' '.join('%s@%d' % (c['indicator'].split('/')[1], c['line'])
                         for c in r['contributors'])
        print(ind, r['scope'], parts)
    else:
        print(ind, 'single', r['source']['line'])
PY
}

# expect_records WHAT OUTDIR EXPECTED-LINES
expect_records() {
	local got
	got=$(summary "$2/records.ndjson")
	if [ "$got" != "$3" ]; then
		fail "$1: records differ"
		printf '  got:\n%s\n  expected:\n%s\n' "$got" "$3" >&2
		return 1
	fi
	"$CS_BIN" verify "$2" >"$2.verify" 2>&1 || fail "$1: verify failed: $(tail -3 "$2.verify")"
}

# 1. Each message a file: only the spam fires, with its three parts at their lines.
cs_scan "$E2E_TMP/o1" --rules "$E2E_TMP/money.pack" "$MAIL/nice-001.eml" "$MAIL/spam-002.eml" \
	"$MAIL/nice-002.eml" "$MAIL/nice-005.eml"
expect_rc "files" 0 "$CS_RC"
expect_records "files" "$E2E_TMP/o1" "mm single 43
mil single 50
m1 message dom@24 mm@43 mil@50"
# The parts name the indicator, its type and the matched text; the input digest is filled in.
python3 - "$E2E_TMP/o1/records.ndjson" "$(sha256sum "$MAIL/spam-002.eml" | cut -d' ' -f1)" <<'PY' || fail "files: contributor fields"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
r = [x for x in recs if x['indicator']['id'] == 'm1'][0]
assert r['indicator']['type'] == 'combo', r['indicator']
c = r['contributors']
assert [x['type'] for x in c] == ['domain', 'literal', 'literal'], c
assert [x['text'] for x in c] == ['www.supersitescentral.com'[4:], 'making money', 'Multi-Million Dollar'], c
assert all(x['sha256'] == sys.argv[2] for x in c), c
assert all(x['path'].endswith('spam-002.eml') for x in c), c
data = open(c[1]['path'], 'rb').read()
assert data[c[1]['offset']:c[1]['offset'] + c[1]['length']] == b'making money', c[1]
PY

# 2. The same messages as one mbox: still one firing, at the spam's lines in the mbox.
mbox=$E2E_TMP/all.mbox
{ cat "$MAIL/nice-001.eml"; echo; cat "$MAIL/spam-002.eml"; echo; echo "From nobody@example.org  Mon Jan  1 00:00:00 2001"; cat "$MAIL/nice-002.eml"; } >"$mbox"
off=$(( $(wc -l <"$MAIL/nice-001.eml") + 1 ))
cs_scan "$E2E_TMP/o2" --rules "$E2E_TMP/money.pack" "$mbox"
expect_rc "mbox" 0 "$CS_RC"
expect_records "mbox" "$E2E_TMP/o2" "mm single $((43 + off))
mil single $((50 + off))
m1 message dom@$((24 + off)) mm@$((43 + off)) mil@$((50 + off))"

# 3. Parts split over two messages of an mbox do not fire; joined in one message they do.
split=$E2E_TMP/split.mbox
printf 'From a@example.org  Mon Jan  1 00:00:00 2001\nSubject: one\n\nstart making money today\n\nFrom b@example.org  Mon Jan  1 00:00:01 2001\nSubject: two\n\nsee www.supersitescentral.com\n' >"$split"
cs_scan "$E2E_TMP/o3" --rules "$E2E_TMP/money.pack" "$split"
expect_rc "split" 0 "$CS_RC"
expect_records "split" "$E2E_TMP/o3" "mm single 4"
# Without the separator's blank line it is one message.
sed '5d' "$split" >"$E2E_TMP/joined.mbox"
cs_scan "$E2E_TMP/o4" --rules "$E2E_TMP/money.pack" "$E2E_TMP/joined.mbox"
expect_records "joined" "$E2E_TMP/o4" "mm single 4
m1 message mm@4 dom@8"

# 4. NOT: the spam's parts plus a sourceforge.net address in the same message: no firing.
{ cat "$MAIL/spam-002.eml"; echo "https://lists.sourceforge.net/lists/listinfo/x"; } >"$E2E_TMP/not.eml"
cs_scan "$E2E_TMP/o5" --rules "$E2E_TMP/money.pack" "$E2E_TMP/not.eml"
expect_records "not" "$E2E_TMP/o5" "mm single 43
mil single 50"

# 5. Line scope: both phrases and the domain with a literal, each on one line.
printf 'x making money with a multi-million dollar plan\nmaking money\nmulti-million dollar\nwww.supersitescentral.com making money\n' >"$E2E_TMP/lines.log"
cs_scan "$E2E_TMP/o6" --rules "$E2E_TMP/money.pack" "$E2E_TMP/lines.log"
# A line's rule record follows its single records. A log is not mail: no message rule.
expect_records "lines" "$E2E_TMP/o6" "mm single 1
mil single 1
l1 line mm@1 mil@1
mm single 2
mil single 3
mm single 4
l2 line dom@4 mm@4"

# 6. A rule in error refuses its whole pack, named with file and line; the other pack still loads.
cat >"$E2E_TMP/bad.pack" <<'PACK'
@name bad
@category scam
@source e2e test
@licence CC0-1.0
@tlp clear
x literal making money
r combo x & nosuch
PACK
cs_scan "$E2E_TMP/o7" --rules "$E2E_TMP/bad.pack" --rules "$E2E_TMP/money.pack" "$MAIL/spam-002.eml"
expect_rc "bad pack" 3 "$CS_RC"
expect_grep "bad pack" "$E2E_TMP/o7.err" "bad.pack:7: combo 'r': unknown indicator 'nosuch'"
expect_records "bad pack" "$E2E_TMP/o7" "mm single 43
mil single 50
m1 message dom@24 mm@43 mil@50"
"$CS_BIN" scan -q --strict --out "$E2E_TMP/o8" --rules "$E2E_TMP/bad.pack" "$MAIL/spam-002.eml" 2>"$E2E_TMP/o8.err"
expect_rc "strict" 2 "$?"
expect_grep "strict" "$E2E_TMP/o8.err" "unknown indicator 'nosuch'"

# 7. Mailboxes written with CRLF, and separators at any slot boundary: the
# parts of two messages never join. 300 messages, each with its own part,
# read in 4 KiB slots so that boundaries fall everywhere.
cat >"$E2E_TMP/two.pack" <<'PACK'
@name two
@category scam
@source e2e test
@licence CC0-1.0
@tlp clear
a literal/q ALPHA
b literal/q BRAVO
m1 combo scope=message a & b
PACK
printf 'From a@example.org  Mon Jan  1 00:00:00 2001\r\nSubject: one\r\n\r\nALPHA\r\n\r\nFrom b@example.org  Mon Jan  1 00:00:01 2001\r\nSubject: two\r\n\r\nBRAVO\r\n' >"$E2E_TMP/crlf.mbox"
cs_scan "$E2E_TMP/o9" --rules "$E2E_TMP/two.pack" "$E2E_TMP/crlf.mbox"
expect_rc "crlf" 1 "$CS_RC"
python3 - "$E2E_TMP/many.mbox" <<'PY'
import sys
with open(sys.argv[1], 'w') as f:
    for i in range(300):
        f.write('From m%d@example.org  Mon Jan  1 00:00:00 2001\nSubject: %d\n\n' % (i, i))
        f.write('x' * (i * 7 % 97) + '\n')
        f.write(('ALPHA' if i % 2 == 0 else 'BRAVO') + '\n\n')
PY
"$CS_BIN" scan -q --chunk-size 4096 --rules "$E2E_TMP/two.pack" --out "$E2E_TMP/o10" "$E2E_TMP/many.mbox" 2>"$E2E_TMP/o10.err"
expect_rc "slot boundaries" 1 "$?"
# A message whose first header is written in lower case, or is not the usual
# first one, is still mail.
printf 'Return-path: <x@example.org>\nDKIM-Signature: v=1\n\nALPHA and BRAVO\n' >"$E2E_TMP/lc.eml"
printf 'DKIM-Signature: v=1; a=rsa-sha256;\n d=example.org\n\nALPHA\nBRAVO\n' >"$E2E_TMP/dkim.eml"
cs_scan "$E2E_TMP/o11" --rules "$E2E_TMP/two.pack" "$E2E_TMP/lc.eml" "$E2E_TMP/dkim.eml"
expect_rc "headers" 0 "$CS_RC"
[ "$(grep -c '"id":"m1"' "$E2E_TMP/o11/records.ndjson")" = 2 ] || fail "headers: two message firings expected"

# 8. A pack whose regex the pattern engine refuses is dropped whole: its
# addresses, hashes and rules write nothing.
cat >"$E2E_TMP/refused.pack" <<'PACK'
@name refused
@category scam
@source e2e test
@licence CC0-1.0
@tlp clear
r1 regex (?:a.{10}){1000}z
i1 ip 203.0.113.7
c1 combo i1 & r1
PACK
printf 'from 203.0.113.7 ALPHA BRAVO\n' >"$E2E_TMP/ip.log"
cs_scan "$E2E_TMP/o12" --rules "$E2E_TMP/refused.pack" --rules "$E2E_TMP/two.pack" "$E2E_TMP/ip.log"
expect_rc "engine refusal" 4 "$CS_RC"
expect_grep "engine refusal" "$E2E_TMP/o12.err" "refused.pack:6"
grep -q '"name":"refused"' "$E2E_TMP/o12/records.ndjson" && fail "engine refusal: the refused pack wrote records"

# 8b. A mail server log: a message's lines share its queue id and are
# interleaved with other messages' lines; message rules join the parts of
# one queue id only.
cat >"$E2E_TMP/mq.pack" <<'PACK'
@name mq
@category scam
@source e2e test
@licence CC0-1.0
@tlp clear
ph literal/iq double your bitcoin
dm domain/q cheap-giveaway.example
m1 combo scope=message ph & dm
PACK
cat >"$E2E_TMP/maillog" <<'LOG'
Oct  1 08:00:10 mx1 postfix/smtpd[1522]: 79D28F42D4: client=mail.example.net[198.51.100.23]
Oct  1 08:00:10 mx1 postfix/smtpd[1522]: 5A1B2C3D4E: client=mail.example.org[198.51.100.24]
Oct  1 08:00:11 mx1 postfix/cleanup[4350]: 79D28F42D4: warning: header Subject: Double your Bitcoin today from mail.example.net[198.51.100.23]
Oct  1 08:00:11 mx1 postfix/cleanup[4350]: 5A1B2C3D4E: warning: header Subject: double your bitcoin? no. from mail.example.org[198.51.100.24]
Oct  1 08:00:12 mx1 postfix/qmgr[812]: 5A1B2C3D4E: from=<news@example.org>, size=2001, nrcpt=1 (queue active)
Oct  1 08:00:12 mx1 postfix/qmgr[812]: 79D28F42D4: from=<win@cheap-giveaway.example>, size=6978, nrcpt=1 (queue active)
Oct  1 08:00:13 mx1 dovecot: imap-login: user=<win@cheap-giveaway.example> double your bitcoin
LOG
cs_scan "$E2E_TMP/o14" --rules "$E2E_TMP/mq.pack" "$E2E_TMP/maillog"
expect_rc "mail log" 0 "$CS_RC"
got=$(summary "$E2E_TMP/o14/records.ndjson")
want="m1 message ph@3 dm@6"
[ "$got" = "$want" ] || { fail "mail log: records differ"; printf '  got:\n%s\n  expected:\n%s\n' "$got" "$want" >&2; }
"$CS_BIN" verify "$E2E_TMP/o14" >/dev/null 2>&1 || fail "mail log: verify"

# 9. Rules cite packs by name: a second pack of a name already loaded is refused.
printf '@name dup\n@category scam\n@source t\n@licence CC0-1.0\n@tlp clear\nx literal FOO\n' >"$E2E_TMP/d1.pack"
printf '@name dup\n@category scam\n@source t\n@licence CC0-1.0\n@tlp clear\nx literal BAR\ny literal BAZ\nc combo x & y\n' >"$E2E_TMP/d2.pack"
echo "FOO BAZ BAR" >"$E2E_TMP/d.log"
cs_scan "$E2E_TMP/o13" --rules "$E2E_TMP/d1.pack" --rules "$E2E_TMP/d2.pack" "$E2E_TMP/d.log"
expect_rc "same name" 3 "$CS_RC"
expect_grep "same name" "$E2E_TMP/o13.err" "pack name 'dup' is already used by"
[ "$(wc -l <"$E2E_TMP/o13/records.ndjson")" = 1 ] || fail "same name: only d1's FOO expected"
finish
