#!/bin/sh
# Output on a full file system (a 1 MiB tmpfs mounted here): the run stops with a
# clear error naming the records file, what was written is whole NDJSON, its hash
# chain verifies, inputs whose records were lost are not reported complete, and
# verify says the run is incomplete. The same with `--out -` into a file there.
# Usage: test_log_diskfull.sh BINARY SOURCE_DIR. Needs root (mount).
. "$2/tests/e2e/lib.sh"
e2e_init "$1" "$2"
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: mounting a small tmpfs needs root" >&2
	exit 77
fi
MNT=$E2E_TMP/full
mkdir -p "$MNT"
if ! mount -t tmpfs -o size=1m tmpfs "$MNT" 2>"$E2E_TMP/mount.err"; then
	echo "SKIP: cannot mount a tmpfs: $(cat "$E2E_TMP/mount.err")" >&2
	exit 77
fi
trap 'umount "$MNT" 2>/dev/null; rm -rf "$E2E_TMP"' EXIT

# 40 inputs of 300 matching lines: about 240 KB of records each, so a few land
# before the file system fills.
i=1
while [ $i -le 40 ]; do
	yes "GET /x evil-full.example ok $i" | head -300 >"$E2E_TMP/in$i.log"
	i=$((i + 1))
done
"$CS_BIN" scan -q --threads 2 -e domain:evil-full.example --out "$MNT/ev" "$E2E_TMP"/in*.log \
	2>"$E2E_TMP/err"
expect_rc "scan on a full file system" 2 $?
expect_grep "clear error" "$E2E_TMP/err" "records.ndjson"
expect_grep "error names the cause" "$E2E_TMP/err" "No space left on device"
rec=$MNT/ev/records.ndjson
ndjson_valid "$rec" || fail "records.ndjson is not whole NDJSON after the disk filled"
n=$(wc -l <"$rec")
[ "$n" -gt 0 ] || fail "no record landed before the disk filled (test needs some)"
note "$n records written before the file system filled"

"$CS_BIN" verify "$MNT/ev" >"$E2E_TMP/verify.out" 2>&1
rc=$?
[ $rc -ne 0 ] || fail "verify passed a run that stopped on a full disk"
if grep -q "prev does not match\|not valid JSON\|incomplete last line" "$E2E_TMP/verify.out"; then
	fail "the records written before the failure do not verify:"
	cat "$E2E_TMP/verify.out" >&2
fi
if [ -f "$MNT/ev/manifest.json" ]; then
	expect_grep "incomplete run said" "$E2E_TMP/verify.out" "incomplete"
	python3 - "$MNT/ev/manifest.json" "$n" <<'PY' || fail "manifest claims inputs it did not write"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["complete"] is False
ok = [i for i in m["inputs"] if i["status"] == "complete"]
# every input has 300 matches: only inputs whose records all landed may be complete
assert len(ok) * 300 <= int(sys.argv[2]), (len(ok), sys.argv[2])
assert any(i["status"] != "complete" for i in m["inputs"])
PY
else
	expect_grep "unsealed run said" "$E2E_TMP/verify.out" "unsealed"
fi

# `--out -` into a file on the full file system: the message names standard
# output, and the file is cut back to its last whole record.
rm -rf "$MNT/ev"
"$CS_BIN" scan -q --threads 2 -e domain:evil-full.example --out - "$E2E_TMP"/in*.log \
	>"$MNT/stdout.ndjson" 2>"$E2E_TMP/err2"
expect_rc "scan --out - on a full file system" 2 $?
expect_grep "stdout: error names standard output" "$E2E_TMP/err2" "standard output: offset"
expect_grep "stdout: error names the cause" "$E2E_TMP/err2" "No space left on device"
grep -q "records.ndjson" "$E2E_TMP/err2" && fail "stdout: error names records.ndjson"
grep -q "may be cut" "$E2E_TMP/err2" && fail "stdout: a regular file was not cut back"
ndjson_valid "$MNT/stdout.ndjson" || fail "stdout: not whole NDJSON after the disk filled"
n=$(wc -l <"$MNT/stdout.ndjson")
[ "$n" -gt 0 ] || fail "stdout: no record landed before the disk filled (test needs some)"
finish
