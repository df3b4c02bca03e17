#!/bin/bash
# Help as users ask for it: "cybersieve COMMAND --help" (or -h first) prints
# the usage on stdout and exits 0, for every command; an unknown option still
# fails with status 2 and a message naming it.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init "$@"

for cmd in scan tap verify report export rules keygen; do
	"$CS_BIN" $cmd --help >"$E2E_TMP/out" 2>"$E2E_TMP/err"
	rc=$?
	[ $rc -eq 0 ] || fail "$cmd --help: exit $rc, want 0: $(head -2 "$E2E_TMP/err")"
	grep -q "usage: cybersieve scan" "$E2E_TMP/out" || fail "$cmd --help: no usage on stdout"
	[ -s "$E2E_TMP/err" ] && fail "$cmd --help wrote to stderr: $(head -2 "$E2E_TMP/err")"
done
"$CS_BIN" scan -h >"$E2E_TMP/out" 2>/dev/null || fail "scan -h: exit $?"
grep -q "scan options:" "$E2E_TMP/out" || fail "scan -h: no scan options"
# After "--" it is a file name, not a request for help.
"$CS_BIN" scan -q -e literal:x --out "$E2E_TMP/o" -- --help >"$E2E_TMP/out" 2>"$E2E_TMP/err"
rc=$?
[ $rc -eq 4 ] || fail "scan -- --help: exit $rc, want 4 (no match, an input failed)"
grep -q -- "--help" "$E2E_TMP/err" || fail "scan -- --help: the missing file is not named"
"$CS_BIN" scan --no-such-option x >"$E2E_TMP/out" 2>"$E2E_TMP/err"
rc=$?
[ $rc -eq 2 ] || fail "unknown option: exit $rc, want 2"
grep -q "no-such-option" "$E2E_TMP/err" || fail "unknown option not named: $(head -2 "$E2E_TMP/err")"
finish
