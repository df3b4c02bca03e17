#!/bin/bash
# JSON escaping of what records quote: control bytes, quotes, backslashes, NUL,
# invalid UTF-8 (in the matched text, its context, an indicator value and an
# input path), and UTF-8 characters cut by the context window. Every record
# must parse with a strict JSON parser, and each quoted field must give back
# the exact input bytes: as its UTF-8 string, or through its *_b64 field when
# the bytes are not valid UTF-8.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init "$@"

dir="$E2E_TMP/in"
mkdir -p "$dir"
# File name with an invalid UTF-8 byte: the record's path must round-trip too.
input="$dir/esc-$(printf '\377')-name.log"
python3 - "$input" <<'EOF'
import sys
open(sys.argv[1], 'wb').write(
    b"plain MARK line\n"
    b"ctl \x01\x1f\x7f \"q\" \\ MARK tab\there\n"
    b"bad \xff\xfe utf8 MARK \xc3\x28 end\n"
    b"nul \x00 MARK \x00 x\n"
    b"good \xc3\xa9\xe2\x82\xac MARK \xf0\x9f\x98\x80\n"
    b"cut \xe2\x82\xac\xe2\x82\xacMARK\xe2\x82\xac\r\n"
    b"esc \x1b[31mMARK\x1b[0m \x08\x0c\n"
    b"raw \xff\xfe utf8 in the value\n")
EOF
cat >"$dir/esc.pack" <<'EOF'
@name e2e-escape
@category e2e
@source cybersieve end-to-end tests
@licence CC0-1.0
@tlp clear

esc-ff literal \xff\xfe utf8
EOF

cs_scan "$E2E_TMP/out" --context 5 -e literal:MARK --rules "$dir/esc.pack" "$input"
expect_rc "scan" 0 "$CS_RC"
ndjson_valid "$E2E_TMP/out/records.ndjson" || fail "records are not valid NDJSON"

python3 - "$input" "$E2E_TMP/out/records.ndjson" 5 <<'EOF' || fail "quoted bytes do not round-trip"
import base64, json, os, sys
data = open(sys.argv[1], 'rb').read()
ctx = int(sys.argv[3])
errs = []

def field(obj, key, exact, where):
    """obj[key] (and obj[key_b64]) must give back exactly the bytes `exact`."""
    if not isinstance(obj.get(key), str):
        errs.append('%s: %s missing' % (where, key)); return
    try:
        valid = exact.decode('utf-8') is not None
    except UnicodeDecodeError:
        valid = False
    b64 = obj.get(key + '_b64')
    if valid:
        if obj[key].encode('utf-8') != exact:
            errs.append('%s: %s = %r, want %r' % (where, key, obj[key], exact))
        if b64 is not None:
            errs.append('%s: %s_b64 present for valid UTF-8' % (where, key))
    elif b64 is None:
        errs.append('%s: %s is not UTF-8 (%r) but has no %s_b64' % (where, key, exact, key))
    elif base64.b64decode(b64, validate=True) != exact:
        errs.append('%s: %s_b64 decodes to %r, want %r' % (where, key,
                    base64.b64decode(b64), exact))

records = []
with open(sys.argv[2], 'rb') as f:
    for raw in f:
        # json.loads is strict: a raw control byte inside a string is an error.
        records.append(json.loads(raw.decode('utf-8')))
lines = data.split(b'\n')
want_lines = {1, 2, 3, 4, 5, 6, 7}
got_mark = set()
for r in records:
    s, m, ind = r['source'], r['match'], r['indicator']
    where = 'line %d' % s['line']
    field(s, 'path', os.fsencode(sys.argv[1]), where)
    off, n = s['offset'], m['length']
    line_start = data.rfind(b'\n', 0, off) + 1
    line_end = data.find(b'\n', off)
    if data.count(b'\n', 0, off) + 1 != s['line']:
        errs.append('%s: offset %d is on line %d' % (where, off, data.count(b'\n', 0, off) + 1))
    vis_end = line_end - 1 if data[line_end - 1:line_end] == b'\r' else line_end
    field(m, 'text', data[off:off + n], where)
    field(m['context'], 'before', data[max(line_start, off - ctx):off], where)
    field(m['context'], 'after', data[off + n:min(vis_end, off + n + ctx)], where)
    if ind['id'] == 'e1':
        got_mark.add(s['line'])
        if data[off:off + n] != b'MARK':
            errs.append('%s: offset %d does not hold MARK' % (where, off))
    elif ind['id'] == 'esc-ff':
        field(ind, 'value', b'\xff\xfe utf8', where)
        if s['line'] not in (3, 8):
            errs.append('%s: esc-ff matched on an unexpected line' % where)
    else:
        errs.append('%s: unexpected indicator %r' % (where, ind['id']))
if got_mark != want_lines:
    errs.append('MARK found on lines %s, want %s' % (sorted(got_mark), sorted(want_lines)))
if sum(1 for r in records if r['indicator']['id'] == 'esc-ff') != 2:
    errs.append('esc-ff: want 2 records (lines 3 and 8)')
for e in errs:
    print('  ' + e, file=sys.stderr)
sys.exit(1 if errs else 0)
EOF

# summary.json must parse too, and give the path back through path_b64 or as UTF-8.
python3 - "$E2E_TMP/out/summary.json" "$input" <<'EOF' || fail "summary.json path does not round-trip"
import base64, json, os, sys
s = json.load(open(sys.argv[1], 'rb'))
i = s['inputs'][0]
want = os.fsencode(sys.argv[2])
got = base64.b64decode(i['path_b64']) if 'path_b64' in i else i['path'].encode('utf-8')
if got != want:
    sys.exit('summary path %r, want %r' % (got, want))
if i['binary'] is not True:
    sys.exit('input with NUL bytes not flagged binary')
EOF
finish
