#!/bin/sh
# SIGTERM while the run waits on a pipe that stays open (`tail -f log |
# cybersieve scan -`, a collector writing a capture to stdin): the run stops
# within a few seconds, without waiting for the writer to go, and writes the
# records of what it read, with the input marked partial. A capture read only
# in part gets a null digest in its records (its SHA-256 is not known), never
# a placeholder.
# Usage: test_pipe_sigterm.sh BINARY SOURCE_DIR.
. "$2/tests/e2e/lib.sh"
e2e_init "$1" "$2"
trap 'exec 3>&- 2>/dev/null; rm -rf "$E2E_TMP"' EXIT

# term_and_wait PID: SIGTERM, then up to 5 s for the run to go; true when it
# went (its exit status is then in rc), false when it had to be killed.
term_and_wait() {
	kill -TERM "$1"
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$1" 2>/dev/null; then
		kill -KILL "$1"
		return 1
	fi
	wait "$1"
	rc=$?
	return 0
}

# run_held NAME ARGS...: scan stdin from a FIFO whose writer stays open; the
# writer's bytes come from the file $feed. SIGTERM after the records of the
# data are due; the run must be gone 5 s later with the writer still there.
run_held() {
	name=$1
	shift
	mkfifo "$E2E_TMP/$name.fifo" || { echo "SKIP: mkfifo failed" >&2; exit 77; }
	"$CS_BIN" scan -q --threads 1 --out "$E2E_TMP/$name" "$@" - <"$E2E_TMP/$name.fifo" \
		2>"$E2E_TMP/$name.err" &
	pid=$!
	exec 3>"$E2E_TMP/$name.fifo"
	cat "$feed" >&3
	sleep 1
	if ! term_and_wait $pid; then
		exec 3>&-
		fail "$name: still running 5 s after SIGTERM while its pipe stayed open"
		finish
	fi
	exec 3>&-
}

# A log on stdin.
printf 'GET /a evil-pipe.example\nGET /b harmless.example\n' >"$E2E_TMP/feed.log"
feed=$E2E_TMP/feed.log
run_held log -e domain:evil-pipe.example
[ $rc -eq 3 ] || fail "log: exit status $rc after SIGTERM, expected 3 (matches, input not complete)"
python3 - "$E2E_TMP/log" <<'PY' || fail "log: evidence after SIGTERM"
import json, sys
d = sys.argv[1]
m = json.load(open(d + "/manifest.json"))
assert m["complete"] is False, m["complete"]
assert [i["status"] for i in m["inputs"]] == ["partial"], m["inputs"]
recs = [json.loads(l) for l in open(d + "/records.ndjson")]
assert len(recs) == 1 and recs[0]["indicator"]["value"] == "evil-pipe.example", recs
assert recs[0]["source"]["line"] == 1, recs[0]["source"]
PY
expect_grep "log: reason given" "$E2E_TMP/log.err" "interrupted before the end"
"$CS_BIN" verify "$E2E_TMP/log" >"$E2E_TMP/log.verify" 2>&1
expect_grep "log: chain checked" "$E2E_TMP/log.verify" "chain head matches the manifest"
grep -q "FAIL" "$E2E_TMP/log.verify" && fail "log: records written before SIGTERM do not verify"

# A capture on stdin (Host bro.org in packet 4).
feed=$CS_SRC/tests/e2e/pcap/get.pcap
run_held pcap -e domain:bro.org
[ $rc -eq 3 ] || fail "pcap: exit status $rc after SIGTERM, expected 3"
python3 - "$E2E_TMP/pcap" <<'PY' || fail "pcap: evidence after SIGTERM"
import json, sys
d = sys.argv[1]
m = json.load(open(d + "/manifest.json"))
assert m["complete"] is False, m["complete"]
recs = [json.loads(l) for l in open(d + "/records.ndjson")]
hosts = [r for r in recs if r["indicator"]["value"] == "bro.org"]
assert hosts, recs
for r in recs:
    assert r["source"]["sha256"] is None, r["source"]
PY
"$CS_BIN" verify "$E2E_TMP/pcap" >"$E2E_TMP/pcap.verify" 2>&1
grep -q "FAIL" "$E2E_TMP/pcap.verify" && fail "pcap: records written before SIGTERM do not verify"

# A FIFO named as the input that no writer has opened yet: opening it must
# not wait for one. With a writer that comes a second late the data is read
# whole; with none, SIGTERM ends the run at once and the input is not read.
mkfifo "$E2E_TMP/late.fifo" "$E2E_TMP/none.fifo" || { echo "SKIP: mkfifo failed" >&2; exit 77; }
"$CS_BIN" scan -q --threads 1 --out "$E2E_TMP/late" -e domain:evil-pipe.example \
	"$E2E_TMP/late.fifo" 2>"$E2E_TMP/late.err" &
pid=$!
sleep 1
cat "$E2E_TMP/feed.log" >"$E2E_TMP/late.fifo"
wait $pid
rc=$?
[ $rc -eq 0 ] || fail "late writer: exit status $rc, expected 0 (matches, all complete)"
grep -c '"evil-pipe.example"' "$E2E_TMP/late/records.ndjson" | grep -qx 1 ||
	fail "late writer: the record of the FIFO's data is missing"
grep -q '"complete":true' "$E2E_TMP/late/manifest.json" || fail "late writer: run not complete"

"$CS_BIN" scan -q --threads 1 --out "$E2E_TMP/none" -e domain:evil-pipe.example \
	"$E2E_TMP/none.fifo" 2>"$E2E_TMP/none.err" &
pid=$!
sleep 1
if ! term_and_wait $pid; then
	fail "no writer: still running 5 s after SIGTERM while opening a FIFO"
else
	[ $rc -eq 4 ] || fail "no writer: exit status $rc after SIGTERM, expected 4 (no match, input failed)"
	grep -q '"complete":false' "$E2E_TMP/none/manifest.json" ||
		fail "no writer: manifest not marked incomplete"
	expect_grep "no writer: reason given" "$E2E_TMP/none.err" "interrupted"
fi
finish
