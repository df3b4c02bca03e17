#!/bin/sh
# txlog_smoke.sh GEN_TXLOG PACK [CYBERSIEVE]: gen_txlog is reproducible, gives
# the same records in every format and under --disorder, and in every format
# the reference semantics (txlog_reference.py) fire exactly the planted
# patterns of the truth; a pack moved across a near miss's edge, and evidence
# with a firing missing or added, are caught. With CYBERSIEVE, its scan with
# PACK must fire exactly the planted patterns too.
set -u
gen=$1 pack=$2 cs=${3:-}
here=$(dirname "$0")
dir=$(mktemp -d "${TMPDIR:-/tmp}/cs-txlog-smoke.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not found" >&2; exit 77; }
ref() { python3 "$here/txlog_reference.py" --pack "$1" --truth "$2" "$3"; }
check() { python3 "$here/txlog_truth_check.py" --pack "$pack" "$1" "$2"; }
txids() { grep -o 'tx[0-9a-f]\{16\}' "$1" | sort; }

n=30000
opts="--records $n --seed 7 --accounts 3000"
"$gen" $opts --format json --out "$dir/a.json" --truth "$dir/a.truth" 2>/dev/null || fail "gen_txlog json"
"$gen" $opts --format json --out "$dir/b.json" --truth "$dir/b.truth" 2>/dev/null || fail "gen_txlog json again"
cmp -s "$dir/a.json" "$dir/b.json" && cmp -s "$dir/a.truth" "$dir/b.truth" || fail "one seed gave two logs"
"$gen" --records $n --seed 8 --accounts 3000 --out "$dir/c.json" --truth "$dir/c.truth" 2>/dev/null ||
    fail "gen_txlog seed 8"
cmp -s "$dir/a.json" "$dir/c.json" && fail "seeds 7 and 8 gave the same log"
[ "$(wc -l < "$dir/a.json")" = $n ] || fail "json: not $n lines"
fires=$(grep -c '^fire	' "$dir/a.truth")
nears=$(grep -c '^nofire	' "$dir/a.truth")
[ "$fires" -ge 15 ] && [ "$nears" -ge 15 ] || fail "only $fires planted firings and $nears near misses"
txids "$dir/a.json" > "$dir/a.ids"
[ "$(uniq -d "$dir/a.ids" | wc -l)" = 0 ] || fail "a txid occurs twice"

for f in json csv kv zeek; do
    "$gen" $opts --format $f --out "$dir/t.$f" --truth "$dir/t.$f.truth" 2>/dev/null || fail "gen_txlog $f"
    txids "$dir/t.$f" | cmp -s - "$dir/a.ids" || fail "$f: not the records of json"
    cut -f1-4 "$dir/t.$f.truth" | grep -v '^#' > "$dir/t.$f.keys"
    cut -f1-4 "$dir/a.truth" | grep -v '^#' | cmp -s - "$dir/t.$f.keys" || fail "$f: truth differs from json's"
    ref "$pack" "$dir/t.$f.truth" "$dir/t.$f" > "$dir/ref.$f.out" || { cat "$dir/ref.$f.out" >&2; fail "$f: reference"; }
done

# Out of order by up to 300 s (the pack's slack is 10 min): same lines, other order.
"$gen" $opts --disorder 300 --out "$dir/d.json" --truth "$dir/d.truth" 2>/dev/null || fail "gen_txlog --disorder"
cmp -s "$dir/a.json" "$dir/d.json" && fail "--disorder 300 changed nothing"
sort "$dir/a.json" > "$dir/a.sorted"
sort "$dir/d.json" | cmp -s - "$dir/a.sorted" || fail "--disorder changed the records"
ref "$pack" "$dir/d.truth" "$dir/d.json" > "$dir/ref.d.out" || { cat "$dir/ref.d.out" >&2; fail "disorder: reference"; }

# Each near miss sits at an edge: moving the edge must make the check fail.
for edit in 's/distinct(to)>=10/distinct(to)>=9/' 's/ when=status!=rejected//' 's/within=30m/within=46m/' \
    's/count>=3 within=24h/count>=3 within=26h/' 's/sum(amount)>=50000/sum(amount)>=45000/'; do
    sed "$edit" "$pack" > "$dir/edge.pack"
    ref "$dir/edge.pack" "$dir/a.truth" "$dir/a.json" > "$dir/edge.out" && fail "pack edited by $edit: no difference"
    grep -q '^unexpected: .*near miss' "$dir/edge.out" || fail "pack edited by $edit: no near miss fired"
done

# The checker on evidence it must accept and on evidence it must reject.
python3 "$here/txlog_reference.py" --pack "$pack" --out "$dir/ev.ndjson" "$dir/a.json" || fail "reference --out"
check "$dir/a.truth" "$dir/ev.ndjson" > "$dir/chk.out" || { cat "$dir/chk.out" >&2; fail "checker rejects the reference"; }
sed 1d "$dir/ev.ndjson" > "$dir/ev.less"
check "$dir/a.truth" "$dir/ev.less" > "$dir/chk.out" && fail "checker missed a missing firing"
grep -q '^missing: ' "$dir/chk.out" || fail "checker did not name the missing firing"
key=$(awk -F'\t' '$1 == "nofire" { print $3; exit }' "$dir/a.truth")
rule=$(awk -F'\t' '$1 == "nofire" { print $2; exit }' "$dir/a.truth")
{ cat "$dir/ev.ndjson"; printf '{"indicator":{"id":"%s"},"key":"%s","contributors":[{"line":1}]}\n' "$rule" "$key"; } \
    > "$dir/ev.more"
check "$dir/a.truth" "$dir/ev.more" > "$dir/chk.out" && fail "checker missed an unexpected firing"
grep -q "^unexpected: $rule $key (near miss" "$dir/chk.out" || fail "checker did not name the near miss"

if [ -n "$cs" ]; then
    for f in json csv kv zeek; do
        "$cs" scan -q --rules "$pack" --out "$dir/ev.$f" "$dir/t.$f" > "$dir/scan.$f.out" 2>&1 ||
            { cat "$dir/scan.$f.out" >&2; fail "$f: cybersieve scan"; }
        check "$dir/t.$f.truth" "$dir/ev.$f/records.ndjson" > "$dir/chk.$f.out" ||
            { cat "$dir/chk.$f.out" >&2; fail "$f: cybersieve firings differ from the truth"; }
    done
fi
echo "txlog smoke: ok ($fires planted firings, $nears near misses, $n records per format)"
