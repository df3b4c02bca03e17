#!/bin/sh
# cybersieve: install what it needs (Debian 12), build, and run.
#   ./build.sh demo    scan the sample logs in samples/ with the packs in rules/
#   ./build.sh test    build and run the whole test suite (ctest), then again under ASan+UBSan
#                      and under ThreadSanitizer
#   ./build.sh deps    only install the Debian packages
# Runs as root, or as a user with sudo. Safe to run again: installed packages are skipped.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
build="${CS_BUILD_DIR:-$here/build}"

hs_pkg=libhyperscan-dev
case "$(dpkg --print-architecture 2>/dev/null || echo amd64)" in
amd64) ;;
*) hs_pkg=libvectorscan-dev ;; # the same API, for CPUs Hyperscan does not support
esac

packages="build-essential cmake pkg-config $hs_pkg libpcap-dev zlib1g-dev libisal-dev \
libssl-dev libicu-dev libcmocka-dev python3 python3-jsonschema openssl tcpreplay iproute2 procps mount util-linux diffutils time chromium"

install_deps() {
	missing=""
	for p in $packages; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	echo "installing:$missing"
	$sudo apt-get update -q
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
}

compile() {
	cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
	cmake --build "$build" -j "$(nproc)"
}

cmd="${1:-demo}"
case "$cmd" in
deps)
	install_deps
	;;
demo)
	install_deps
	compile
	out="$build/demo-$(date -u +%Y%m%dT%H%M%SZ)"
	set +e
	"$build/cybersieve" scan --rules "$here/rules" --out "$out" "$here/samples/logs"
	status=$?
	set -e
	echo "exit status $status (0 = matches found); evidence in $out"
	[ "$status" -le 1 ]
	;;
test)
	install_deps
	compile
	(cd "$build" && ctest --output-on-failure -j "$(nproc)")
	# The whole suite once more under AddressSanitizer and UndefinedBehaviorSanitizer.
	san="${build}-sanitize"
	cmake -S "$here" -B "$san" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCS_SANITIZE=ON -DCS_BUILD_BENCH=OFF
	cmake --build "$san" -j "$(nproc)"
	(cd "$san" && ctest --output-on-failure -j "$(nproc)")
	# And under ThreadSanitizer: the reading, digest, worker and emitter threads.
	# This build inflates with zlib, so the suite also runs on the fallback engine.
	tsan="${build}-tsan"
	cmake -S "$here" -B "$tsan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCS_TSAN=ON -DCS_BUILD_BENCH=OFF \
		-DCS_WITH_ISAL=OFF
	cmake --build "$tsan" -j "$(nproc)"
	(cd "$tsan" && ctest --output-on-failure -j "$(nproc)")
	;;
*)
	echo "usage: $0 demo|test|deps" >&2
	exit 2
	;;
esac
