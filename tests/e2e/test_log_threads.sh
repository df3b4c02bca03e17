#!/bin/bash
# Determinism: the records (normalised: without record_id, run_id,
# time_detected, tool.version; seq kept) are identical with --threads 1 and 2,
# and with --chunk-size 4096 against the default, on a ~12 MB log made at test
# time (apache_logs five times, with indicators planted at the start, the end,
# and across what are chunk boundaries for small chunks), plus a gzip copy.
# Records are numbered in input order: seq grows with (input, offset).
set -u
. "$(dirname "$0")/lib.sh"
e2e_init "$@"

src="$CS_SRC/tests/data/apache_logs"
[ -f "$src" ] || { echo "SKIP: $src missing" >&2; exit 77; }
big="$E2E_TMP/big.log"
python3 - "$src" "$big" <<'EOF'
import sys
lines = open(sys.argv[1], 'rb').read().split(b'\n')[:-1]
out = [b'planted first line wire transfer fee to payments@evil-bank.example']
for rep in range(5):
    for i, l in enumerate(lines):
        out.append(l)
        if (i * 7 + rep) % 997 == 0:
            out.append(b'planted %d %d: visit http://evil.example/a/b.exe or x.evil.com; WIRE TRANSFER FEE' % (rep, i))
out.append(b'planted last line evil.com')
open(sys.argv[2], 'wb').write(b'\n'.join(out) + b'\n')
EOF
head -c 3000000 "$big" | gzip -n >"$E2E_TMP/part.gz"

ind=(-e literal:Googlebot -e domain:evil.com -e 'literal/i:wire transfer fee'
	-e 'url:http://evil.example/a/b.exe' -e 'email:payments@evil-bank.example'
	-e 'regex:"GET /[a-z-]+/kibana[^ ]*\.png')
i=0
for opts in "--threads 1" "--threads 2" "--threads 1 --chunk-size 4096" "--threads 2 --chunk-size 4096"; do
	i=$((i + 1))
	# shellcheck disable=SC2086
	cs_scan "$E2E_TMP/o$i" $opts "${ind[@]}" "$big" "$E2E_TMP/part.gz"
	expect_rc "$opts" 0 "$CS_RC"
	ndjson_norm "$E2E_TMP/o$i/records.ndjson" "$E2E_TMP" >"$E2E_TMP/n$i"
	if [ "$i" -gt 1 ] && ! cmp -s "$E2E_TMP/n1" "$E2E_TMP/n$i"; then
		fail "records with '$opts' differ from '--threads 1':"
		ndjson_first_diff "$E2E_TMP/n1" "$E2E_TMP/n$i"
	fi
done

python3 - "$E2E_TMP/o1/records.ndjson" "$big" <<'EOF' || fail "records of the reference run are wrong"
import bisect, json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
data = open(sys.argv[2], 'rb').read()
newlines = []
pos = data.find(b'\n')
while pos >= 0:
    newlines.append(pos)
    pos = data.find(b'\n', pos + 1)
errs = []
seqs = [r['seq'] for r in recs]
if seqs != list(range(1, len(recs) + 1)):
    errs.append('seq is not 1..n in file order')
key = [(0 if r['source']['path'].endswith('big.log') else 1, r['source']['offset']) for r in recs]
if key != sorted(key):
    errs.append('records not in (input, offset) order')
planted = data.count(b'\nplanted ') + 1
got = sum(1 for r in recs if r['indicator']['value'] == 'wire transfer fee'
          and r['source']['path'].endswith('big.log'))
if got != planted - 1:          # every planted line but the last one has the phrase
    errs.append('wire transfer fee: %d records, want %d' % (got, planted - 1))
for r in recs:
    s = r['source']
    if s['gzip'] != s['path'].endswith('.gz'):
        errs.append('%s line %d: source.gzip %r' % (s['path'], s['line'], s['gzip'])); break
for r in recs:
    s = r['source']
    if not s['path'].endswith('big.log'):
        continue
    if bisect.bisect_left(newlines, s['offset']) + 1 != s['line']:
        errs.append('offset %d is not on line %d' % (s['offset'], s['line'])); break
    if data[s['offset']:s['offset'] + r['match']['length']].decode().lower() != r['match']['text'].lower():
        errs.append('text at offset %d differs' % s['offset']); break
for m in errs:
    print('  ' + m, file=sys.stderr)
sys.exit(1 if errs else 0)
EOF
note "$(wc -l <"$E2E_TMP/n1") records compared"
finish
