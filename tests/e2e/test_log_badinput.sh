#!/bin/bash
# Bad input never stops a run: an unreadable file, a missing file, a gzip file
# damaged in its second of three members, a binary file, an empty file, a
# 100 MB line, a directory loop. Each is accounted for in summary.json (status
# and reason), trouble is named on stderr, the other inputs are scanned, and
# the exit status is 3 (matches + trouble) or 4 (no match + trouble).
# Then output failure: a records file that cannot grow (ulimit -f) ends the
# run with exit status 2 and leaves valid NDJSON behind.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init "$@"

d="$E2E_TMP/in"
mkdir -p "$d"

# --- corrupt gzip: three members, the second damaged in the middle ---------
{
	for i in 1 2 3 4 5; do echo "member one line $i"; done
	echo "m1 evil.com"
} >"$E2E_TMP/g1"
for i in $(seq 1 200); do echo "member two line $i with some text to make it longer evil.com"; done >"$E2E_TMP/g2"
printf 'm3 first\nm3 evil.com\n' >"$E2E_TMP/g3"
gzip -n -c "$E2E_TMP/g1" >"$d/corrupt.gz"
m2_start=$(stat -c %s "$d/corrupt.gz")
gzip -n -c "$E2E_TMP/g2" >>"$d/corrupt.gz"
m2_end=$(stat -c %s "$d/corrupt.gz")
gzip -n -c "$E2E_TMP/g3" >>"$d/corrupt.gz"
python3 - "$d/corrupt.gz" "$m2_start" "$m2_end" <<'EOF'
import sys
p, a, b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = bytearray(open(p, 'rb').read())
for i in range((a + b) // 2, (a + b) // 2 + 8):
    data[i] ^= 0xff
open(p, 'wb').write(data)
EOF

# --- binary, empty, missing, loop --------------------------------------------
python3 - "$d/binary.dat" <<'EOF'
import random, sys
r = random.Random(7)
body = bytes(r.randrange(256) for _ in range(20000))
open(sys.argv[1], 'wb').write(body + b'x\x00y evil.com z\n')
EOF
: >"$d/empty.log"
mkdir -p "$d/loop/sub"
echo "in loop evil.com" >"$d/loop/sub/f.log"
ln -s .. "$d/loop/sub/back"

# --- a 100 MB line with the indicator near its end ---------------------------
big="$E2E_TMP/big.log"
python3 - "$big" <<'EOF'
import sys
with open(sys.argv[1], 'wb') as f:
    block = b'A' * (1 << 20)
    for _ in range(99):
        f.write(block)
    f.write(b'A' * ((1 << 20) - 40) + b' evil.com tail\nsecond evil.com\n')
EOF
big_off=$(((100 << 20) - 40 + 1))

# --- one run over all of it ---------------------------------------------------
cs_scan "$E2E_TMP/out" -e domain:evil.com --threads 2 \
	"$d/corrupt.gz" "$d/binary.dat" "$d/empty.log" "$d/missing.log" "$d/loop"
expect_rc "mixed bad input" 3 "$CS_RC"
for p in "$d/corrupt.gz" "$d/missing.log" "$d/loop/sub/back"; do
	expect_grep "stderr names $p" "$E2E_TMP/out.err" "$p"
done
ndjson_valid "$E2E_TMP/out/records.ndjson" || fail "records are not valid NDJSON"

python3 - "$E2E_TMP/out" "$d" <<'EOF' || fail "mixed bad input: results not as expected"
import json, sys
out, d = sys.argv[1], sys.argv[2]
recs = [json.loads(l) for l in open(out + '/records.ndjson') if l.strip()]
s = json.load(open(out + '/summary.json'))
inp = {i['path'][len(d) + 1:]: i for i in s['inputs']}
errs = []
def want(cond, msg):
    if not cond:
        errs.append(msg)
by = {}
for r in recs:
    by.setdefault(r['source']['path'][len(d) + 1:], []).append(r)
# corrupt.gz: members 1 and 3 are found; member 2 may give what preceded the damage.
c = inp.get('corrupt.gz', {})
want(c.get('status') == 'partial', 'corrupt.gz status %r' % c.get('status'))
want('offset' in (c.get('reason') or ''), 'corrupt.gz reason %r names no offset' % c.get('reason'))
want(c.get('gzip_members') == 3, 'corrupt.gz gzip_members %r' % c.get('gzip_members'))
want(c.get('gzip_resyncs', 0) >= 1, 'corrupt.gz gzip_resyncs %r' % c.get('gzip_resyncs'))
cr = by.get('corrupt.gz', [])
m1 = [r for r in cr if r['match']['context']['before'] == 'm1 ']
m3 = [r for r in cr if r['match']['context']['before'] == 'm3 ']
want(len(m1) == 1 and m1[0]['source']['line'] == 6 and m1[0]['source']['offset'] == 93,
     'member 1 record missing or misplaced: %r' % [r['source'] for r in m1])
want(len(m3) == 1, 'member 3 record missing')
if m3:
    want(m3[0]['source']['line'] > 6 and m3[0]['source']['offset'] > 93, 'member 3 record placed before member 1')
for r in cr:
    b = r['match']['context']['before']
    want(b in ('m1 ', 'm3 ') or b.startswith('member two line '), 'corrupt.gz: garbage record %r' % b)
# binary.dat: scanned whole, flagged binary, the match found on its line.
b = inp.get('binary.dat', {})
data = open(d + '/binary.dat', 'rb').read()
want(b.get('status') == 'complete' and b.get('binary') is True, 'binary.dat: %r' % b)
want(b.get('lines') == data.count(b'\n'), 'binary.dat lines %r, want %d' % (b.get('lines'), data.count(b'\n')))
br = by.get('binary.dat', [])
want(len(br) == 1 and br[0]['source']['offset'] == data.index(b'evil.com')
     and br[0]['source']['line'] == data.count(b'\n', 0, data.index(b'evil.com')) + 1,
     'binary.dat records %r' % [r['source'] for r in br])
# empty.log: complete, nothing in it; its digest is that of no bytes.
e = inp.get('empty.log', {})
want(e.get('status') == 'complete' and e.get('lines') == 0 and e.get('bytes') == 0,
     'empty.log: %r' % e)
want(e.get('sha256') == 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
     'empty.log sha256 %r' % e.get('sha256'))
# missing.log: failed, the reason says why.
m = inp.get('missing.log', {})
want(m.get('status') == 'failed' and 'No such file' in (m.get('reason') or ''), 'missing.log: %r' % m)
# loop: the link is reported, the real file under it scanned once.
l = inp.get('loop/sub/back', {})
want(l.get('status') == 'failed' and 'symlink' in (l.get('reason') or ''), 'loop: %r' % l)
want(len(by.get('loop/sub/f.log', [])) == 1, 'loop/sub/f.log scanned %d times' % len(by.get('loop/sub/f.log', [])))
want(s['inputs_partial'] == 1 and s['inputs_failed'] == 2, 'partial %r failed %r' % (s['inputs_partial'], s['inputs_failed']))
want(s['exit_code'] == 3, 'summary exit_code %r' % s['exit_code'])
for m in errs:
    print('  ' + m, file=sys.stderr)
sys.exit(1 if errs else 0)
EOF

# --- the 100 MB line, whole and split -----------------------------------------
for opt in "" "--max-line 1M"; do
	out="$E2E_TMP/big${opt:+-split}"
	# shellcheck disable=SC2086
	cs_scan "$out" -e domain:evil.com --threads 2 $opt "$big"
	expect_rc "100 MB line ${opt:-whole}" 0 "$CS_RC"
	python3 - "$out" "$big_off" "${opt:+split}" <<'EOF' || fail "100 MB line ${opt:-whole}: not as expected"
import json, sys
out, off, split = sys.argv[1], int(sys.argv[2]), sys.argv[3] == 'split'
recs = sorted(([json.loads(l) for l in open(out + '/records.ndjson') if l.strip()]),
              key=lambda r: r['source']['offset'])
s = json.load(open(out + '/summary.json'))['inputs'][0]
got = [(r['source']['line'], r['source']['offset'], r['match'].get('line_split', False)) for r in recs]
want = [(1, off, split), (2, off + len(b"evil.com tail\nsecond "), False)]
errs = []
if got != want:
    errs.append('records %s, want %s' % (got, want))
if recs and recs[0]['match']['context']['after'] != ' tail':
    errs.append('context after %r' % recs[0]['match']['context']['after'])
if s['lines'] != 2 or s['lines_split'] != (1 if split else 0) or s['status'] != 'complete':
    errs.append('summary input %r' % s)
for m in errs:
    print('  ' + m, file=sys.stderr)
sys.exit(1 if errs else 0)
EOF
done
rm -f "$big"

# --- an indicator across the boundary where a long line is split ------------
python3 - "$E2E_TMP/straddle.log" <<'EOF'
import sys
p = (1 << 20) - 4           # "evil.com" starts 4 bytes before the 1 MiB mark
open(sys.argv[1], 'wb').write(b'A' * (p - 1) + b' evil.com ' + b'B' * (3 << 20) + b'\n')
EOF
cs_scan "$E2E_TMP/straddle" -e domain:evil.com --chunk-size 1M --max-line 1M "$E2E_TMP/straddle.log"
expect_rc "straddling match" 0 "$CS_RC"
[ "$(rec_lines "$E2E_TMP/straddle/records.ndjson")" = 1 ] &&
	[ "$(summary_get "$E2E_TMP/straddle/summary.json" "s['inputs'][0]['lines_split']")" = 1 ] ||
	fail "match across a line split not found once on line 1"

# --- unreadable file -----------------------------------------------------------
u="$E2E_TMP/unreadable"
mkdir -p "$u/w"
echo "readable evil.com" >"$u/ok.log"
echo "secret evil.com" >"$u/locked.log"
chmod 000 "$u/locked.log"
chmod 755 "$E2E_TMP" "$u"
chmod 777 "$u/w"
runner=()
if [ "$(id -u)" = 0 ]; then
	if setpriv --reuid=nobody --regid=nogroup --clear-groups "$CS_BIN" version >/dev/null 2>&1; then
		runner=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
	elif su nobody -s /bin/sh -c "'$CS_BIN' version" >/dev/null 2>&1; then
		runner=(su-nobody)
	fi
else
	runner=(env)
fi
if [ ${#runner[@]} -eq 0 ]; then
	note "unreadable-file check skipped: cannot drop root privileges here"
else
	cmd=("$CS_BIN" scan -q -e domain:evil.com --out - --summary "$u/w/s.json" "$u/locked.log" "$u/ok.log")
	if [ "${runner[0]}" = su-nobody ]; then
		su nobody -s /bin/sh -c "$(printf '%q ' "${cmd[@]}")" >"$u/w/rec" 2>"$u/w/err"
	else
		"${runner[@]}" "${cmd[@]}" >"$u/w/rec" 2>"$u/w/err"
	fi
	expect_rc "unreadable file" 3 $?
	expect_grep "stderr names the unreadable file" "$u/w/err" "$u/locked.log"
	[ "$(input_of "$u/w/s.json" locked.log status)" = failed ] || fail "unreadable file not failed"
	expect_grep "reason" "$u/w/s.json" "Permission denied"
	[ "$(rec_lines "$u/w/rec")" = 1 ] && grep -q ok.log "$u/w/rec" ||
		fail "the readable file was not scanned after the unreadable one"
fi

# --- no match + trouble: exit status 4 -----------------------------------------
cs_scan "$E2E_TMP/nomatch" -e domain:not-there.example "$d/empty.log" "$d/missing.log"
expect_rc "no match + missing file" 4 "$CS_RC"

# --- output failure: records.ndjson limited to 8 KiB ---------------------------
many="$E2E_TMP/many"
mkdir -p "$many"
for f in $(seq -w 1 40); do
	for i in 1 2 3; do echo "file $f line $i evil.com"; done >"$many/$f.log"
done
(
	ulimit -f 8
	"$CS_BIN" scan -q -e domain:evil.com --out "$E2E_TMP/full" "$many" 2>"$E2E_TMP/full.err"
)
rc=$?
expect_rc "records file cannot grow" 2 "$rc"
expect_grep "output error on stderr" "$E2E_TMP/full.err" "records.ndjson"
rec="$E2E_TMP/full/records.ndjson"
if [ ! -f "$rec" ]; then
	fail "records.ndjson missing after output failure"
else
	ndjson_valid "$rec" || fail "records.ndjson is not valid NDJSON after output failure"
	size=$(stat -c %s "$rec")
	[ "$size" -le 8192 ] || fail "records.ndjson is $size bytes, over the limit"
	[ "$size" -gt 0 ] || fail "records.ndjson is empty: nothing written before the limit"
fi
finish
