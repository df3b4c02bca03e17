#!/bin/bash
# Live capture rate: replays the generated capture (run_pcap.sh's mixed.pcap)
# onto a veth pair with tcpreplay, each loop with new addresses (--unique-ip,
# so every loop is new flows), while `cybersieve tap` captures on the other
# end inside a network namespace with the 10k indicator set. One row per
# worker count and replay rate: the rate tcpreplay reached, packets sent,
# received and dropped (libpcap's counters and the interface's), records
# written against loops x the records of `scan` on the same file, peak RSS
# and the tap's CPU seconds. tcpreplay runs on the same cores as the tap, so
# the rates are those of a machine that also generates the traffic.
#
# Usage: run_tap.sh BUILD_DIR [WORK_DIR] [RATES] [LOOPS] [THREADS]
#   defaults: WORK_DIR=/tmp/cs-bench-pcap RATES="200 500 1000 top" LOOPS=3 THREADS="1 2"
#   a rate is Mbit/s for tcpreplay --mbps, or "top" for --topspeed.
# Needs root, iproute2 and tcpreplay; WORK_DIR must hold run_pcap.sh's files.
set -eu
BUILD=${1:?usage: run_tap.sh BUILD_DIR [WORK_DIR] [RATES] [LOOPS] [THREADS]}
WORK=${2:-/tmp/cs-bench-pcap}
RATES=${3:-200 500 1000 top}
LOOPS=${4:-3}
THREADS=${5:-1 2}
CS=$(cd "$(dirname "$BUILD/cybersieve")" && pwd)/cybersieve

if [ "$(id -u)" -ne 0 ]; then
	echo "run_tap.sh: needs root (network namespace, veth, raw capture)" >&2
	exit 2
fi
for tool in ip tcpreplay python3; do
	command -v $tool >/dev/null 2>&1 || { echo "run_tap.sh: $tool not found" >&2; exit 2; }
done
cd "$WORK"
for f in mixed.pcap literals-10k.txt domains-10k.txt md5-1k.txt; do
	[ -f "$f" ] || { echo "run_tap.sh: $WORK/$f missing: run run_pcap.sh first" >&2; exit 2; }
done
RULES="-f literal:literals-10k.txt -f domain:domains-10k.txt -f md5:md5-1k.txt"

NS=csbench$$
OUTER=csbo$$
INNER=csbi$$
cleanup() {
	[ -n "${TAP_PID:-}" ] && kill -TERM "$TAP_PID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	ip link del "$OUTER" 2>/dev/null
	true
}
trap cleanup EXIT
ip netns add "$NS"
ip link add "$OUTER" mtu 9000 type veth peer name "$INNER" mtu 9000
ip link set "$INNER" netns "$NS"
sysctl -qw "net.ipv6.conf.$OUTER.disable_ipv6=1" 2>/dev/null || true
ip netns exec "$NS" sysctl -qw "net.ipv6.conf.$INNER.disable_ipv6=1" 2>/dev/null || true
ip link set "$OUTER" up
ip netns exec "$NS" ip link set "$INNER" up

# Records one pass of the file gives: the expectation per loop.
rm -rf tap-ref
"$CS" scan -q --threads 1 $RULES --out tap-ref mixed.pcap || [ $? -eq 1 ]
PER_LOOP=$(wc -l <tap-ref/records.ndjson)
echo "capture: mixed.pcap $(du -m mixed.pcap | cut -f1) MB, $PER_LOOP records per pass (scan);" \
	"$LOOPS loops a row, new addresses each loop"
printf '%-3s %-5s %9s %10s %10s %9s %9s %15s %7s %6s\n' thr rate "Mbit/s" sent received \
	dropped if_drop records RSS_MB CPU_s

for thr in $THREADS; do
	for rate in $RATES; do
		rm -rf tap-out
		ip netns exec "$NS" /usr/bin/time -f '%M %U %S' -o tap-time.txt "$CS" tap -i "$INNER" \
			--threads "$thr" $RULES --stats-interval 0 --out tap-out 2>tap-err.txt &
		TAP_PID=$!
		i=0
		while ! grep -q "capturing with" tap-err.txt 2>/dev/null; do
			i=$((i + 1))
			if [ $i -gt 300 ] || ! kill -0 $TAP_PID 2>/dev/null; then
				echo "run_tap.sh: tap did not start: $(cat tap-err.txt)" >&2
				exit 1
			fi
			sleep 0.1
		done
		if [ "$rate" = top ]; then
			speed=--topspeed
		else
			speed=--mbps=$rate
		fi
		tcpreplay -i "$OUTER" $speed --unique-ip --loop="$LOOPS" mixed.pcap >tap-replay.txt 2>&1
		sleep 2
		# /usr/bin/time forwards nothing: signal the tap under it.
		pkill -TERM -f "^$CS tap -i $INNER" || true
		wait $TAP_PID || true
		TAP_PID=
		python3 - "$thr" "$rate" "$LOOPS" "$PER_LOOP" <<'EOF'
import json, re, sys
thr, rate, loops, per = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rep = open("tap-replay.txt").read()
sent = int(re.search(r"Successful packets:\s*(\d+)", rep).group(1))
m = re.search(r"Rated: [\d.]+ Bps, ([\d.]+) Mbps", rep)
mbps = float(m.group(1)) if m else 0.0
s = json.load(open("tap-out/summary.json"))
cap = s["capture"]
recs = sum(1 for _ in open("tap-out/records.ndjson"))
rss, user, sys_ = open("tap-time.txt").read().split()[-3:]
print("%-3s %-5s %9.0f %10d %10d %9d %9d %15s %7.0f %6.2f" % (
    thr, rate, mbps, sent, cap["received"], cap["dropped"], cap["if_dropped"],
    "%d/%d" % (recs, loops * per), int(rss) / 1024, float(user) + float(sys_)))
EOF
	done
done
