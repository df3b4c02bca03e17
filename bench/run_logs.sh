#!/usr/bin/env bash
# run_logs.sh: batch log scanning, side by side with grep -F and rg -F.
#
# Generates (once) a seeded log and nested literal sets with bench/gen_logs,
# then for each set times the bare Hyperscan baseline, `cybersieve scan` with
# 1 and 2 threads, grep and rg, each under /usr/bin/time; prints one table and
# checks that every tool finds the same matching lines as the planted truth.
# Then times the .gz path against the decompressor alone, and pread vs mmap.
# Exits 1 on any count mismatch, 2 on a usage or setup error.
set -u

usage() {
    cat <<'EOF'
usage: bench/run_logs.sh [options]
  --size BYTES     log size for gen_logs (default 1G)
  --seed N         generator seed (default 1)
  --data DIR       data directory (default /tmp/cybersieve-bench-SIZE-sSEED); generated if empty
  --build DIR      build tree holding bench/ programs and cybersieve (default <repo>/build)
  --bin PATH       cybersieve binary (default BUILD/cybersieve); rows are skipped if absent
  --sets "A B"     literal sets to run (default "1k 10k 100k")
  --timeout SEC    per-command limit for grep and rg (default 600)
  --no-gzip        skip the gzip section
  --no-read        skip the pread/mmap section
EOF
}

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
size=1G seed=1 data="" build="$repo/build" bin="" sets="1k 10k 100k" tmo=600 do_gz=1 do_read=1
while [ $# -gt 0 ]; do
    case "$1" in
    --size) size=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --sets) sets=$2; shift 2 ;;
    --timeout) tmo=$2; shift 2 ;;
    --no-gzip) do_gz=0; shift ;;
    --no-read) do_read=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done
[ -n "$data" ] || data="/tmp/cybersieve-bench-$size-s$seed"
[ -n "$bin" ] || bin="$build/cybersieve"
bb="$build/bench"
for p in gen_logs hs_baseline inflate_rate read_rate; do
    [ -x "$bb/$p" ] || { echo "run_logs: $bb/$p missing: cmake --build $build first" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "run_logs: /usr/bin/time missing (apt-get install -y time)" >&2; exit 2; }
have_cs=0; [ -x "$bin" ] && have_cs=1
have_rg=0; command -v rg >/dev/null && have_rg=1
[ $have_rg = 1 ] || echo "run_logs: rg not found, its rows are left out (apt-get install -y ripgrep)" >&2
[ $have_cs = 1 ] || echo "run_logs: $bin not found, its rows are left out" >&2

mkdir -p "$data" || exit 2
log="$data/logs.txt"
if [ ! -s "$log" ] || [ ! -s "$data/truth.tsv" ]; then
    echo "# generating $size (seed $seed) into $data" >&2
    "$bb/gen_logs" --size "$size" --seed "$seed" --out-dir "$data" || exit 2
fi
work=$(mktemp -d "$data/run.XXXXXX") || exit 2
results="$data/results-$(date -u +%Y%m%dT%H%M%SZ).tsv"
bytes=$(stat -c %s "$log")
nlines=$(wc -l < "$log")
cat "$log" > /dev/null # warm the page cache so no tool pays the first read

failed=0
fmt='%-19s %-7s %7s %8s %9s %11s %11s %8s  %s\n'
printf "$fmt" tool set threads seconds MB/s lines/s match_lines rss_MiB note
printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' tool set threads seconds MB/s lines/s match_lines rss_MiB note > "$results"

# row TOOL SET THREADS SECONDS MATCHLINES RSS_KIB NOTE [BYTES]
row() {
    local b=${8:-$bytes}
    awk -v results="$results" -v fmt="$fmt" -v t="$1" -v s="$2" -v th="$3" -v sec="$4" -v m="$5" -v rss="$6" -v note="$7" -v b="$b" -v nl="$nlines" '
    BEGIN {
        if (sec + 0 > 0) { mbs = sprintf("%.1f", b / sec / 1e6); lps = sprintf("%.0f", nl / sec) }
        else { mbs = "-"; lps = "-" }
        r = (rss == "-") ? "-" : sprintf("%.0f", rss / 1024)
        printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t, s, th, sec, mbs, lps, m, r, note >> results
        printf fmt, t, s, th, sec, mbs, lps, m, r, note
    }'
}

# timed OUTFILE CMD...: runs CMD with stdout to OUTFILE, sets T_SEC, T_RSS, T_RC.
timed() {
    local out=$1; shift
    /usr/bin/time -f '%e %M' -o "$work/time" "$@" > "$out" 2> "$work/stderr"
    T_RC=$?
    read -r T_SEC T_RSS < <(tail -n 1 "$work/time")
    case "$T_SEC" in ''|*[!0-9.]*) T_SEC=0 T_RSS=- ;; esac
}

kv() { tr ' ' '\n' < "$1" | sed -n "s/^$2=//p" | head -n 1; }

# expected matching lines for a set: the planted lines of every set it contains
truth_lines() {
    local want=$1 sizes
    sizes=$(ls "$data"/literals-*.txt | sed 's/.*literals-\(.*\)\.txt/\1/')
    awk -F'\t' -v want="$want" -v sizes="$sizes" '
    function n(x) { return (x ~ /k$/) ? substr(x, 1, length(x) - 1) * 1000 : x + 0 }
    NR > 1 && n($1) <= n(want) { seen[$3] = 1 }
    END { c = 0; for (k in seen) c++; print c }' "$data/truth.tsv"
}

cs_scan() { # SET_OR_LITFILE THREADS INPUT OUTDIR
    rm -rf "$4"
    timed "$work/cs.out" "$bin" scan -f "literal:$1" --out "$4" --threads "$2" "$3"
}

cs_lines() { grep -o '"line":[0-9]*' "$1/records.ndjson" 2>/dev/null | sort -u | wc -l; }

check() { # SET NAME COUNT EXPECTED
    if [ "$3" != "$4" ]; then
        echo "!!!!!!!! MISMATCH: set $1: $2 found $3 matching lines, truth has $4 !!!!!!!!" >&2
        failed=1
    fi
}

for set in $sets; do
    lits="$data/literals-$set.txt"
    [ -s "$lits" ] || { echo "run_logs: $lits missing" >&2; failed=1; continue; }
    expect=$(truth_lines "$set")
    row truth "$set" - - "$expect" - "planted lines (truth.tsv)"

    timed "$work/base.out" "$bb/hs_baseline" "$lits" "$log"
    if [ "$T_RC" = 0 ]; then
        m=$(kv "$work/base.out" lines)
        row hs_baseline "$set" 1 "$T_SEC" "$m" "$T_RSS" "whole process, compile $(kv "$work/base.out" compile_s) s"
        row hs_scan_loop "$set" 1 "$(kv "$work/base.out" seconds)" "$m" - \
            "read+scan loop; hs_scan alone $(kv "$work/base.out" scan_seconds) s"
        check "$set" hs_baseline "$m" "$expect"
    else
        row hs_baseline "$set" 1 - - - "FAILED: $(head -c 200 "$work/stderr")"; failed=1
    fi

    for th in 1 2; do
        if [ $have_cs = 0 ]; then
            row cybersieve "$set" "$th" - - - "skipped: no binary at $bin"; continue
        fi
        cs_scan "$lits" "$th" "$log" "$work/cs-$set-$th"
        if [ "$T_RC" = 0 ]; then
            m=$(cs_lines "$work/cs-$set-$th")
            row cybersieve "$set" "$th" "$T_SEC" "$m" "$T_RSS" "records $(wc -l < "$work/cs-$set-$th/records.ndjson")"
            check "$set" "cybersieve --threads $th" "$m" "$expect"
        else
            row cybersieve "$set" "$th" - - - "FAILED rc=$T_RC: $(tail -n 1 "$work/stderr")"; failed=1
        fi
        rm -rf "$work/cs-$set-$th"
    done

    timed "$work/grep.out" env LC_ALL=C timeout "$tmo" grep -F -c -f "$lits" "$log"
    if [ "$T_RC" -le 1 ]; then
        m=$(cat "$work/grep.out"); row grep-F "$set" 1 "$T_SEC" "$m" "$T_RSS" "LC_ALL=C"
        check "$set" grep "$m" "$expect"
    else
        row grep-F "$set" 1 "$T_SEC" - "$T_RSS" "rc=$T_RC (124: over ${tmo}s)"
    fi

    if [ $have_rg = 1 ]; then
        timed "$work/rg.out" timeout "$tmo" rg -F -c -f "$lits" "$log"
        if [ "$T_RC" -le 1 ]; then
            m=$(cat "$work/rg.out"); [ -n "$m" ] || m=0
            row rg-F "$set" 1 "$T_SEC" "$m" "$T_RSS" ""
            check "$set" rg "$m" "$expect"
        else
            row rg-F "$set" 1 "$T_SEC" - "$T_RSS" "rc=$T_RC (124: over ${tmo}s)"
        fi
    fi
done

if [ $do_gz = 1 ]; then
    gz="$log.gz"
    [ -s "$gz" ] || { echo "# gzip -1 $log" >&2; gzip -1 -c "$log" > "$gz.tmp" && mv "$gz.tmp" "$gz"; }
    cat "$gz" > /dev/null
    timed "$work/infl.out" "$bb/inflate_rate" "$gz"
    while read -r line; do
        eng=$(echo "$line" | tr ' ' '\n' | sed -n 's/^engine=//p')
        sec=$(echo "$line" | tr ' ' '\n' | sed -n 's/^seconds=//p')
        row "inflate_$eng" gz 1 "$sec" - - "decompress only, output discarded; MB/s of output"
    done < "$work/infl.out"
    timed /dev/null sh -c "gzip -dc '$gz' > /dev/null"
    row "gzip-dc" gz 1 "$T_SEC" - "$T_RSS" "gzip -dc > /dev/null"
    if [ $have_cs = 1 ]; then
        set1=$(echo $sets | awk '{print $1}')
        for th in 1 2; do
            cs_scan "$data/literals-$set1.txt" "$th" "$gz" "$work/cs-gz-$th"
            if [ "$T_RC" = 0 ]; then
                m=$(cs_lines "$work/cs-gz-$th")
                row cybersieve "$set1.gz" "$th" "$T_SEC" "$m" "$T_RSS" "scan of logs.txt.gz"
                check "$set1 (.gz)" "cybersieve --threads $th" "$m" "$(truth_lines "$set1")"
            else
                row cybersieve "$set1.gz" "$th" - - - "FAILED rc=$T_RC: $(tail -n 1 "$work/stderr")"; failed=1
            fi
            rm -rf "$work/cs-gz-$th"
        done
    else
        row cybersieve gz 1 - - - "skipped: no binary at $bin"
    fi
fi

if [ $do_read = 1 ]; then
    "$bb/read_rate" "$log" | while read -r line; do
        mode=$(echo "$line" | tr ' ' '\n' | sed -n 's/^mode=//p')
        sec=$(echo "$line" | tr ' ' '\n' | sed -n 's/^seconds=//p')
        row "read_$mode" - 1 "$sec" - - "best of 3, warm page cache"
    done
fi

rm -rf "$work"
echo "# $bytes bytes, $nlines lines in $log; table saved to $results" >&2
if [ $failed != 0 ]; then
    echo "!!!!!!!! run_logs: MISMATCH or FAILURE above !!!!!!!!" >&2
    exit 1
fi
exit 0
