#!/bin/sh
# Packet throughput and memory: generates the captures with gen_pcap (once,
# kept in WORK), runs `cybersieve scan` on them with the 1k and 10k indicator
# sets on 1 and 2 threads under /usr/bin/time, and prints one table row per
# run: packets/s, Gbit/s, MB/s per core, peak RSS, and found vs planted truth.
# Start-up (loading packs and compiling) is measured on an empty capture.
# Then the open-flows capture is run with a flow memory cap to show the peak.
#
# Usage: run_pcap.sh BUILD_DIR [WORK_DIR] [SIZE_MB] [OPEN_FLOWS]
#   defaults: WORK_DIR=/tmp/cs-bench-pcap SIZE_MB=512 OPEN_FLOWS=1000000
set -eu
BUILD=${1:?usage: run_pcap.sh BUILD_DIR [WORK_DIR] [SIZE_MB] [OPEN_FLOWS]}
WORK=${2:-/tmp/cs-bench-pcap}
SIZE=${3:-512}
FLOWS=${4:-1000000}
CS=$BUILD/cybersieve
GEN=$BUILD/bench/gen_pcap
mkdir -p "$WORK"
cd "$WORK"

if [ ! -f mixed.pcap ] || [ "$(cat mixed.size 2>/dev/null)" != "$SIZE" ]; then
	"$GEN" --size "$SIZE" mixed.pcap .
	echo "$SIZE" >mixed.size
fi
if [ ! -f open.pcap ] || [ "$(cat open.flows 2>/dev/null)" != "$FLOWS" ]; then
	mkdir -p open
	"$GEN" --flows "$FLOWS" open.pcap open
	echo "$FLOWS" >open.flows
fi
# An empty capture: the header alone (the first 24 bytes of any pcap).
head -c 24 mixed.pcap >empty.pcap

# pcap_count FILE: packets and captured bytes (frames only, no record headers).
pcap_count() {
	python3 - "$1" <<'EOF'
import struct, sys
n = b = 0
with open(sys.argv[1], "rb") as f:
    f.read(24)
    while True:
        h = f.read(16)
        if len(h) < 16:
            break
        cap = struct.unpack("<IIII", h)[2]
        f.seek(cap, 1)
        n += 1
        b += cap
print(n, b)
EOF
}

# check_truth OUT_DIR: distinct planted values found / planted, by type and field.
check_truth() {
	python3 - "$1/records.ndjson" truth.tsv <<'EOF'
import json, sys
found = set()
for line in open(sys.argv[1]):
    r = json.loads(line)
    found.add(r["indicator"]["value"])
planted = {}
for line in list(open(sys.argv[2]))[1:]:
    t, v, field = line.split("\t")[:3]
    planted.setdefault(t + ":" + field, set()).add(v)
allp = set().union(*planted.values())
parts = ["%s %d/%d" % (k, len(v & found), len(v)) for k, v in sorted(planted.items())]
extra = len(found - allp)
print("found %d/%d (%s; %d not planted)" % (len(allp & found), len(allp), ", ".join(parts), extra))
EOF
}

set -- $(pcap_count mixed.pcap)
PKTS=$1
BYTES=$2
echo "capture: mixed.pcap $(du -m mixed.pcap | cut -f1) MB, $PKTS packets, $BYTES frame bytes"
echo "truth: $(($(wc -l <truth.tsv) - 1)) planted"
echo
# Rates are over the wall time less the start-up time of the same set.
printf '%-5s %-3s %8s %10s %8s %10s %8s %8s  %s\n' set thr startup_s "pkts/s" "Gbit/s" "MB/s/core" \
	"wall_s" "RSS_MB" "truth"

for set in 1k 10k; do
	RULES="-f literal:literals-$set.txt -f domain:domains-$set.txt -f md5:md5-1k.txt"
	rm -rf out-empty
	/usr/bin/time -f '%e %M' -o time.txt "$CS" scan -q --threads 1 $RULES --out out-empty \
		empty.pcap || [ $? -eq 1 ]
	STARTUP=$(tail -n 1 time.txt | cut -d' ' -f1)
	for thr in 1 2; do
		rm -rf out
		/usr/bin/time -f '%e %M' -o time.txt "$CS" scan -q --threads $thr $RULES --out out \
			mixed.pcap || [ $? -eq 1 ]
		set -- $(tail -n 1 time.txt)
		python3 - "$1" "$2" "$PKTS" "$BYTES" "$thr" "$set" "$STARTUP" "$(check_truth out)" <<'EOF'
import sys
wall, rss, pkts, byts, thr = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
run = max(wall - float(sys.argv[7]), 0.01)
print("%-5s %-3d %8s %10.0f %8.2f %10.0f %8.2f %8.0f  %s" % (
    sys.argv[6], thr, sys.argv[7], pkts / run, byts * 8 / run / 1e9, byts / run / 1e6 / thr,
    wall, rss / 1024, sys.argv[8]))
EOF
	done
done

echo
set -- $(pcap_count open.pcap)
# scan has no flow-memory option: the flow table's default cap (512 MiB) applies.
rm -rf out-open
/usr/bin/time -f '%e %M' -o time.txt "$CS" scan -q --threads 1 -f literal:literals-1k.txt \
	--out out-open open.pcap || [ $? -eq 1 ]
echo "open flows: $FLOWS flows, $1 packets, flow memory cap 512 MiB (default):" \
	"wall $(tail -n 1 time.txt | cut -d' ' -f1) s, peak RSS $(($(tail -n 1 time.txt | cut -d' ' -f2) / 1024)) MB"
python3 -c "
import json; s = json.load(open('out-open/summary.json'))
i = s['inputs'][0]
print('  summary:', {k: i[k] for k in i if 'flow' in k or k in ('packets', 'matches')})"
