#!/bin/sh
# SIGTERM in the middle of a batch run: the run stops, seals what it wrote (a
# manifest marked incomplete), the inputs it did not finish are not reported
# complete, and verify checks the records (their chain holds) but does not call
# the run verified. A FIFO holds the run in the middle while the signal arrives.
# Usage: test_log_sigterm.sh BINARY SOURCE_DIR.
. "$2/tests/e2e/lib.sh"
e2e_init "$1" "$2"
trap 'exec 3>&- 2>/dev/null; rm -rf "$E2E_TMP"' EXIT

for i in 1 2 3; do
	yes "GET /a evil-term.example $i" | head -2000 >"$E2E_TMP/t$i.log"
done
mkfifo "$E2E_TMP/hold" || { echo "SKIP: mkfifo failed" >&2; exit 77; }
"$CS_BIN" scan -q --threads 2 -e domain:evil-term.example --out "$E2E_TMP/ev" \
	"$E2E_TMP/t1.log" "$E2E_TMP/t2.log" "$E2E_TMP/hold" "$E2E_TMP/t3.log" 2>"$E2E_TMP/err" &
pid=$!
# The FIFO gets a writer that sends one line and then stays open: the run is
# held inside the third input until the writer goes.
exec 3>"$E2E_TMP/hold"
echo "GET /b evil-term.example fifo" >&3
i=0
while [ "$(wc -l <"$E2E_TMP/ev/records.ndjson" 2>/dev/null || echo 0)" -lt 4000 ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -TERM $pid
sleep 0.3
exec 3>&-
wait $pid
rc=$?
[ $rc -eq 3 ] || fail "exit status $rc after SIGTERM, expected 3 (matches, some input not complete)"
python3 - "$E2E_TMP/ev" <<'PY' || fail "manifest after SIGTERM"
import json, sys
d = sys.argv[1]
m = json.load(open(d + "/manifest.json"))
assert m["complete"] is False, m["complete"]
st = {i["path"].rsplit("/", 1)[-1]: i["status"] for i in m["inputs"]}
assert st["t1.log"] == "complete" and st["t2.log"] == "complete", st
# the FIFO may end (its writer goes) before the stop is seen: complete or partial
assert st["hold"] in ("complete", "partial") and st["t3.log"] == "failed", st
recs = sum(1 for _ in open(d + "/records.ndjson"))
assert recs == m["counts"]["records"] and recs >= 4000, recs
PY
"$CS_BIN" verify "$E2E_TMP/ev" >"$E2E_TMP/verify.out" 2>&1
vrc=$?
[ $vrc -ne 0 ] || fail "verify called a run stopped by SIGTERM verified"
expect_grep "incomplete said" "$E2E_TMP/verify.out" "incomplete"
expect_grep "chain checked" "$E2E_TMP/verify.out" "chain head matches the manifest"
if grep -q "FAIL" "$E2E_TMP/verify.out"; then
	fail "records written before SIGTERM do not verify:"
	cat "$E2E_TMP/verify.out" >&2
fi
finish
