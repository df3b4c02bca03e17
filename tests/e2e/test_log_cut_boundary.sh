#!/bin/sh
# A line longer than --max-line is scanned in overlapping pieces. A domain
# that ends one byte before a cut, followed by '.', is the listed name or not
# depending on the second byte after it, which lies past the cut: the next
# piece must judge it. "evil.example.au" is no match, "evil.example. " is one,
# whether the domain is compiled as a pattern (a few listed) or held in the
# suffix set (300 listed).
# Usage: test_log_cut_boundary.sh BINARY SOURCE_DIR.
. "$2/tests/e2e/lib.sh"
e2e_init "$1" "$2"

# mkline FILE TAIL: a 9000-byte line with "evil.example" placed so that the
# byte after it is the last byte of the first 4096-byte piece.
mkline() {
	python3 - "$1" "$2" <<'PY'
import sys
line = bytearray(b',' * 9000)
d = b'evil.example'
a = 4095 - len(d)
line[a - 1:a] = b' '
line[a:a + len(d)] = d
tail = sys.argv[2].encode()
line[4095:4095 + len(tail)] = tail
open(sys.argv[1], 'wb').write(bytes(line) + b'\n')
PY
}
mkline "$E2E_TMP/au.log" ".au "
mkline "$E2E_TMP/dot.log" ". "
{
	echo evil.example
	i=0
	while [ $i -lt 299 ]; do
		echo "listed$i.example"
		i=$((i + 1))
	done
} >"$E2E_TMP/many.txt"

for how in "-e domain:evil.example" "-f domain:$E2E_TMP/many.txt"; do
	for t in au dot; do
		out=$E2E_TMP/out-$t-$(echo "$how" | cut -c2)
		# shellcheck disable=SC2086
		"$CS_BIN" scan -q --threads 1 --max-line 4096 $how --out "$out" "$E2E_TMP/$t.log" \
			2>"$out.err"
		rc=$?
		n=$(grep -c '"value":"evil.example"' "$out/records.ndjson")
		if [ $t = au ]; then
			[ "$n" -eq 0 ] || fail "$how: evil.example reported in evil.example.au at a cut"
			[ $rc -eq 1 ] || fail "$how: $t: exit status $rc, expected 1 (no match)"
		else
			[ "$n" -eq 1 ] || fail "$how: evil.example. at a cut: $n records, expected 1"
			[ $rc -eq 0 ] || fail "$how: $t: exit status $rc, expected 0 (a match)"
			grep -q '"offset":4083' "$out/records.ndjson" ||
				fail "$how: evil.example. at a cut: wrong offset"
		fi
	done
done
finish
