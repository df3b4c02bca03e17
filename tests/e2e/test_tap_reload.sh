#!/bin/sh
# SIGHUP reloads a live tap's packs while it captures. A pack is loaded, traffic
# replayed; the pack is rewritten (one indicator removed, one added) and the tap
# gets SIGHUP; once the reload is in the evidence, the traffic is replayed again
# (with other addresses, so the flows are new); then the pack is broken, SIGHUP
# again, a third replay, SIGTERM. Checks: records of the removed indicator only
# before the reload record, of the added one only after; the reload record with
# both packs' digests; the failed reload recorded with the pack's file:line and
# the rules kept; the manifest's rule sets; no packet dropped; verify passes.
# Run with one worker (the reading thread switches itself) and with two.
# Traffic goes onto a veth pair in a network namespace made here.
# Usage: test_tap_reload.sh BINARY SOURCE_DIR. Needs root, ip netns, tcpreplay,
# tcprewrite.
. "$2/tests/e2e/lib.sh"
e2e_init "$1" "$2"

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: live capture test needs root (network namespace, veth, raw capture)" >&2
	exit 77
fi
for tool in ip tcpreplay tcprewrite sha256sum; do
	if ! command -v $tool >/dev/null 2>&1; then
		echo "SKIP: $tool not found (install iproute2 / tcpreplay)" >&2
		exit 77
	fi
done

PCAP=$CS_SRC/tests/data/pcap/arkime_synthetic.pcap
NS=csrld$$
OUTER=csrlo$$
INNER=csrli$$
cleanup() {
	[ -n "$TAP_PID" ] && kill -9 "$TAP_PID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	ip link del "$OUTER" 2>/dev/null
	rm -rf "$E2E_TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

veth_netns "$NS" "$OUTER" "$INNER"

# The same traffic from other addresses: new flows, not retransmissions of
# flows the tap may still hold.
for seed in 2 3; do
	tcprewrite --seed=$seed -i "$PCAP" -o "$E2E_TMP/replay$seed.pcap" 2>/dev/null ||
		{ fail "tcprewrite --seed=$seed failed"; finish; }
done

# Names in the capture (tests/data/pcap/README.md, arkime_synthetic): an HTTP
# Host (ws.split.test), a DNS query (xn--nxasmq5b.com), and SSH algorithm names
# in payloads (openssh.com).
PACK=$E2E_TMP/unit.pack
pack_head() {
	printf '%s\n' '@name reload-test' '@category scam' '@source cybersieve e2e test' \
		'@licence CC0-1.0' '@tlp clear'
}

# replay FILE: send a capture onto the outer end.
replay() {
	tcpreplay -i "$OUTER" --pps=3000 "$1" >"$E2E_TMP/replay.out" 2>&1 ||
		fail "tcpreplay $1: $(cat "$E2E_TMP/replay.out")"
}

# wait_for WHAT PYTHON-CONDITION: poll the records (at most 20 s) until the
# condition over `recs` (the parsed records, in order) holds.
wait_for() {
	_i=0
	while ! python3 - "$REC" "$2" <<'EOF' 2>/dev/null; do
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.endswith('\n')]
def ind(v):
    return [r for r in recs if r.get('indicator', {}).get('value') == v]
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

# reload_case THREADS: the whole sequence with that many workers, into its own folder.
reload_case() {
	OUT=$E2E_TMP/ev$1
	LOG=$E2E_TMP/tap$1.log
	REC=$OUT/records.ndjson
	{ pack_head; echo 'old-1 domain ws.split.test'; echo 'both-1 domain xn--nxasmq5b.com'; } >"$PACK"
	SHA1=$(sha256sum "$PACK" | cut -c1-64)
	ip netns exec "$NS" "$CS_BIN" tap -i "$INNER" --rules "$PACK" --threads "$1" \
		--stats-interval 0 --out "$OUT" 2>"$LOG" &
	TAP_PID=$!
	wait_tap "$LOG" $TAP_PID || return 1
	note "--threads $1"

	# 1. The first pack: the indicator it alone has is found.
	replay "$PCAP"
	wait_for "records of the first pack" "ind('ws.split.test') and ind('xn--nxasmq5b.com')" || return 1

	# 2. Rewrite the pack: old-1 goes, new-1 comes; SIGHUP; wait for the record.
	{ pack_head; echo 'both-1 domain xn--nxasmq5b.com'; echo 'new-1 literal openssh.com'; } >"$PACK"
	SHA2=$(sha256sum "$PACK" | cut -c1-64)
	kill -HUP $TAP_PID
	wait_for "the reload record" "ev('applied')" || return 1
	replay "$E2E_TMP/replay2.pcap"
	wait_for "records of the second pack" \
		"ind('openssh.com') and len(ind('xn--nxasmq5b.com')) >= 2" || return 1

	# 3. A broken pack (line 8: unknown type), which would also add edge.test:
	# the reload fails, is recorded, and the second pack stays in force.
	{ pack_head; echo 'both-1 domain xn--nxasmq5b.com'; echo 'new-2 domain edge.test'; echo 'bad-1 nosuchtype x'; } >"$PACK"
	kill -HUP $TAP_PID
	wait_for "the failed reload record" "ev('failed')" || return 1
	replay "$E2E_TMP/replay3.pcap"
	wait_for "records after the failed reload" \
		"[r for r in ind('openssh.com') if r['seq'] > ev('failed')[0]['seq']]" || return 1

	kill -TERM $TAP_PID
	wait $TAP_PID
	rc=$?
	TAP_PID=
	# Matches, and a pack was refused (by the failed reload): 3.
	expect_rc "tap stopped by SIGTERM after a failed reload" 3 $rc || sed 's/^/    /' "$LOG" >&2

	grep -q "unit.pack:8" "$LOG" || fail "the failed reload's file:line is not on stderr: $(cat "$LOG")"
	grep -q "reload failed" "$LOG" || fail "no 'reload failed' message: $(cat "$LOG")"
	grep -q "rules reloaded" "$LOG" || fail "no 'rules reloaded' message: $(cat "$LOG")"

	python3 - "$OUT" "$SHA1" "$SHA2" <<'EOF' || fail "records, manifest or summary"
import json, sys
out, sha1, sha2 = sys.argv[1:4]
recs = [json.loads(l) for l in open(out + '/records.ndjson')]
errs = []
seqs = [r['seq'] for r in recs]
if seqs != list(range(1, len(recs) + 1)):
    errs.append('records not numbered 1..%d in file order' % len(recs))
events = [r for r in recs if 'event' in r]
if [e['event']['status'] for e in events] != ['applied', 'failed']:
    errs.append('events: %s' % [e['event'] for e in events])
else:
    ok, bad = events
    s_ok, s_bad = ok['seq'], bad['seq']
    eo = ok['event']
    if eo['type'] != 'rules_reload' or eo['reason'] is not None or not eo['ready']:
        errs.append('applied record: %s' % eo)
    if [p['sha256'] for p in eo['rules_before']['packs']] != [sha1]:
        errs.append('applied: rules_before %s, want %s' % (eo['rules_before'], sha1))
    if [p['sha256'] for p in eo['rules_after']['packs']] != [sha2]:
        errs.append('applied: rules_after %s, want %s' % (eo['rules_after'], sha2))
    if eo['rules_before']['indicators'] != 2 or eo['rules_after']['indicators'] != 2:
        errs.append('applied: indicator counts %d -> %d' % (eo['rules_before']['indicators'],
                                                         eo['rules_after']['indicators']))
    eb = bad['event']
    if eb['rules_after'] is not None or 'unit.pack:8' not in (eb['reason'] or ''):
        errs.append('failed record: %s' % eb)
    if [p['sha256'] for p in eb['rules_before']['packs']] != [sha2]:
        errs.append('failed: rules kept %s, want %s' % (eb['rules_before'], sha2))
    if 'category' in json.dumps(ok) or 'category' in json.dumps(bad):
        errs.append('an event record has a category key')
    def of(v):
        return [r for r in recs if r.get('indicator', {}).get('value') == v]
    old, new, both = of('ws.split.test'), of('openssh.com'), of('xn--nxasmq5b.com')
    if not old or any(r['seq'] > s_ok for r in old):
        errs.append('ws.split.test (first pack only) at seqs %s, reload at %d' %
                    ([r['seq'] for r in old], s_ok))
    if not new or any(r['seq'] < s_ok for r in new):
        errs.append('openssh.com (second pack only) at seqs %s, reload at %d' %
                    ([r['seq'] for r in new], s_ok))
    if not [r for r in new if r['seq'] > s_bad]:
        errs.append('openssh.com not matched after the failed reload')
    if of('edge.test'):
        errs.append('edge.test (only in the broken pack) matched')
    if not [r for r in both if r['seq'] < s_ok] or not [r for r in both if r['seq'] > s_ok]:
        errs.append('xn--nxasmq5b.com (both packs) not matched on both sides of the reload')
    for r in recs:
        if 'indicator' in r:
            want = sha1 if r['seq'] < s_ok else sha2
            if r['indicator']['pack']['sha256'] != want:
                errs.append('record %d names pack %s' % (r['seq'], r['indicator']['pack']['sha256']))
                break
m = json.load(open(out + '/manifest.json'))
sets = m.get('rule_sets', [])
if [[p['sha256'] for p in s['packs']] for s in sets] != [[sha1], [sha2]]:
    errs.append('manifest rule_sets: %s' % sets)
elif not sets[0]['from'] or sets[0]['until'] != sets[1]['from'] or sets[1]['until'] is not None:
    errs.append('manifest rule_sets times: %s' % sets)
elif events and sets[1]['from'] != events[0]['time']:
    errs.append('rule set 2 from %s, reload record at %s' % (sets[1]['from'], events[0]['time']))
if sorted(p['sha256'] for p in m['packs']) != sorted([sha1, sha2]):
    errs.append('manifest packs: %s' % m['packs'])
s = json.load(open(out + '/summary.json'))
if s['reloads'] != {'applied': 1, 'failed': 1}:
    errs.append('summary reloads: %s' % s['reloads'])
if s['capture']['dropped'] != 0 or s['stopped_by'] != 'SIGTERM':
    errs.append('summary: dropped %d, stopped by %s' % (s['capture']['dropped'], s['stopped_by']))
if [p['sha256'] for p in s['packs']] != [sha2] or s['indicators'] != 2:
    errs.append('summary: packs in force at the end %s' % s['packs'])
for e in errs:
    print('  ' + e, file=sys.stderr)
sys.exit(1 if errs else 0)
EOF

	# The chain holds with the reload records in it, and exports pass over them.
	"$CS_BIN" verify "$OUT" >"$E2E_TMP/verify.out" 2>&1
	expect_rc "verify after reloads" 0 $? || sed 's/^/    /' "$E2E_TMP/verify.out" >&2
	"$CS_BIN" export --format eve -o "$E2E_TMP/eve.json" "$OUT" 2>"$E2E_TMP/eve.err"
	expect_rc "eve export after reloads" 0 $? || cat "$E2E_TMP/eve.err" >&2
	matches=$(grep -vc '"event":' "$REC")
	[ "$(wc -l <"$E2E_TMP/eve.json")" = "$matches" ] ||
		fail "eve export: $(wc -l <"$E2E_TMP/eve.json") alerts for $matches match records"
}

for threads in 1 2; do
	reload_case $threads
	[ -n "$TAP_PID" ] && kill -9 "$TAP_PID" 2>/dev/null && wait "$TAP_PID"
	TAP_PID=
done

finish
