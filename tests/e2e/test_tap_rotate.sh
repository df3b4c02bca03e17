#!/bin/sh
# A tap run whose evidence rotates by size: every closed records file is sealed
# on its own (seal + signature), `verify` passes on the whole folder, one part
# verifies with standard tools without the others, and tampering with one part
# is caught and named. Live traffic comes from a capture replayed onto a veth
# pair in a network namespace made here.
# Usage: test_tap_rotate.sh BINARY SOURCE_DIR. Needs root, ip netns, tcpreplay, openssl.
. "$2/tests/e2e/lib.sh"
e2e_init "$1" "$2"

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: rotation test captures live traffic and needs root" >&2
	exit 77
fi
for tool in ip tcpreplay openssl sha256sum; do
	if ! command -v $tool >/dev/null 2>&1; then
		echo "SKIP: $tool not found" >&2
		exit 77
	fi
done

PCAP=$CS_SRC/tests/data/pcap/arkime_synthetic.pcap
NS=csrot$$
OUTER=csro$$
INNER=csri$$
cleanup() {
	[ -n "$TAP_PID" ] && kill "$TAP_PID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	ip link del "$OUTER" 2>/dev/null
	rm -rf "$E2E_TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

veth_netns "$NS" "$OUTER" "$INNER"

OUT=$E2E_TMP/ev
LOG=$E2E_TMP/tap.log
# "http" (caseless) occurs in many payloads of the capture: enough records to
# fill several 4 KiB files.
ip netns exec "$NS" "$CS_BIN" tap -i "$INNER" -e literal/i:http -e domain:ws.split.test \
	--rotate-size 4K --out "$OUT" 2>"$LOG" &
TAP_PID=$!
wait_tap "$LOG" $TAP_PID || finish
tcpreplay -i "$OUTER" --pps=3000 "$PCAP" >"$E2E_TMP/replay.out" 2>&1 || fail "tcpreplay failed"
sleep 1
kill -TERM $TAP_PID
wait $TAP_PID
expect_rc "tap stopped by SIGTERM" 0 $?
TAP_PID=

files=$(ls "$OUT"/records-*.ndjson 2>/dev/null)
n=$(echo "$files" | grep -c ndjson)
[ "$n" -ge 3 ] || fail "expected at least 3 rotated records files, got $n"
for f in $files; do
	b=${f%.ndjson}
	[ -s "$b.seal.json" ] && [ -s "$b.seal.json.sig" ] || fail "$(basename "$f"): no seal or signature"
done

# The whole folder verifies.
"$CS_BIN" verify "$OUT" >"$E2E_TMP/verify.out" 2>&1
expect_rc "verify of the rotated run" 0 $?
expect_grep "verify verdict" "$E2E_TMP/verify.out" "verified: every check passed"

# Records in the parts add up to the manifest's count.
total=0
for f in $files; do
	total=$((total + $(wc -l <"$f")))
done
want=$(grep -o '"counts":{"records":[0-9]*' "$OUT/manifest.json" | grep -o '[0-9]*$')
[ "$total" = "$want" ] || fail "records in files $total, manifest says $want"

# One part alone, with standard tools: the seal's signature, the file's SHA-256,
# and its chain from the genesis to the head the seal names.
part=$(echo "$files" | sed -n 2p)
seal=${part%.ndjson}.seal.json
openssl pkeyutl -verify -pubin -inkey "$OUT/key.pub.pem" -rawin -in "$seal" \
	-sigfile "$seal.sig" >/dev/null 2>&1 || fail "seal signature of $(basename "$part") does not verify with openssl"
field() { grep -o "\"$1\":\"[0-9a-f]*\"" "$seal" | head -1 | cut -d'"' -f4; }
[ "$(sha256sum "$part" | cut -c1-64)" = "$(field sha256)" ] || fail "$(basename "$part"): sha256 differs from its seal"
run_id=$(grep -o '"run_id":"[^"]*"' "$seal" | cut -d'"' -f4)
prev=$(printf 'cybersieve-chain-v1:%s:%s' "$run_id" "$(basename "$part")" | sha256sum | cut -c1-64)
[ "$prev" = "$(field genesis)" ] || fail "genesis of $(basename "$part") differs from its seal"
while IFS= read -r line; do
	got=$(printf '%s' "$line" | cut -c10-73)
	[ "$got" = "$prev" ] || { fail "$(basename "$part"): chain link broken"; break; }
	prev=$(printf '%s\n' "$line" | sha256sum | cut -c1-64)
done <"$part"
[ "$prev" = "$(field chain_head)" ] || fail "$(basename "$part"): chain head differs from its seal"

# Tampering with one part is caught and that part is named.
third=$(echo "$files" | sed -n 3p)
sed -i '1s/"seq":/"seq" :/' "$third"
"$CS_BIN" verify "$OUT" >"$E2E_TMP/verify2.out" 2>&1
rc=$?
[ $rc -ne 0 ] || fail "verify passed after a record of $(basename "$third") was changed"
expect_grep "tampered part named" "$E2E_TMP/verify2.out" "$(basename "$third")"

finish
