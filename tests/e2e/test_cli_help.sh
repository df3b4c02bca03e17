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
"$CS_BIN" scan -q -e literal:x --out "$E2E_TMP/o2" --help >"$E2E_TMP/out" 2>/dev/null ||
	fail "--help last: exit $?"
grep -q "scan options:" "$E2E_TMP/out" || fail "--help last: no usage"
[ -e "$E2E_TMP/o2" ] && fail "--help last: a scan ran"
# Not a command: --help does not hide that.
"$CS_BIN" frobnicate --help >/dev/null 2>"$E2E_TMP/err"
rc=$?
[ $rc -eq 2 ] || fail "unknown command with --help: exit $rc, want 2"
grep -q "unknown command 'frobnicate'" "$E2E_TMP/err" || fail "unknown command not named"
# As an option's value in the middle it is a value: the operator is "--help".
printf 'x\n' >"$E2E_TMP/in.log"
"$CS_BIN" scan -q -e literal:x --operator --help --out "$E2E_TMP/o3" "$E2E_TMP/in.log" \
	>/dev/null 2>"$E2E_TMP/err"
rc=$?
[ $rc -eq 0 ] || fail "--operator --help: exit $rc, want 0 (a match): $(head -2 "$E2E_TMP/err")"
grep -q '"operator": *"--help"' "$E2E_TMP/o3/manifest.json" ||
	fail "--operator --help: operator not in the manifest"
"$CS_BIN" scan --no-such-option x >"$E2E_TMP/out" 2>"$E2E_TMP/err"
rc=$?
[ $rc -eq 2 ] || fail "unknown option: exit $rc, want 2"
grep -q "no-such-option" "$E2E_TMP/err" || fail "unknown option not named: $(head -2 "$E2E_TMP/err")"
finish
