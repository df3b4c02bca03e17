#!/bin/sh
# Live capture for real: a veth pair whose one end sits in a network namespace
# made here; a known capture is replayed onto the outer end with tcpreplay and
# `cybersieve tap` listens on the inner end. Checks the records, the
# received/dropped counters, the stop on SIGTERM and on --duration, the drop
# to --user nobody (read from /proc while it runs) and the refusals.
# Usage: test_tap_live.sh BINARY SOURCE_DIR. Needs root, ip netns, tcpreplay.
. "$2/tests/e2e/lib.sh"
e2e_init "$1" "$2"

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: live capture test needs root (network namespace, veth, raw capture)" >&2
	exit 77
fi
for tool in ip tcpreplay; do
	if ! command -v $tool >/dev/null 2>&1; then
		echo "SKIP: $tool not found (install iproute2 / tcpreplay)" >&2
		exit 77
	fi
done

PCAP=$CS_SRC/tests/data/pcap/arkime_synthetic.pcap
NS=cstap$$
OUTER=csto$$
INNER=csti$$
cleanup() {
	ip netns del "$NS" 2>/dev/null
	ip link del "$OUTER" 2>/dev/null
	chmod -R u+rwx "$E2E_TMP" 2>/dev/null
	rm -rf "$E2E_TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

veth_netns "$NS" "$OUTER" "$INNER"
ip netns exec "$NS" ip link set lo up

# Names known to be in the capture (tests/data/pcap/README.md, arkime_synthetic):
# an HTTP Host and a DNS query.
RULES="-e domain:ws.split.test -e domain:xn--nxasmq5b.com"

# start_tap LOG ARGS...: run tap inside the namespace in the background; TAP_PID
# is the tap process itself (ip netns exec execs it).
start_tap() {
	log=$1
	shift
	ip netns exec "$NS" "$CS_BIN" tap -i "$INNER" $RULES --threads 2 "$@" 2>"$log" &
	TAP_PID=$!
	wait_tap "$log" $TAP_PID
}

# replay: send the capture onto the outer end; prints the packets sent.
replay() {
	tcpreplay -i "$OUTER" --pps=3000 "$PCAP" >"$E2E_TMP/replay.out" 2>&1 ||
		{ fail "tcpreplay: $(cat "$E2E_TMP/replay.out")"; return 1; }
	sed -n 's/.*Successful packets: *\([0-9]*\).*/\1/p' "$E2E_TMP/replay.out"
}

# check_records DIR IFACE: live records of both names, from the right interface.
check_records() {
	python3 - "$1/records.ndjson" "$2" <<'EOF' || return 1
import json, sys
path, iface = sys.argv[1], sys.argv[2]
recs = [json.loads(l) for l in open(path)]
bad = [r for r in recs if r["source"]["kind"] != "live" or r["source"]["interface"] != iface
       or r["source"]["sha256"] is not None]
if bad:
    sys.exit("records not from live capture on %s: %s" % (iface, bad[0]["source"]))
seen = {(r["indicator"]["value"], r["field"]) for r in recs}
for want in [("ws.split.test", "http.host"), ("xn--nxasmq5b.com", "dns.query")]:
    if want not in seen:
        sys.exit("no record for %s in %s (have %s)" % (want[0], want[1], sorted(seen)))
seqs = [r["seq"] for r in recs]
if sorted(seqs) != list(range(1, len(recs) + 1)):
    sys.exit("record numbers not 1..%d: %s" % (len(recs), seqs))
EOF
}

# check_summary DIR SENT STOPPED_BY
check_summary() {
	python3 - "$1/summary.json" "$2" "$3" <<'EOF' || return 1
import json, sys
s = json.load(open(sys.argv[1]))
sent, stopped = int(sys.argv[2]), sys.argv[3]
c = s["capture"]
if s["mode"] != "tap" or s["stopped_by"] != stopped:
    sys.exit("summary: mode %s stopped_by %s, want tap/%s" % (s["mode"], s["stopped_by"], stopped))
if c["received"] < sent or c["packets"] < sent:
    sys.exit("summary: received %d packets %d, sent %d" % (c["received"], c["packets"], sent))
if c["dropped"] != 0:
    sys.exit("summary: dropped %d" % c["dropped"])
if s["matches"] < 2 or s["fields"]["dns_names"] == 0 or s["fields"]["http_requests"] == 0:
    sys.exit("summary: matches %d dns %d http %d" % (s["matches"], s["fields"]["dns_names"],
                                                    s["fields"]["http_requests"]))
EOF
}

# check_stats_line LOG SENT: the last counters line on stderr.
check_stats_line() {
	line=$(grep '^received ' "$1" | tail -n 1)
	set -- $line "$2"
	# received N dropped M if_dropped K packets P matches X SENT
	if [ "$1" != received ] || [ "$2" -lt "${11}" ] || [ "$4" -ne 0 ] || [ "$8" -lt "${11}" ]; then
		fail "stats line '$line' (sent ${11})"
		return 1
	fi
}

# 1. Stop on SIGTERM.
OUT1=$E2E_TMP/ev1
if start_tap "$E2E_TMP/tap1.err" --out "$OUT1" --stats-interval 1; then
	SENT=$(replay)
	note "replayed $SENT packets"
	[ "${SENT:-0}" -gt 900 ] || fail "tcpreplay sent ${SENT:-0} packets, expected 918"
	sleep 1
	kill -TERM $TAP_PID
	wait $TAP_PID
	expect_rc "tap stopped by SIGTERM" 0 $? || cat "$E2E_TMP/tap1.err" >&2
	check_records "$OUT1" "$INNER" || fail "SIGTERM run: records"
	check_summary "$OUT1" "${SENT:-918}" SIGTERM || fail "SIGTERM run: summary"
	check_stats_line "$E2E_TMP/tap1.err" "${SENT:-918}"
fi

# 2. The same folder again: refused, nothing overwritten.
before=$(cksum <"$OUT1/records.ndjson")
ip netns exec "$NS" "$CS_BIN" tap -i "$INNER" $RULES --duration 1 --out "$OUT1" 2>"$E2E_TMP/tap2.err"
expect_rc "tap into a folder holding evidence" 2 $?
grep -q "already holds evidence" "$E2E_TMP/tap2.err" || fail "no refusal message: $(cat "$E2E_TMP/tap2.err")"
[ "$before" = "$(cksum <"$OUT1/records.ndjson")" ] || fail "records.ndjson changed by a refused run"

# 3. --user nobody and --duration: runs as nobody, stops by itself.
NOBODY_UID=$(id -u nobody 2>/dev/null)
if [ -z "$NOBODY_UID" ]; then
	note "no user 'nobody' here: --user not tested"
else
	OUT3=$E2E_TMP/ev3
	if start_tap "$E2E_TMP/tap3.err" --out "$OUT3" --user nobody --duration 4; then
		uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' /proc/$TAP_PID/status)
		[ "$uids" = "$NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID" ] ||
			fail "tap runs with uids '$uids', expected $NOBODY_UID (nobody)"
		caps=$(awk '/^CapEff:/ {print $2}' /proc/$TAP_PID/status)
		[ "$caps" = "0000000000000000" ] || fail "tap still holds capabilities $caps"
		SENT=$(replay)
		wait $TAP_PID
		expect_rc "tap stopped by --duration" 0 $? || cat "$E2E_TMP/tap3.err" >&2
		check_records "$OUT3" "$INNER" || fail "--user run: records"
		check_summary "$OUT3" "${SENT:-918}" duration || fail "--user run: summary"
		[ "$(stat -c %u "$OUT3")" = "$NOBODY_UID" ] || fail "evidence folder not given to nobody"
		[ "$(stat -c %u "$OUT3/summary.json")" = "$NOBODY_UID" ] || fail "summary not written as nobody"
		[ "$(stat -c %a "$OUT3")" = 700 ] || fail "evidence folder mode $(stat -c %a "$OUT3")"
	fi
fi

# 4. A user that does not exist: refused before anything is created.
OUT4=$E2E_TMP/ev4
ip netns exec "$NS" "$CS_BIN" tap -i "$INNER" $RULES --user no-such-user-cs --out "$OUT4" 2>"$E2E_TMP/tap4.err"
expect_rc "tap --user with an unknown name" 2 $?
grep -q "no-such-user-cs" "$E2E_TMP/tap4.err" || fail "unknown user not named: $(cat "$E2E_TMP/tap4.err")"
[ ! -e "$OUT4" ] || fail "evidence folder created although the user was refused"

# 5. No traffic and a --duration: stops by itself, no match (exit 1), counters zero.
OUT5=$E2E_TMP/ev5
ip netns exec "$NS" "$CS_BIN" tap -i "$INNER" $RULES --duration 1 --out "$OUT5" 2>"$E2E_TMP/tap5.err"
expect_rc "tap with no traffic" 1 $?
python3 -c "
import json, sys
s = json.load(open('$OUT5/summary.json'))
sys.exit(0 if s['stopped_by'] == 'duration' and s['matches'] == 0 and s['capture']['dropped'] == 0 else 1)
" || fail "idle run summary: $(cat "$OUT5/summary.json")"
[ -f "$OUT5/records.ndjson" ] && [ ! -s "$OUT5/records.ndjson" ] || fail "idle run: records.ndjson missing or not empty"

# 6. A missing interface is a clear start-up error.
"$CS_BIN" tap -i csnoiface$$ $RULES --out "$E2E_TMP/ev6" 2>"$E2E_TMP/tap6.err"
expect_rc "tap on a missing interface" 2 $?
grep -q "csnoiface$$" "$E2E_TMP/tap6.err" || fail "missing interface not named: $(cat "$E2E_TMP/tap6.err")"

finish
