#!/bin/sh
# HTTP state counts against the flow memory cap: 3,000 connections each stall
# in a 12 KB request head (a 16 KiB head buffer apiece, 48 MB in all), then one
# complete request names a listed host. With the default cap the summary's
# flow memory peak must include the head buffers; with --flow-memory 8M the
# peak stays at the cap, flows are evicted (counted), the process holds less
# memory, and the listed host is still found.
BIN=$1
command -v python3 >/dev/null 2>&1 || exit 77
[ -x /usr/bin/time ] || { echo "SKIP: /usr/bin/time missing (Debian package time)"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/cs-httpmem.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
fails=0
N=3000

python3 - "$T/stall.pcap" "$N" <<'PY'
import struct, sys
out, n = sys.argv[1], int(sys.argv[2])
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def frame(i, data):
    src = bytes([10, 1, (i >> 8) & 255, i & 255])
    dst = bytes([192, 0, 2, 80])
    tcp = struct.pack('!HHIIBBHHH', 20000 + i % 40000, 80, 1000, 1, 0x50, 0x18, 65535, 0, 0) + data
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), i & 0xffff, 0, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    return b'\x02\x00\x00\x00\x00\x02' + b'\x02\x00\x00\x00\x00\x01' + b'\x08\x00' + ip + tcp
with open(out, 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    def put(k, fr):
        f.write(struct.pack('<IIII', 1700000000, k * 10, len(fr), len(fr)) + fr)
    for i in range(n):
        put(i, frame(i, b'GET /p HTTP/1.1\r\nHost: a%d.example\r\nX-Pad: ' % i + b'a' * 12000))
    put(n, frame(n, b'GET /x HTTP/1.1\r\nHost: www.stall-target.example\r\n\r\n'))
PY

# run NAME ARGS...: scan the capture, keep peak RSS in $T/NAME.rss
run() {
	name=$1
	shift
	/usr/bin/time -f '%M' -o "$T/$name.rss" "$BIN" scan -q --out "$T/$name" \
		-e domain:stall-target.example "$@" "$T/stall.pcap"
	rc=$?
	[ $rc -eq 0 ] || { echo "FAIL: $name: exit $rc, want 0" >&2; fails=$((fails + 1)); }
	grep -q '"field":"http.host"' "$T/$name/records.ndjson" ||
		{ echo "FAIL: $name: listed host not found" >&2; fails=$((fails + 1)); }
}
run wide
run capped --flow-memory 8M

# flows KEY NAME: a number from the summary's entry for the capture
flows() {
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["inputs"][0][sys.argv[2]])' \
		"$T/$2/summary.json" "$1"
}
wide_peak=$(flows flow_memory_peak wide)
capped_peak=$(flows flow_memory_peak capped)
capped_cap=$(flows flow_memory_cap capped)
capped_ev=$(flows flow_evictions capped)
wide_rss=$(tail -1 "$T/wide.rss")
capped_rss=$(tail -1 "$T/capped.rss")
echo "default cap: flow memory peak $wide_peak B, RSS $wide_rss KB;" \
	"8M cap: peak $capped_peak B of $capped_cap, $capped_ev evictions, RSS $capped_rss KB"
# The head buffers themselves are counted: 16 KiB for each stalled flow.
[ "$wide_peak" -ge $((N * 16384)) ] ||
	{ echo "FAIL: flow memory peak $wide_peak does not count $N head buffers" >&2; fails=$((fails + 1)); }
# Under the cap, give or take what one packet's head can add before the
# table is brought back under it.
[ "$capped_cap" -eq $((8 * 1024 * 1024)) ] || { echo "FAIL: cap $capped_cap" >&2; fails=$((fails + 1)); }
[ "$capped_peak" -le $((capped_cap + 65536)) ] ||
	{ echo "FAIL: peak $capped_peak over the cap $capped_cap" >&2; fails=$((fails + 1)); }
[ "$capped_ev" -gt 0 ] || { echo "FAIL: no evictions under the cap" >&2; fails=$((fails + 1)); }
[ "$capped_rss" -lt $((wide_rss - 20000)) ] ||
	{ echo "FAIL: capped run held $capped_rss KB, uncapped $wide_rss KB" >&2; fails=$((fails + 1)); }
[ $fails -eq 0 ] || exit 1
echo "ok"
