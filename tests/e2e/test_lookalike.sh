#!/bin/bash
# Lookalike brands (rules/scam-brands.pack and a test pack): on the real web
# log and mail of tests/data the shipped pack flags exactly one host, a
# typosquat of google.com in a search referrer; crafted lines give each kind
# (homoglyph, IDN homograph, edit, hyphen, TLD, combination) with what the
# record says of it, and nothing for the brands' own domains, file names,
# path segments, reverse-DNS identifiers and dotted names in code, whose last
# word is no TLD (Microsoft.XMLHTTP); in a capture the TLS server
# name is judged. The evidence verifies.
. "$(dirname "$0")/lib.sh"
e2e_init "$1" "$2"
T=$E2E_TMP
PACK=$CS_SRC/rules/scam-brands.pack

# summary FILE: id line-or-field text kind distance brand label
summary() {
	python3 - "$1" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    m = r['match']
    lk = m['lookalike']
    where = r['field'] if 'field' in r else r['source']['line']
    print(r['indicator']['id'], where, m['text'], lk['kind'], lk['distance'], lk['brand'], lk['label'])
PY
}

# 1. Real logs: one host only.
cs_scan "$T/o1" --rules "$PACK" "$CS_SRC/tests/data/apache_logs" "$CS_SRC/tests/data/mail"
expect_rc "real logs" 0 "$CS_RC"
got=$(summary "$T/o1/records.ndjson")
[ "$got" = "br-0004 2552 wwwgoogle.com combo 0 google wwwgoogle" ] || fail "real logs: got: $got"
"$CS_BIN" verify "$T/o1" >/dev/null 2>&1 || fail "real logs: verify"

# 2. Crafted lines: each kind, and what must not be flagged.
cat >"$T/c.log" <<'LOG'
GET http://paypa1.com/login HTTP/1.1
GET http://xn--pypal-4ve.com/ HTTP/1.1
mail from billing@paypal-secure-login.com
see https://micros0ft-support.net/fix and paypall.com
redirect to https://paypal.com.account-check.net/
https://www.paypal.com/ https://login.microsoftonline.com/ www.google.co.in google.de
GET /images/paypal-logo.png /x/paypa1.com com.apple.finder apple-touch-icon.png
u=http%3A%2F%2Fwww.google.com%2Furl
o = new ActiveXObject("Microsoft.XMLHTTP"); DXImageTransform.Microsoft.gradient google.hs.init
LOG
printf 'host=p\xd0\xb0ypal.com\n' >>"$T/c.log"
cs_scan "$T/o2" --rules "$PACK" "$T/c.log"
expect_rc "crafted" 0 "$CS_RC"
got=$(summary "$T/o2/records.ndjson")
want="br-0001 1 paypa1.com homoglyph 0 paypal paypa1
br-0001 2 xn--pypal-4ve.com homoglyph 0 paypal pаypal
br-0001 3 paypal-secure-login.com hyphen 0 paypal paypal-secure-login
br-0002 4 micros0ft-support.net hyphen 0 microsoft micros0ft-support
br-0001 4 paypall.com edit 1 paypal paypall
br-0001 5 paypal.com.account-check.net tld 0 paypal paypal
br-0001 10 pаypal.com homoglyph 0 paypal pаypal"
[ "$got" = "$want" ] || { fail "crafted: records differ"; printf '  got:\n%s\n  expected:\n%s\n' "$got" "$want" >&2; }

# 3. A capture: the TLS server name google.de is the brand with another TLD,
# unless the brand holds its name under every suffix (tld=own).
cat >"$T/g.pack" <<'PACK2'
@name g
@category scam
@source e2e test
@licence CC0-1.0
@tlp clear
g1 lookalike google.com gstatic.com googleapis.com
PACK2
cs_scan "$T/o3" --rules "$T/g.pack" "$CS_SRC/tests/e2e/pcap/chrome-34-google.pcap"
expect_rc "capture" 0 "$CS_RC"
got=$(summary "$T/o3/records.ndjson")
[ "$got" = "g1 tls.sni google.de tld 0 google google" ] || fail "capture: got: $got"
"$CS_BIN" verify "$T/o3" >/dev/null 2>&1 || fail "capture: verify"
cs_scan "$T/o4" --rules "$PACK" "$CS_SRC/tests/e2e/pcap/chrome-34-google.pcap"
expect_rc "capture, tld=own" 1 "$CS_RC"

# 4. A bad brand refuses its pack at file:line.
printf '@name b\n@category scam\n@source t\n@licence CC0-1.0\n@tlp clear\nb1 lookalike paypal.com distance=9\n' >"$T/b.pack"
cs_scan "$T/o5" --rules "$T/b.pack" --rules "$PACK" "$T/c.log"
expect_rc "bad brand" 3 "$CS_RC"
expect_grep "bad brand" "$T/o5.err" "b.pack:6:"
finish
