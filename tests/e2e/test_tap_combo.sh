#!/bin/sh
# Combination rules over flows in live capture: arkime_synthetic.pcap is
# replayed onto a veth pair and `cybersieve tap` listens on the inner end with
# flow and flow-dir rules (see test_pcap_combo.sh for what the capture holds).
# A rule record is written when its flow ends, from the live interface; then
# the pack gains a rule and the tap gets SIGHUP: the new rule fires on the
# next replay (other addresses: new flows) and never before the reload record.
# Checks: parts' fields and directions, NOT keeping a flow out, flow-dir
# against flow, quiet parts writing nothing, the summary's rule count, verify.
# Usage: test_tap_combo.sh BINARY SOURCE_DIR. Needs root, ip netns, tcpreplay,
# tcprewrite.
. "$2/tests/e2e/lib.sh"
e2e_init "$1" "$2"

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: live capture test needs root (network namespace, veth, raw capture)" >&2
	exit 77
fi
for tool in ip tcpreplay tcprewrite; do
	if ! command -v $tool >/dev/null 2>&1; then
		echo "SKIP: $tool not found (install iproute2 / tcpreplay)" >&2
		exit 77
	fi
done

PCAP=$CS_SRC/tests/data/pcap/arkime_synthetic.pcap
NS=cscmb$$
OUTER=cscmo$$
INNER=cscmi$$
cleanup() {
	[ -n "$TAP_PID" ] && kill -9 "$TAP_PID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	ip link del "$OUTER" 2>/dev/null
	rm -rf "$E2E_TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

veth_netns "$NS" "$OUTER" "$INNER"
tcprewrite --seed=2 -i "$PCAP" -o "$E2E_TMP/replay2.pcap" 2>/dev/null ||
	{ fail "tcprewrite --seed=2 failed"; finish; }

PACK=$E2E_TMP/flows.pack
OUT=$E2E_TMP/ev
REC=$OUT/records.ndjson
LOG=$E2E_TMP/tap.log
pack_v1() {
	printf '%s\n' '@name live-rules' '@category scam' '@source cybersieve e2e test' \
		'@licence CC0-1.0' '@tlp clear' \
		'h-ca domain/q ca.example.com' \
		'u-rqxt url/q http://ca.example.com/certsrv/certrqxt.asp' \
		'u-root url http://ca.example.com/certsrv/' \
		'iis literal/q Microsoft-IIS' \
		'unauth literal/q 401 Unauthorized' \
		'r-and combo scope=flow h-ca & u-rqxt' \
		'r-dirnot combo scope=flow-dir u-root & !iis' \
		'r-flownot combo scope=flow u-root & !iis'
}

replay() {
	tcpreplay -i "$OUTER" --pps=3000 "$1" >"$E2E_TMP/replay.out" 2>&1 ||
		fail "tcpreplay $1: $(cat "$E2E_TMP/replay.out")"
}

# wait_for WHAT PYTHON-CONDITION over `recs` (at most 20 s).
wait_for() {
	_i=0
	while ! python3 - "$REC" "$2" <<'EOF' 2>/dev/null; do
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.endswith('\n')]
def rule(i):
    return [r for r in recs if r.get('indicator', {}).get('id') == i]
def ev(status):
    return [r for r in recs if r.get('event', {}).get('status') == status]
sys.exit(0 if eval(sys.argv[2]) else 1)
EOF
		_i=$((_i + 1))
		if [ $_i -gt 200 ] || ! kill -0 $TAP_PID 2>/dev/null; then
			fail "waiting for $1: not seen"
			sed 's/^/    /' "$LOG" >&2
			return 1
		fi
		sleep 0.1
	done
}

pack_v1 >"$PACK"
ip netns exec "$NS" "$CS_BIN" tap -i "$INNER" --rules "$PACK" --threads 2 \
	--stats-interval 0 --out "$OUT" 2>"$LOG" &
TAP_PID=$!
wait_tap "$LOG" $TAP_PID || finish

# 1. The first rules: records as the flows end (FIN), before the tap stops.
replay "$PCAP"
wait_for "the flow rules' records" "rule('r-and') and rule('r-dirnot')" || finish

# 2. A rule more, on SIGHUP; then the traffic again from other addresses.
{ pack_v1; echo 'r-not combo scope=flow u-rqxt & iis & !unauth'; } >"$PACK"
kill -HUP $TAP_PID
wait_for "the reload record" "ev('applied')" || finish
replay "$E2E_TMP/replay2.pcap"
wait_for "the new rule's record" "rule('r-not') and len(rule('r-and')) == 2" || finish
kill -TERM $TAP_PID
wait $TAP_PID
expect_rc "tap stopped by SIGTERM" 0 $? || sed 's/^/    /' "$LOG" >&2
TAP_PID=

python3 - "$OUT" "$INNER" <<'EOF' || fail "records or summary"
import json, sys
out, iface = sys.argv[1], sys.argv[2]
recs = [json.loads(l) for l in open(out + '/records.ndjson')]
assert [r['seq'] for r in recs] == list(range(1, len(recs) + 1)), 'seq not 1..n'
reload_seq = [r['seq'] for r in recs if r.get('event', {}).get('status') == 'applied'][0]
ids = [r['indicator']['id'] for r in recs if 'indicator' in r]
# Quiet parts write nothing; r-flownot never holds (IIS answers in the flow).
assert sorted(set(ids)) == ['r-and', 'r-dirnot', 'r-not', 'u-root'], sorted(set(ids))
assert ids.count('r-and') == 2 and ids.count('r-dirnot') == 2 and ids.count('u-root') == 2, ids
def parts(r):
    return [(c['indicator'].split('/')[1], c['field'], c['direction']) for c in r['contributors']]
for r in recs:
    if 'contributors' not in r:
        continue
    for c in r['contributors']:
        assert c['kind'] == 'live' and c['interface'] == iface and c['sha256'] is None, c
        assert 0 < c['packet_first'] <= c['packet_last'], c
    i = r['indicator']['id']
    if i == 'r-and':
        assert r['scope'] == 'flow' and 'direction' not in r['flow'], r
        assert parts(r) == [('h-ca', 'http.host', 'to_server'),
                            ('u-rqxt', 'http.url', 'to_server')], parts(r)
        assert r['contributors'][0]['packet_last'] == r['contributors'][1]['packet_last'], r
    elif i == 'r-dirnot':
        assert r['scope'] == 'flow-dir' and r['flow']['direction'] == 'to_server', r
        assert parts(r) == [('u-root', 'http.url', 'to_server')], parts(r)
    elif i == 'r-not':
        assert r['seq'] > reload_seq, (r['seq'], reload_seq)
        assert parts(r) == [('u-rqxt', 'http.url', 'to_server'),
                            ('iis', 'payload', 'to_client')], parts(r)
        assert r['flow']['dest_port'] == 80, r['flow']
s = json.load(open(out + '/summary.json'))
assert s['rule_records'] == 5, s['rule_records']
assert s['rules_held_partial'] == 0 and s['rule_parts_dropped'] == 0, s
assert s['matches'] == 7 and s['capture']['dropped'] == 0, (s['matches'], s['capture'])
EOF
"$CS_BIN" verify "$OUT" >"$E2E_TMP/verify.out" 2>&1 || fail "verify: $(tail -3 "$E2E_TMP/verify.out")"
finish
