#!/bin/sh
# Flood runs of the flow table: generates with gen_flood (once, kept in WORK)
# a SYN flood of 1M SYNs and a capture of 200k long slow flows, both with real
# DNS/HTTP/TLS/bulk flows carrying planted indicators, and runs
# `cybersieve scan --flow-memory CAP` on each under /usr/bin/time. One row per
# run: packets, seconds, peak RSS, flows, flow_evictions, truth found/planted.
#
# Memory check: peak RSS must stay under CAP + OVERHEAD. OVERHEAD is what the
# process holds besides flows, measured first on the same capture with the
# smallest cap (--flow-memory 1M: the packet rings are filled and cycled as in
# the real run, at most 1 MiB of flow state), and never less than the RSS of a
# tiny capture of the 48 real flows alone (start-up, compiled patterns).
# Exits 1 if any run exceeds its limit or misses a planted indicator.
#
# Usage: run_flood.sh BUILD_DIR [WORK_DIR] [CAPS]
#   defaults: WORK_DIR=/tmp/cs-bench-flood CAPS="64M 256M"
set -eu
BUILD=${1:?usage: run_flood.sh BUILD_DIR [WORK_DIR] [CAPS]}
WORK=${2:-/tmp/cs-bench-flood}
CAPS=${3:-64M 256M}
CS=$BUILD/cybersieve
GEN=$BUILD/bench/gen_flood
mkdir -p "$WORK"
cd "$WORK"

# gen NAME ARGS...: NAME/capture.pcap, NAME/truth.tsv and the -f lists.
gen() {
	name=$1
	shift
	mkdir -p "$name"
	if [ ! -f "$name/capture.pcap" ] || [ "$(cat "$name/args" 2>/dev/null)" != "$*" ]; then
		"$GEN" "$@" "$name/capture.pcap" "$name"
		echo "$*" >"$name/args"
	fi
	awk -F'\t' 'NR > 1 && $1 == "literal" {print $2}' "$name/truth.tsv" | sort -u >"$name/literals.txt"
	awk -F'\t' 'NR > 1 && $1 == "domain" {print $2}' "$name/truth.tsv" | sort -u >"$name/domains.txt"
}
gen tiny --mode syn --flows 0
gen syn --mode syn --flows 1000000
gen slow --mode slow --flows 200000

# scan NAME CAP: runs the scan into NAME/out-CAP, times in NAME/time-CAP.
scan() {
	rm -rf "$1/out-$2"
	rc=0
	/usr/bin/time -f '%e %M' -o "$1/time-$2" "$CS" scan -q --flow-memory "$2" \
		-f "literal:$1/literals.txt" -f "domain:$1/domains.txt" --out "$1/out-$2" \
		"$1/capture.pcap" || rc=$?
	if [ "$rc" -gt 1 ]; then
		echo "scan of $1 at $2 failed with status $rc" >&2
		exit 2
	fi
}

# report NAME CAP OVERHEAD_KB: prints the row; status 1 over the limit or short of truth.
report() {
	python3 - "$1" "$2" "$3" <<'PYEOF'
import json, sys
name, cap, over = sys.argv[1], sys.argv[2], int(sys.argv[3])
unit = {"K": 1, "M": 1024, "G": 1024 * 1024}
cap_kb = int(cap[:-1]) * unit[cap[-1].upper()] if cap[-1].isalpha() else int(cap) // 1024
wall, rss = open("%s/time-%s" % (name, cap)).read().split()[-2:]
rss = int(rss)
inp = json.load(open("%s/out-%s/summary.json" % (name, cap)))["inputs"][0]
found = set()
for line in open("%s/out-%s/records.ndjson" % (name, cap)):
    found.add(json.loads(line)["indicator"]["value"])
planted = {}
for line in list(open("%s/truth.tsv" % name))[1:]:
    t, v, field = line.split("\t")[:3]
    planted.setdefault(field, set()).add(v)
allp = set().union(*planted.values())
missed = ["%s %d/%d" % (f, len(v & found), len(v)) for f, v in sorted(planted.items()) if v - found]
limit = cap_kb + over
ok = rss <= limit and not (allp - found)
print("%-5s %5s %9d %7s %8.1f %8.1f %9d %10d %7s  %s%s" % (
    name, cap, inp["packets"], wall, rss / 1024, limit / 1024, inp["flows"],
    inp["flow_evictions"], "%d/%d" % (len(allp & found), len(allp)),
    "ok" if ok else "FAIL", (" (missed: " + ", ".join(missed) + ")") if missed else ""))
sys.exit(0 if ok else 1)
PYEOF
}

scan tiny 64M
TINY_KB=$(cut -d' ' -f2 tiny/time-64M)
echo "tiny capture (48 real flows, $(($(wc -l <tiny/truth.tsv) - 1)) planted): peak RSS $((TINY_KB / 1024)) MB"
printf '%-5s %5s %9s %7s %8s %8s %9s %10s %7s  %s\n' capture cap packets wall_s RSS_MB limit_MB \
	flows evictions truth verdict
status=0
for name in syn slow; do
	scan "$name" 1M
	BASE_KB=$(($(cut -d' ' -f2 "$name/time-1M") - 1024))
	OVER_KB=$((BASE_KB > TINY_KB ? BASE_KB : TINY_KB))
	echo "$name: overhead $((OVER_KB / 1024)) MB (peak RSS at --flow-memory 1M less 1 MiB)"
	for cap in $CAPS; do
		scan "$name" "$cap"
		report "$name" "$cap" "$OVER_KB" || status=1
	done
done
exit $status
