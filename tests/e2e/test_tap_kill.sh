#!/bin/sh
# kill -9 of a live tap while traffic flows: the folder it leaves has no manifest,
# and verify reports it unsealed with the records that still verify (the intact
# prefix), never a broken chain. Traffic is a capture replayed slowly onto a veth
# pair in a network namespace made here.
# Usage: test_tap_kill.sh BINARY SOURCE_DIR. Needs root, ip netns, tcpreplay.
. "$2/tests/e2e/lib.sh"
e2e_init "$1" "$2"

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: live capture needs root" >&2
	exit 77
fi
for tool in ip tcpreplay; do
	if ! command -v $tool >/dev/null 2>&1; then
		echo "SKIP: $tool not found" >&2
		exit 77
	fi
done

PCAP=$CS_SRC/tests/data/pcap/arkime_synthetic.pcap
NS=cskil$$
OUTER=csko$$
INNER=cski$$
cleanup() {
	[ -n "$TAP_PID" ] && kill -9 "$TAP_PID" 2>/dev/null
	[ -n "$REPLAY_PID" ] && kill "$REPLAY_PID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	ip link del "$OUTER" 2>/dev/null
	rm -rf "$E2E_TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

veth_netns "$NS" "$OUTER" "$INNER"

OUT=$E2E_TMP/ev
LOG=$E2E_TMP/tap.log
ip netns exec "$NS" "$CS_BIN" tap -i "$INNER" --threads 2 -e literal/i:http \
	--stats-interval 0 --out "$OUT" 2>"$LOG" &
TAP_PID=$!
wait_tap "$LOG" $TAP_PID || finish
# 918 packets at 300 per second: about 3 s of traffic; kill in the middle, once
# some records are on disk (live records are written within a second).
tcpreplay -i "$OUTER" --pps=300 "$PCAP" >"$E2E_TMP/replay.out" 2>&1 &
REPLAY_PID=$!
i=0
while [ ! -s "$OUT/records.ndjson" ] && [ $i -lt 60 ]; do
	sleep 0.1
	i=$((i + 1))
done
sleep 0.3
kill -9 $TAP_PID
wait $TAP_PID 2>/dev/null
TAP_PID=
wait $REPLAY_PID 2>/dev/null
REPLAY_PID=

[ -f "$OUT/manifest.json" ] && fail "a killed tap left a manifest"
n=$(wc -l <"$OUT/records.ndjson" 2>/dev/null || echo 0)
[ "$n" -gt 0 ] || fail "no record reached the disk before the kill"
"$CS_BIN" verify "$OUT" >"$E2E_TMP/verify.out" 2>&1
rc=$?
[ $rc -ne 0 ] || fail "verify passed an unsealed folder"
expect_grep "unsealed reported" "$E2E_TMP/verify.out" "unsealed"
if grep -q "prev does not match" "$E2E_TMP/verify.out"; then
	fail "the records written before the kill do not chain:"
	cat "$E2E_TMP/verify.out" >&2
fi
note "$n records on disk at the kill; $(grep unsealed "$E2E_TMP/verify.out")"
finish
