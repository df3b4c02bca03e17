#!/bin/bash
# Window rules in a batch scan: a burst split over two inputs (one gzip)
# fires once, in the input where it completes, and its record names every
# contributing line with the digest of the input it is in; the same rules
# read CSV with a header, key=value and Zeek TSV; a match:ID condition uses
# the indicators matched on the line; records later than the slack are
# counted, not used. The evidence verifies, and each contributor's bytes
# are found again at its offset.
. "$(dirname "$0")/lib.sh"
e2e_init "$1" "$2"
T=$E2E_TMP

cat >"$T/w.pack" <<'PACK'
@name wtest
@category laundering
@source e2e test
@licence CC0-1.0
@tlp clear
st window key=from when=amount:9000..9999.99 count>=3 within=24h slack=1h
fo window key=from distinct(to)>=3 within=1h
pt window passthrough in=to out=from within=30m when=amount:5000..1000000
mx literal/q MULE-FLAG
mf window key=from when=match:mx count>=2 within=1h
PACK

# 1. A burst over two inputs: two transfers on day one, the third on day two (gzip).
cat >"$T/day1.jsonl" <<'LOG'
{"ts":"2026-03-01T22:00:00Z","txid":"a1","from":"ACC-1","to":"X1","amount":9500.00}
{"ts":"2026-03-01T23:00:00Z","txid":"a2","from":"ACC-1","to":"X2","amount":"9,100.50"}
{"ts":"2026-03-01T23:10:00Z","txid":"n1","from":"ACC-9","to":"X3","amount":8999.99}
LOG
printf '{"ts":"2026-03-02T09:00:00Z","txid":"a3","from":"ACC-1","to":"X3","amount":9999.99}\n' | gzip >"$T/day2.jsonl.gz"
cs_scan "$T/o1" --rules "$T/w.pack" "$T/day1.jsonl" "$T/day2.jsonl.gz"
expect_rc "burst" 0 "$CS_RC"
"$CS_BIN" verify "$T/o1" >/dev/null 2>&1 || fail "burst: verify"
python3 - "$T/o1/records.ndjson" "$(sha256sum <"$T/day1.jsonl" | cut -d' ' -f1)" \
	"$(sha256sum <"$T/day2.jsonl.gz" | cut -d' ' -f1)" "$T" <<'PY' || fail "burst: record"
import gzip, json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 1, [r['indicator']['id'] for r in recs]
r = recs[0]
assert r['indicator']['id'] == 'st' and r['indicator']['type'] == 'window', r['indicator']
assert r['scope'] == 'window' and r['key'] == 'ACC-1', r
assert r['aggregate'] == {'function': 'count', 'value': '3', 'first': '2026-03-01T22:00:00.000Z',
                          'last': '2026-03-02T09:00:00.000Z'}, r['aggregate']
c = r['contributors']
assert [(x['path'].rsplit('/', 1)[1], x['line'], x['sha256'], x['gzip']) for x in c] == [
    ('day1.jsonl', 1, sys.argv[2], False), ('day1.jsonl', 2, sys.argv[2], False),
    ('day2.jsonl.gz', 1, sys.argv[3], True)], c
assert [x['time'] for x in c] == ['2026-03-01T22:00:00.000Z', '2026-03-01T23:00:00.000Z',
                                  '2026-03-02T09:00:00.000Z'], c
# Each contributor's bytes, at its offset in the (decompressed) input, are a whole line.
for x in c:
    data = (gzip.open if x['gzip'] else open)(x['path'], 'rb').read()
    line = data[x['offset']:x['offset'] + x['length']]
    assert line.startswith(b'{"ts"') and data[x['offset'] + x['length']:][:1] == b'\n', line
PY

# 2. The same rules over CSV (header names the columns), key=value and Zeek TSV.
# Not fired: SRC-8 (one destination), MID-5 (out 31 min after in), ZK-1's
# fan-out (three destinations over two hours, epoch seconds with fractions).
cat >"$T/t.csv" <<'LOG'
ts,txid,from,to,amount,memo
2026-03-01T10:00:00Z,c1,SRC-7,D1,120.00,"rent, March"
2026-03-01T10:10:00Z,c2,SRC-7,D2,80.00,"a ""quoted"" memo"
2026-03-01T10:59:59Z,c3,SRC-7,D3,55.00,x
2026-03-01T12:00:00Z,c4,SRC-8,D1,10.00,y
LOG
cat >"$T/t.kv" <<'LOG'
time=2026-03-01T08:00:00Z txid=k1 from=EXT-1 to=MID-4 amount=20000 note="salary"
time=2026-03-01T08:25:00Z txid=k2 from=MID-4 to=OUT-9 amount=19500
time=2026-03-01T09:00:00Z txid=k3 from=EXT-2 to=MID-5 amount=20000
time=2026-03-01T09:31:00Z txid=k4 from=MID-5 to=OUT-9 amount=19500
LOG
printf '#separator \\x09\n#fields\tts\tuid\tfrom\tto\tamount\n#types\ttime\tstring\tstring\tstring\tdouble\n1772359200.000000\tz1\tZK-1\tQ1\t9001\n1772362800.5\tz2\tZK-1\tQ2\t9002\n1772366400\tz3\tZK-1\tQ3\t9003\n' >"$T/t.zeek"
cs_scan "$T/o2" --rules "$T/w.pack" "$T/t.csv" "$T/t.kv" "$T/t.zeek"
expect_rc "formats" 0 "$CS_RC"
got=$(python3 - "$T/o2/records.ndjson" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    print(r['indicator']['id'], r['key'], r['aggregate']['value'],
          ','.join('%s:%d' % (c['path'].rsplit('.', 1)[1], c['line']) for c in r['contributors']))
PY
)
want="fo SRC-7 3 csv:2,csv:3,csv:4
pt MID-4 2 kv:1,kv:2
st ZK-1 3 zeek:4,zeek:5,zeek:6"
[ "$got" = "$want" ] || { fail "formats: firings differ"; printf '  got:\n%s\n  expected:\n%s\n' "$got" "$want" >&2; }

# 3. match:ID: two lines carrying the (part-only) flag within the hour; one without does not count.
cat >"$T/m.log" <<'LOG'
{"ts":"2026-03-01T10:00:00Z","from":"M-1","to":"a","memo":"MULE-FLAG"}
{"ts":"2026-03-01T10:05:00Z","from":"M-1","to":"b","memo":"plain"}
{"ts":"2026-03-01T10:20:00Z","from":"M-1","to":"c","memo":"MULE-FLAG again"}
LOG
cs_scan "$T/o3" --rules "$T/w.pack" "$T/m.log"
got=$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    print(r["indicator"]["id"], r["key"], [c["line"] for c in r["contributors"]])' "$T/o3/records.ndjson")
# Rules that fire on one line fire in pack order.
[ "$got" = "fo M-1 [1, 2, 3]
mf M-1 [1, 3]" ] || fail "match condition: got: $got"

# 4. Late records: older than the newest seen minus the slack (1 h) are counted and not used.
cat >"$T/late.jsonl" <<'LOG'
{"ts":"2026-03-01T12:00:00Z","from":"L-1","to":"a","amount":9500}
{"ts":"2026-03-01T10:30:00Z","from":"L-1","to":"b","amount":9500}
{"ts":"2026-03-01T11:30:00Z","from":"L-1","to":"c","amount":9500}
LOG
cs_scan "$T/o4" --rules "$T/w.pack" "$T/late.jsonl"
python3 - "$T/o4/summary.json" "$T/o4/records.ndjson" <<'PY' || fail "late records"
import json, sys
s = json.load(open(sys.argv[1]))['window_rules']
st = [r for r in s['rules'] if r['id'] == 'st'][0]
assert st['late'] == 1 and st['qualified'] == 3 and st['fired'] == 0, st
assert open(sys.argv[2]).read() == '', 'no record expected'
PY

# 3b. match:ID names an indicator of the rule's own pack: a same id in another
# pack does not count; an id no pack has refuses the rule's pack.
printf '@name other\n@category scam\n@source e2e test\n@licence CC0-1.0\n@tlp clear\nmx literal harmless\n' >"$T/other.pack"
sed 's/MULE-FLAG/harmless/' "$T/m.log" >"$T/h.log"
cs_scan "$T/o3b" --rules "$T/w.pack" --rules "$T/other.pack" "$T/h.log"
grep -q '"id":"mf"' "$T/o3b/records.ndjson" && fail "match condition: another pack's id counted"
printf '@name u\n@category laundering\n@source e2e test\n@licence CC0-1.0\n@tlp clear\nu1 window key=from when=match:nosuch count>=2 within=1h\n' >"$T/u.pack"
"$CS_BIN" scan -q --strict --rules "$T/u.pack" --out "$T/o3c" "$T/m.log" 2>"$T/o3c.err"
expect_rc "unknown match id" 2 "$?"
expect_grep "unknown match id" "$T/o3c.err" "u.pack:6: window 'u1': match:nosuch names no loaded indicator"

# 3c. A threshold above the records a key may hold refuses the pack, not the run.
printf '@name th\n@category laundering\n@source e2e test\n@licence CC0-1.0\n@tlp clear\nw1 window key=from count>=100000000 within=1h\n' >"$T/th.pack"
cs_scan "$T/o3d" --rules "$T/th.pack" --rules "$T/w.pack" "$T/m.log"
expect_rc "threshold" 3 "$CS_RC"
expect_grep "threshold" "$T/o3d.err" "th.pack:6: window 'w1': threshold 100000000 above the 10000 records held per key"
expect_grep "threshold" "$T/o3d/records.ndjson" '"id":"mf"'

# 4b. A key whose name holds a dot as Zeek's JSON logs write them ("id.orig_h").
printf '@name z\n@category laundering\n@source e2e test\n@licence CC0-1.0\n@tlp clear\nzk window key=id.orig_h time=ts count>=3 within=1h\n' >"$T/z.pack"
for i in 1 2 3; do printf '{"ts":1772359%03d.5,"id.orig_h":"10.0.0.9","id.resp_h":"192.0.2.%d"}\n' "$i" "$i"; done >"$T/conn.json"
cs_scan "$T/oz" --rules "$T/z.pack" "$T/conn.json"
expect_rc "dotted key" 0 "$CS_RC"
expect_grep "dotted key" "$T/oz/records.ndjson" '"key":"10.0.0.9"'

# 5. A firing with 8,000 contributing records lists the first 1,000 and
# counts the others; records stay bounded and the evidence verifies.
printf '@name big\n@category laundering\n@source e2e test\n@licence CC0-1.0\n@tlp clear\nbig window key=from time=time count>=8000 within=1h\n' >"$T/big.pack"
python3 -c '
for i in range(24000):
    t = i // 100
    print("time=2024-01-01T%02d:%02d:%02dZ from=alice note=x%d" % (t // 3600, t // 60 % 60, t % 60, i))' >"$T/big.log"
cs_scan "$T/o5" --rules "$T/big.pack" "$T/big.log"
expect_rc "big firing" 0 "$CS_RC"
"$CS_BIN" verify "$T/o5" >/dev/null 2>&1 || fail "big firing: verify"
python3 - "$T/o5/records.ndjson" <<'PY' || fail "big firing: records"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 3, len(recs)
for r in recs:
    assert r['aggregate']['value'] == '8000', r['aggregate']
    assert len(r['contributors']) == 1000 and r['contributors_omitted'] == 7000, r.keys()
assert [r['contributors'][0]['line'] for r in recs] == [1, 8001, 16001]
PY
finish
