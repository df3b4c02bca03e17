#!/bin/bash
# Combination rules over flows on real captures (tests/data/pcap/README.md,
# tests/e2e/pcap/README.md): arkime_synthetic.pcap holds many short HTTP
# flows to ca.example.com (one per URL; flow 0 asks /certsrv/ and gets
# "401 Unauthorized", flow 3 asks /certsrv/certrqxt.asp from 10.0.1.5 and
# gets 200; every answer names Microsoft-IIS) and other.example.com; get.pcap
# one HTTP flow to bro.org answered by Apache; chrome-34-google.pcap a TLS
# hello for google.de; pcapng-multi-interface.pcapng three DNS queries to
# 1.1.1.1 (apple.com, then google.com twice), each its own flow.
# Checks: scope=flow joins parts of both directions; scope=flow-dir only
# parts of one direction; NOT keeps a flow out; parts in two flows never
# fire; part-only indicators write no record; line rules stay with text;
# each part names its field, direction, packets and the capture's digest;
# the records do not depend on the thread count; the evidence verifies; a
# rule with an unknown scope refuses its pack.
. "$(dirname "$0")/lib.sh"
e2e_init "$1" "$2"
P=$CS_SRC/tests/e2e/pcap
D=$CS_SRC/tests/data/pcap
CAPS="$D/arkime_synthetic.pcap $P/get.pcap $P/chrome-34-google.pcap $D/pcapng-multi-interface.pcapng"

cat >"$E2E_TMP/flows.pack" <<'PACK'
@name pcap-rules
@category scam
@source e2e test
@licence CC0-1.0
@tlp clear
h-ca domain/q ca.example.com
h-other domain/q other.example.com
u-rqxt url/q http://ca.example.com/certsrv/certrqxt.asp
u-root url http://ca.example.com/certsrv/
iis literal/q Microsoft-IIS
unauth literal/q 401 Unauthorized
src ip/q 10.0.1.5
h-bro domain/q bro.org
u-bro url/q http://bro.org/download/CHANGES.bro-aux.txt
apache literal/q Apache/2.4.3
sni domain/q google.de
q-apple domain/q apple.com
q-google domain/q google.com
resolver ip/q 1.1.1.1
r-and combo scope=flow h-ca & u-rqxt & src
r-cross combo scope=flow h-other & u-root
r-not combo scope=flow (u-rqxt | u-root) & iis & !unauth
r-dirnot combo scope=flow-dir u-root & !iis
r-flownot combo scope=flow u-root & !iis
r-dir combo scope=flow-dir h-ca & iis
r-bro combo scope=flow h-bro & u-bro & apache
r-sni combo scope=flow-dir sni & !h-bro
r-dns combo scope=flow q-apple & q-google
r-res combo scope=flow-dir q-google & resolver
r-line combo h-ca & u-rqxt
PACK

# summary FILE: one line per record: id, scope or field, flow direction,
# then every part as id:field:direction:first-last, and the capture's name.
summary() {
	python3 - "$1" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    ind = r['indicator']['id']
    if 'contributors' in r:
        c = r['contributors']
        if 'packet_first' not in c[0]:
            print(ind, r['scope'], ' '.join('%s@%d' % (x['indicator'].split('/')[1], x['line'])
                                            for x in c))
            continue
        parts = ' '.join('%s:%s:%s:%d-%d' % (x['indicator'].split('/')[1], x['field'],
                                            x['direction'], x['packet_first'], x['packet_last'])
                         for x in c)
        print(ind, r['scope'], r['flow'].get('direction', '-'), parts, c[0]['path'].split('/')[-1])
    elif r['source']['kind'] == 'log':
        print(ind, 'single', r['source']['line'])
    else:
        print(ind, r['field'], r['source']['packet_first'], r['source']['packet_last'])
PY
}

WANT="u-root http.url 4 4
r-dirnot flow-dir to_server u-root:http.url:to_server:4-4 arkime_synthetic.pcap
r-and flow - src:ip.src:to_server:34-34 h-ca:http.host:to_server:37-37 u-rqxt:http.url:to_server:37-37 arkime_synthetic.pcap
r-not flow - u-rqxt:http.url:to_server:37-37 iis:payload:to_client:39-39 arkime_synthetic.pcap
r-bro flow - h-bro:http.host:to_server:4-4 u-bro:http.url:to_server:4-4 apache:payload:to_client:6-6 get.pcap
r-sni flow-dir to_server sni:tls.sni:to_server:4-4 chrome-34-google.pcap
r-sni flow-dir to_client sni:payload:to_client:6-6 chrome-34-google.pcap
r-res flow-dir to_server resolver:ip.dst:to_server:3-3 q-google:dns.query:to_server:3-3 pcapng-multi-interface.pcapng
r-res flow-dir to_server resolver:ip.dst:to_server:5-5 q-google:dns.query:to_server:5-5 pcapng-multi-interface.pcapng"

# 1. The rules over the captures, with one worker and with three: the same records.
for t in 1 3; do
	# shellcheck disable=SC2086
	cs_scan "$E2E_TMP/o$t" --threads $t --rules "$E2E_TMP/flows.pack" $CAPS
	expect_rc "threads $t" 0 "$CS_RC"
	got=$(summary "$E2E_TMP/o$t/records.ndjson")
	if [ "$got" != "$WANT" ]; then
		fail "threads $t: records differ"
		printf '  got:\n%s\n  expected:\n%s\n' "$got" "$WANT" >&2
	fi
	"$CS_BIN" verify "$E2E_TMP/o$t" >"$E2E_TMP/v$t" 2>&1 || fail "threads $t: verify: $(tail -3 "$E2E_TMP/v$t")"
done
cmp -s <(sed 's/"time_detected":"[^"]*"//; s/"prev":"[^"]*"//; s/"record_id":"[^"]*"//; s/"run_id":"[^"]*"//' "$E2E_TMP/o1/records.ndjson") \
	<(sed 's/"time_detected":"[^"]*"//; s/"prev":"[^"]*"//; s/"record_id":"[^"]*"//; s/"run_id":"[^"]*"//' "$E2E_TMP/o3/records.ndjson") ||
	fail "records with 1 and 3 threads differ beyond times and ids"

# 2. What a rule's record holds: the flow as opened (with its direction for
# flow-dir only), each part's capture, digest, packets, times, field,
# direction, text, and the stream offset for payload parts.
python3 - "$E2E_TMP/o1/records.ndjson" "$E2E_TMP/o1/summary.json" <<'PY' || fail "record fields"
import base64, hashlib, ipaddress, json, struct, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
def cid(f):
    s, d = ipaddress.ip_address(f['src_ip']).packed, ipaddress.ip_address(f['dest_ip']).packed
    sp, dp = f['src_port'], f['dest_port']
    proto = {'TCP': 6, 'UDP': 17}[f['proto']]
    if (s, sp) > (d, dp):
        s, d, sp, dp = d, s, dp, sp
    h = hashlib.sha1(struct.pack('!H', 0) + s + d + bytes([proto, 0]) + struct.pack('!HH', sp, dp))
    return '1:' + base64.b64encode(h.digest()).decode()
rules = [r for r in recs if 'contributors' in r]
assert len(rules) == 8, len(rules)
for r in rules:
    assert r['indicator']['type'] == 'combo', r['indicator']
    assert list(r)[:12] == ['prev', 'record_id', 'run_id', 'seq', 'time_detected', 'tool',
                            'indicator', 'legal', 'article', 'tlp', 'scope', 'flow'], list(r)
    f = r['flow']
    assert f['community_id'] == cid(f), f
    assert ('direction' in f) == (r['scope'] == 'flow-dir'), (r['scope'], f)
    for c in r['contributors']:
        assert c['kind'] == 'capture', c
        assert c['sha256'] == hashlib.sha256(open(c['path'], 'rb').read()).hexdigest(), c
        assert c['ts_first'].endswith('Z') and c['ts_first'] <= c['ts_last'], c
        assert ('offset' in c) == (c['field'] == 'payload'), c
        assert 'line' not in c and 'gzip' not in c, c
rand = [r for r in rules if r['indicator']['id'] == 'r-and'][0]
assert rand['flow']['src_ip'] == '10.0.1.5' and rand['flow']['dest_port'] == 80, rand['flow']
assert [c['text'] for c in rand['contributors']] == [
    '10.0.1.5', 'ca.example.com', 'http://ca.example.com/certsrv/certrqxt.asp'], rand
assert [c['type'] for c in rand['contributors']] == ['ip', 'domain', 'url'], rand
bro = [r for r in rules if r['indicator']['id'] == 'r-bro'][0]
apache = bro['contributors'][2]
assert apache['text'] == 'Apache/2.4.3' and apache['length'] == 12, apache
# The answer's head starts the to_client stream: "Server: " is on its third line.
assert apache['offset'] == len('HTTP/1.1 200 OK\r\nDate: Thu, 07 Mar 2013 21:43:07 GMT\r\nServer: '), apache
s = json.load(open(sys.argv[2]))
assert s["rule_records"] == 8 and s["matches"] == 9, (s["rule_records"], s["matches"])
PY

# 3. Line rules belong to text: the same pack over a log line holding the host
# and the URL fires r-line; the flow rules never fire on text.
printf 'fetch http://ca.example.com/certsrv/certrqxt.asp from ca.example.com\n' >"$E2E_TMP/proxy.log"
cs_scan "$E2E_TMP/o4" --rules "$E2E_TMP/flows.pack" "$E2E_TMP/proxy.log" "$P/get.pcap"
expect_rc "log and capture" 0 "$CS_RC"
got=$(summary "$E2E_TMP/o4/records.ndjson")
want="r-line line u-rqxt@1 h-ca@1
r-bro flow - h-bro:http.host:to_server:4-4 u-bro:http.url:to_server:4-4 apache:payload:to_client:6-6 get.pcap"
[ "$got" = "$want" ] || { fail "log and capture: records differ"; printf '  got:\n%s\n  expected:\n%s\n' "$got" "$want" >&2; }
"$CS_BIN" verify "$E2E_TMP/o4" >"$E2E_TMP/v4" 2>&1 || fail "log and capture: verify: $(tail -3 "$E2E_TMP/v4")"

# 4. Without the rules' parts being quiet, every part writes its own record too.
sed 's#^\([a-z-]*\) \(domain\|url\|literal\|ip\)/q #\1 \2 #' "$E2E_TMP/flows.pack" >"$E2E_TMP/loud.pack"
cs_scan "$E2E_TMP/o5" --rules "$E2E_TMP/loud.pack" "$P/get.pcap"
got=$(summary "$E2E_TMP/o5/records.ndjson")
want="h-bro http.host 4 4
u-bro http.url 4 4
apache payload 6 6
r-bro flow - h-bro:http.host:to_server:4-4 u-bro:http.url:to_server:4-4 apache:payload:to_client:6-6 get.pcap"
[ "$got" = "$want" ] || { fail "parts not quiet: records differ"; printf '  got:\n%s\n  expected:\n%s\n' "$got" "$want" >&2; }

# 5. A rule of quiet parts alone, with no address indicator in the pack: its
# record still names the flow (addresses, ports, Community ID), though no
# record of the flow was written before it.
grep -v ' ip/q \|^r-' "$E2E_TMP/flows.pack" >"$E2E_TMP/quiet.pack"
echo 'r-bro combo scope=flow h-bro & u-bro & apache' >>"$E2E_TMP/quiet.pack"
cs_scan "$E2E_TMP/o7" --rules "$E2E_TMP/quiet.pack" "$P/get.pcap"
expect_rc "quiet parts" 0 "$CS_RC"
python3 - "$E2E_TMP/o7/records.ndjson" <<'PY' || fail "quiet parts: the rule's flow"
import base64, hashlib, ipaddress, json, struct, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert [r['indicator']['id'] for r in recs] == ['r-bro'], recs
f = recs[0]['flow']
s, d = ipaddress.ip_address(f['src_ip']).packed, ipaddress.ip_address(f['dest_ip']).packed
sp, dp = f['src_port'], f['dest_port']
assert dp == 80 and sp > 0, f
if (s, sp) > (d, dp):
    s, d, sp, dp = d, s, dp, sp
h = hashlib.sha1(struct.pack('!H', 0) + s + d + bytes([6, 0]) + struct.pack('!HH', sp, dp))
assert f['community_id'] == '1:' + base64.b64encode(h.digest()).decode(), f
PY

# 6. A rule with an unknown scope refuses its pack, named at file:line.
printf '@name bad\n@category scam\n@source e2e test\n@licence CC0-1.0\n@tlp clear\nb domain bro.org\nr combo scope=flows b\n' >"$E2E_TMP/bad.pack"
cs_scan "$E2E_TMP/o6" --rules "$E2E_TMP/bad.pack" --rules "$E2E_TMP/flows.pack" "$P/get.pcap"
expect_rc "bad scope" 3 "$CS_RC"
expect_grep "bad scope" "$E2E_TMP/o6.err" "bad.pack:7: combo 'r': unknown scope (line, message, flow or flow-dir)"
got=$(summary "$E2E_TMP/o6/records.ndjson")
want="r-bro flow - h-bro:http.host:to_server:4-4 u-bro:http.url:to_server:4-4 apache:payload:to_client:6-6 get.pcap"
[ "$got" = "$want" ] || { fail "bad scope: records differ"; printf '  got:\n%s\n' "$got" >&2; }
finish
