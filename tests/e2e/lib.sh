# shellcheck shell=bash
# Shared helpers for the end-to-end tests (sourced by run_case.sh and test_*.sh).
#
# A test script is called as `script BINARY SOURCE_DIR`; it exits 0 on pass,
# 1 on failure, 77 when it cannot run here. Every helper that finds a problem
# prints "FAIL: ..." on stderr and returns non-zero; scripts call `fail` to
# count failures and `finish` at the end. Scratch files live in $E2E_TMP,
# removed on exit. JSON checks use python3 (standard library only).

E2E_FAILS=0

e2e_init() {
	CS_BIN=$1
	CS_SRC=$2
	if [ ! -x "$CS_BIN" ]; then
		echo "FAIL: binary $CS_BIN not executable" >&2
		exit 1
	fi
	if ! command -v python3 >/dev/null 2>&1; then
		echo "SKIP: python3 not found" >&2
		exit 77
	fi
	E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/cs-e2e.XXXXXX") || exit 1
	trap 'chmod -R u+rwx "$E2E_TMP" 2>/dev/null; rm -rf "$E2E_TMP"' EXIT
	export LC_ALL=C
}

fail() {
	echo "FAIL: $*" >&2
	E2E_FAILS=$((E2E_FAILS + 1))
}

note() {
	echo "# $*" >&2
}

finish() {
	if [ "$E2E_FAILS" -ne 0 ]; then
		echo "$E2E_FAILS check(s) failed" >&2
		exit 1
	fi
	echo "ok" >&2
	exit 0
}

# expect_rc WHAT EXPECTED ACTUAL
expect_rc() {
	if [ "$2" != "$3" ]; then
		fail "$1: exit status $3, expected $2"
		return 1
	fi
}

# expect_grep WHAT FILE FIXED-STRING: FILE must contain the string.
expect_grep() {
	if ! grep -qF -- "$3" "$2"; then
		fail "$1: '$3' not found in $2:"
		sed 's/^/    /' "$2" | head -20 >&2
		return 1
	fi
}

# cs_scan OUTDIR ARGS...: run a scan quietly into OUTDIR, stderr to OUTDIR.err.
# Sets CS_RC.
cs_scan() {
	local out=$1
	shift
	"$CS_BIN" scan -q --out "$out" "$@" 2>"$out.err"
	CS_RC=$?
}

# ndjson_valid FILE: every line is one JSON object and the file ends with a newline.
ndjson_valid() {
	python3 - "$1" <<'EOF'
import json, sys
data = open(sys.argv[1], 'rb').read()
if data and not data.endswith(b'\n'):
    sys.exit('%s: does not end with a newline' % sys.argv[1])
for n, line in enumerate(data.split(b'\n')[:-1] if data else [], 1):
    try:
        obj = json.loads(line)
    except ValueError as e:
        sys.exit('%s:%d: not JSON: %s' % (sys.argv[1], n, e))
    if not isinstance(obj, dict):
        sys.exit('%s:%d: not an object' % (sys.argv[1], n))
EOF
}

# ndjson_norm FILE [PREFIX [drop-seq]]: print the records normalised, one canonical
# JSON object per line, sorted: prev, record_id, run_id, time_detected and
# tool.version dropped (and seq with "drop-seq"), PREFIX at the start of any
# string replaced by "@CASE@".
ndjson_norm() {
	python3 - "$@" <<'EOF'
import json, sys
path = sys.argv[1]
prefix = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else None
drop_seq = len(sys.argv) > 3 and sys.argv[3] == 'drop-seq'
def fix(v):
    if isinstance(v, dict):
        return {k: fix(x) for k, x in v.items()}
    if isinstance(v, list):
        return [fix(x) for x in v]
    if prefix and isinstance(v, str) and v.startswith(prefix):
        return '@CASE@' + v[len(prefix):]
    return v
out = []
for line in open(path, 'rb').read().split(b'\n'):
    if not line.strip():
        continue
    r = json.loads(line)
    for k in ('prev', 'record_id', 'run_id', 'time_detected'):
        r.pop(k, None)
    if drop_seq:
        r.pop('seq', None)
    if isinstance(r.get('tool'), dict):
        r['tool'].pop('version', None)
    out.append(json.dumps(fix(r), sort_keys=True, ensure_ascii=True))
for s in sorted(out):
    print(s)
EOF
}

# json_subset EXPECTED ACTUAL [PREFIX]: every key of EXPECTED (recursively)
# equals ACTUAL's value. Lists are compared element by element (same length).
# A string value ending in "*" in EXPECTED is a prefix. PREFIX as in ndjson_norm.
json_subset() {
	python3 - "$@" <<'EOF'
import json, sys
exp = json.load(open(sys.argv[1]))
act = json.load(open(sys.argv[2]))
prefix = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else None
errs = []
def walk(e, a, where):
    if isinstance(e, dict):
        if not isinstance(a, dict):
            errs.append('%s: expected an object, got %r' % (where, a)); return
        for k, v in e.items():
            if k not in a:
                errs.append('%s.%s: missing' % (where, k))
            else:
                walk(v, a[k], where + '.' + k)
    elif isinstance(e, list):
        if not isinstance(a, list) or len(a) != len(e):
            errs.append('%s: expected a list of %d, got %r' % (where, len(e), a)); return
        for i, (x, y) in enumerate(zip(e, a)):
            walk(x, y, '%s[%d]' % (where, i))
    else:
        if prefix and isinstance(a, str) and a.startswith(prefix):
            a = '@CASE@' + a[len(prefix):]
        if isinstance(e, str) and e.endswith('*'):
            ok = isinstance(a, str) and a.startswith(e[:-1])
        else:
            ok = (e == a and type(e) == type(a))
        if not ok:
            errs.append('%s: expected %r, got %r' % (where, e, a))
walk(exp, act, '$')
for m in errs:
    print('  ' + m, file=sys.stderr)
sys.exit(1 if errs else 0)
EOF
}

# rec_lines FILE: the sorted, distinct source.line values of the records.
rec_lines() {
	python3 - "$1" <<'EOF'
import json, sys
s = set()
for line in open(sys.argv[1], 'rb'):
    if line.strip():
        s.add(json.loads(line)['source']['line'])
for n in sorted(s):
    print(n)
EOF
}

# rec_count_by_value FILE: "COUNT<TAB>VALUE" per indicator value, counting distinct lines.
rec_count_by_value() {
	python3 - "$1" <<'EOF'
import json, sys, collections
seen = collections.defaultdict(set)
for line in open(sys.argv[1], 'rb'):
    if line.strip():
        r = json.loads(line)
        seen[r['indicator']['value']].add((r['source']['path'], r['source']['line']))
for v in sorted(seen):
    print('%d\t%s' % (len(seen[v]), v))
EOF
}

# summary_get FILE EXPR: print a value of summary.json, EXPR a Python
# expression over `s` (e.g. "s['inputs'][0]['status']").
summary_get() {
	python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# input_of SUMMARY PATH-SUFFIX KEY: KEY of the (first) input whose path ends with PATH-SUFFIX.
input_of() {
	python3 - "$@" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
for i in s['inputs']:
    if i['path'].endswith(sys.argv[2]):
        print(i.get(sys.argv[3]))
        break
else:
    print('<no input %s>' % sys.argv[2])
EOF
}

# ndjson_first_diff A B: print how two normalised record lists differ: the
# first differing record field by field, and how many records differ in each field.
ndjson_first_diff() {
	python3 - "$1" "$2" <<'PYEOF'
import collections, json, sys
a = open(sys.argv[1]).read().splitlines()
b = open(sys.argv[2]).read().splitlines()
def flat(d, p=''):
    o = {}
    for k, v in d.items():
        if isinstance(v, dict):
            o.update(flat(v, p + k + '.'))
        else:
            o[p + k] = v
    return o
print('  %d vs %d records' % (len(a), len(b)), file=sys.stderr)
fields = collections.Counter()
first = True
for x, y in zip(a, b):
    if x == y:
        continue
    fx, fy = flat(json.loads(x)), flat(json.loads(y))
    diff = [k for k in sorted(set(fx) | set(fy)) if fx.get(k) != fy.get(k)]
    fields.update(diff)
    if first:
        first = False
        print('  first difference, at %s line %s:' % (fx.get('source.path'), fx.get('source.line')),
              file=sys.stderr)
        for k in diff:
            print('    %s: %r vs %r' % (k, fx.get(k), fy.get(k)), file=sys.stderr)
for k, n in fields.most_common():
    print('  %d record(s) differ in %s' % (n, k), file=sys.stderr)
PYEOF
}

# veth_netns NS OUTER INNER: a veth pair whose INNER end sits in a new network
# namespace NS, both ends up. Jumbo MTU (test captures hold frames over 1500
# bytes); no IPv6, so the kernel sends nothing of its own onto the link. Exits
# 77 (skip) when namespaces cannot be made here.
veth_netns() {
	if ! ip netns add "$1" 2>"$E2E_TMP/ns.err"; then
		echo "SKIP: cannot create a network namespace: $(cat "$E2E_TMP/ns.err")" >&2
		exit 77
	fi
	ip link add "$2" mtu 9000 type veth peer name "$3" mtu 9000 || exit 1
	ip link set "$3" netns "$1" || exit 1
	sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1" 2>/dev/null
	ip netns exec "$1" sysctl -qw "net.ipv6.conf.$3.disable_ipv6=1" 2>/dev/null
	ip link set "$2" up || exit 1
	ip netns exec "$1" ip link set "$3" up || exit 1
}

# wait_tap LOG PID: wait until the tap writing LOG says it captures; 1 if it
# died or took over 10 s.
wait_tap() {
	_i=0
	while ! grep -q "capturing with" "$1" 2>/dev/null; do
		_i=$((_i + 1))
		if [ $_i -gt 100 ] || ! kill -0 "$2" 2>/dev/null; then
			fail "tap did not start: $(cat "$1")"
			return 1
		fi
		sleep 0.1
	done
}
