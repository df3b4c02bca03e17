#!/bin/bash
# The shipped rules/scam-combos.pack: each scam family's rule fires on a
# crafted message or log written for this test, and the near misses (the
# script without the means of payment or contact, a log that is not mail)
# do not; on the real mail and web logs in tests/data nothing fires.
. "$(dirname "$0")/lib.sh"
e2e_init "$1" "$2"
PACK=$CS_SRC/rules/scam-combos.pack
D=$E2E_TMP/in
mkdir -p "$D"

cat >"$D/inv.eml" <<'MSG'
From: "Anna" <anna@example.net>
Subject: opportunity

Our fund pays guaranteed returns every week.
Send your deposit to 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2 today.
MSG
cat >"$D/inv-line.log" <<'LOG'
2026-03-01T10:00:00Z chat msg="3% daily returns, pay to 0xde0B295669a9FD93d5F28D9Ec85E40f4cb697BAe"
2026-03-01T10:00:01Z chat msg="guaranteed profits for all members"
2026-03-01T10:00:02Z chat msg="pay to 0xde0B295669a9FD93d5F28D9Ec85E40f4cb697BAe"
LOG
cat >"$D/rom.eml" <<'MSG'
From: "Lin" <lin@example.net>
Subject: good morning

Good morning my dear, I hope you slept well.
My uncle taught me how to read the market; we use a crypto trading platform called Apex.
You only pay the withdrawal fee to withdraw your profit. Add me on WhatsApp.
MSG
cat >"$D/tech.log" <<'LOG'
2026-03-01T10:00:00Z popup text="WARNING: your computer is infected! Call Microsoft Support at +1 (888) 555-0199 now"
2026-03-01T10:00:05Z popup text="Do not shut down your computer; install AnyDesk"
2026-03-01T10:00:09Z page text="Microsoft Support: updates for your device, call 1-888-555-0100"
LOG
cat >"$D/afee.eml" <<'MSG'
From: "Barrister James" <j@example.org>
Subject: URGENT: your inheritance

I write to inform you that you are the beneficiary of an unclaimed estate.
The sum of USD 10,500,000.00 will be released to you upon payment of the
transfer fee through Western Union.
MSG
# Near misses: the script without the rest.
cat >"$D/miss-inv.eml" <<'MSG'
From: "Ops" <ops@example.org>
Subject: quarterly report

The fund did not offer guaranteed returns this quarter.
Next meeting on Telegram as usual. My dear colleagues, thanks.
MSG
cat >"$D/miss-afee.eml" <<'MSG'
From: "Notary" <n@example.org>
Subject: estate

You are named beneficiary; the estate is worth USD 1,200,000.00 in total.
MSG
# A log is not a message: parts on different lines of a log do not join.
cat >"$D/miss-rom.log" <<'LOG'
2026-03-01T10:00:00Z note="my uncle taught me chess"
2026-03-01T10:00:01Z note="the trading platform is down"
LOG

"$CS_BIN" scan -q --rules "$PACK" --out "$E2E_TMP/o" "$D" 2>"$E2E_TMP/o.err"
expect_rc "crafted" 0 "$?"
got=$(python3 - "$E2E_TMP/o/records.ndjson" <<'PY'
import json, os, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    assert r['indicator']['type'] == 'combo', r
    c = r['contributors']
    print(r['indicator']['id'], os.path.basename(c[0]['path']),
          ','.join('%s@%d' % (x['indicator'].split('/')[1], x['line']) for x in c))
PY
)
want="sc-afee-0001 afee.eml sc-p-afee1@2,sc-p-afee2@5,sc-p-afee3@6,sc-p-afee4@6
sc-inv-0001 inv-line.log sc-p-inv4@1,sc-p-eth@1
sc-inv-0002 inv.eml sc-p-inv1@4,sc-p-btc@5
sc-rom-0001 rom.eml sc-p-rom2@4,sc-p-rom1@5,sc-p-rom3@5,sc-p-rom4@6,sc-p-wa@6
sc-rom-0002 rom.eml sc-p-rom1@5,sc-p-rom3@5
sc-tech-0001 tech.log sc-p-tech1@1,sc-p-tech2@1,sc-p-phone@1
sc-tech-0001 tech.log sc-p-tech3@2,sc-p-remote@2"
if [ "$got" != "$want" ]; then
	fail "crafted: firings differ"
	printf '  got:\n%s\n  expected:\n%s\n' "$got" "$want" >&2
fi
"$CS_BIN" verify "$E2E_TMP/o" >/dev/null 2>&1 || fail "crafted: verify failed"

# Real mail and web logs: nothing fires.
"$CS_BIN" scan -q --rules "$PACK" --out "$E2E_TMP/r" "$CS_SRC/tests/data/mail" \
	"$CS_SRC/tests/data/apache_logs" 2>"$E2E_TMP/r.err"
expect_rc "real data" 1 "$?"
[ -s "$E2E_TMP/r/records.ndjson" ] && fail "real data: records written: $(head -c 400 "$E2E_TMP/r/records.ndjson")"
finish
