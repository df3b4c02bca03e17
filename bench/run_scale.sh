#!/bin/bash
# Indicators at scale: for mixed packs of N random indicators (bench/gen_scale
# mix: digests, domains, addresses, URLs, wallets, phrases), the time and peak
# memory of compiling them into a rules file, of loading that file, and the
# scan rate of a run_logs.sh-style log with it; then a log full of PDQ hashes
# against a list of a million. Prints one table (TSV copy in the data dir).
#
#   bench/run_scale.sh [--build DIR] [--data DIR] [--sizes "1000 10000 ..."]
#                      [--log-size 1G] [--pdq N] [--threads T]
#
# Each scan row also needs a start-up run on a one-line input; the scan rate
# is the log's bytes over (wall time - start-up), on T threads (default 1:
# per-core figures), and over the CPU seconds (user + system) the scan took
# beyond start-up, which holds still when other work shares the machine.
# Needs /usr/bin/time.
set -u
build=build
data=
sizes="1000 10000 100000 1000000"
log_size=1G
pdq=1000000
threads=1
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift 2 ;;
	--data) data=$2; shift 2 ;;
	--sizes) sizes=$2; shift 2 ;;
	--log-size) log_size=$2; shift 2 ;;
	--pdq) pdq=$2; shift 2 ;;
	--threads) threads=$2; shift 2 ;;
	*) echo "usage: $0 [--build DIR] [--data DIR] [--sizes LIST] [--log-size N] [--pdq N] [--threads T]" >&2; exit 2 ;;
	esac
done
bin=$build/cybersieve
gen=$build/bench/gen_scale
load=$build/bench/rules_load
logs=$build/bench/gen_logs
for p in "$bin" "$gen" "$load" "$logs"; do
	[ -x "$p" ] || { echo "run_scale: $p missing (build with -DCS_BUILD_BENCH=ON)" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "run_scale: /usr/bin/time missing (Debian package time)" >&2; exit 2; }
data=${data:-/tmp/cybersieve-scale-$log_size}
mkdir -p "$data"
log=$data/logs.txt
if [ ! -s "$log" ]; then
	"$logs" --size "$log_size" --seed 1 --indicators 1000 --out-dir "$data" >&2 || exit 1
fi
bytes=$(stat -c %s "$log")
echo "x" >"$data/one.log"
# The first 100 planted phrases, domains and hashes of gen_logs' 1k set, as
# literals, so that each scan also finds something (the same in every row).
{
	printf '@name planted-1k\n@category scam\n@source bench/gen_logs literals-1k\n'
	printf '@licence CC0-1.0\n@tlp clear\n'
	head -n 100 "$data/literals-1k.txt" |
		awk '{ gsub(/\\/, "\\\\"); printf "p%d literal %s\n", NR, $0 }'
} >"$data/planted.pack"

# timed OUT CMD...: "wall_s max_rss_kb cpu_s" of CMD as the last line of OUT
# Arithmetic on decimal figures (awk: present on every Debian system).
calc() {
	awk "BEGIN { printf \"%.6f\", $1 }"
}

timed() {
	local out=$1
	shift
	/usr/bin/time -f '%e %M %U %S' -o "$out" "$@" >/dev/null 2>"$out.err"
	tail -1 "$out" | awk '{ printf "%s %s %.2f\n", $1, $2, $3 + $4 }' >"$out.last"
}

tsv=$data/scale-$(date -u +%Y%m%dT%H%M%SZ).tsv
printf 'indicators\tpack_MB\tcompile_s\tcompile_rss_MB\tfile_MB\tload_s\tload_rss_MB\tstartup_s\tscan_s\tscan_MBps\tscan_MBps_cpu\tscan_rss_MB\tpatterns\trecords\n' | tee "$tsv"
for n in $sizes; do
	pk=$data/mix-$n.pack
	db=$data/mix-$n.csdb
	[ -s "$pk" ] || "$gen" mix "$n" 1 >"$pk"
	rm -f "$db"
	timed "$data/c.t" "$bin" rules compile "$pk" "$data/planted.pack" -o "$db"
	read -r c_s c_kb _ <"$data/c.t.last"
	patterns=$(sed -n 's/.* \([0-9]*\) patterns.*/\1/p' "$data/c.t.err")
	read -r l_s l_kb < <("$load" "$db" 3 | awk -F'\t' '{ sub(/load /, "", $4); sub(/ s/, "", $4);
		sub(/peak RSS /, "", $5); sub(/ KB/, "", $5); print $4, $5 }')
	rm -rf "$data/o1" "$data/o2"
	timed "$data/s1.t" "$bin" scan -q --threads "$threads" --rules "$db" --out "$data/o1" "$data/one.log"
	timed "$data/s2.t" "$bin" scan -q --threads "$threads" --rules "$db" --out "$data/o2" "$log"
	read -r u_s _ u_cpu <"$data/s1.t.last"
	read -r s_s s_kb s_cpu <"$data/s2.t.last"
	recs=$(wc -l <"$data/o2/records.ndjson")
	printf '%s\t%.1f\t%s\t%d\t%.1f\t%s\t%d\t%s\t%s\t%.0f\t%.0f\t%d\t%s\t%s\n' "$n" \
		"$(calc "$(stat -c %s "$pk") / 1000000")" "$c_s" $((c_kb / 1024)) \
		"$(calc "$(stat -c %s "$db") / 1000000")" "$l_s" $((l_kb / 1024)) "$u_s" "$s_s" \
		"$(calc "$bytes / ($s_s - $u_s) / 1000000")" \
		"$(calc "$bytes / ($s_cpu - $u_cpu) / 1000000")" $((s_kb / 1024)) "$patterns" "$recs" |
		tee -a "$tsv"
done

# PDQ: a million listed hashes, a log of one hash a line (one in 1000 within
# 10 bits of a listed one), the default distance 31.
if [ "$pdq" -gt 0 ]; then
	pp=$data/pdq-$pdq.pack
	pl=$data/pdq-$pdq.log
	[ -s "$pp" ] || "$gen" pdq "$pdq" 1 >"$pp"
	[ -s "$pl" ] || "$gen" pdqlog "$pdq" $((256 * 1024 * 1024)) 1 1000 >"$pl" 2>"$data/pdqlog.err"
	pbytes=$(stat -c %s "$pl")
	rm -rf "$data/o3" "$data/o4"
	timed "$data/p1.t" "$bin" scan -q --threads "$threads" --rules "$pp" --out "$data/o3" "$data/one.log"
	timed "$data/p2.t" "$bin" scan -q --threads "$threads" --rules "$pp" --out "$data/o4" "$pl"
	read -r pu_s pu_kb pu_cpu <"$data/p1.t.last"
	read -r ps_s ps_kb ps_cpu <"$data/p2.t.last"
	precs=$(wc -l <"$data/o4/records.ndjson")
	printf '\npdq_entries\tlog_MB\tlines\tplanted\tstartup_s\tstartup_rss_MB\tscan_s\tscan_MBps\tscan_MBps_cpu\tscan_rss_MB\trecords\n' | tee -a "$tsv"
	printf '%s\t%.0f\t%s\t%s\t%s\t%d\t%s\t%.0f\t%.0f\t%d\t%s\n' "$pdq" \
		"$(calc "$pbytes / 1000000")" "$(wc -l <"$pl")" \
		"$(sed -n 's/.*lines, \([0-9]*\) planted.*/\1/p' "$data/pdqlog.err")" \
		"$pu_s" $((pu_kb / 1024)) "$ps_s" "$(calc "$pbytes / ($ps_s - $pu_s) / 1000000")" \
		"$(calc "$pbytes / ($ps_cpu - $pu_cpu) / 1000000")" \
		$((ps_kb / 1024)) "$precs" | tee -a "$tsv"
fi
echo "table saved as $tsv" >&2
