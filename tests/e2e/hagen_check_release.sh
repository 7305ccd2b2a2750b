#!/bin/sh
# hagen against HAProxy releases newer than Debian's 2.6, built from the haproxy repository's tags
# by mk/haproxy-release.sh: HAGEN_TEST_HAPROXY names one binary, else every build/haproxy-X.Y/haproxy
# is taken; none skips (CI tests against Debian's 2.6 only). For each release:
#  1. hagen targets knows its version (a release hagen does not know is a failure: add it);
#  2. every sample inventory (and environment) rendered without --target takes the target from
#     the binary (haproxy -v) and passes its haproxy -c -dW with zero warnings, through hagen
#     check and by running the binary on hagen render's output;
#  3. a directive the release deprecates is rendered in its new form for that target
#     (accept_invalid_http: zero warnings), and rendered for an older target that needs the old
#     form, the release's deprecation warning is a note: hagen check passes and says so;
#  4. the golden render cases for its version (hagen-render/NNN-target-X.Y*) pass its haproxy
#     -c -dW as they are;
#  5. every inventory of the golden cases (tests/cases/*/*/*.yaml) and the compose stack's,
#     rendered for its version (--target), passes hagen check with it (haproxy -c -dW, zero
#     warnings; secrets get hagen check's dummy values) when hagen renders it at all (the error
#     cases do not), but for the cases that give haproxy a bad line on purpose (golden_expected).
. "$TOP/tests/lib.sh"
. "$TOP/tests/e2e/samples-lib"
if [ -n "${HAGEN_TEST_HAPROXY:-}" ]; then
	bins=$HAGEN_TEST_HAPROXY
else
	bins=$(ls "$TOP"/build/haproxy-*/haproxy 2>/dev/null)
fi
[ -n "$bins" ] || skip "no HAProxy release given (HAGEN_TEST_HAPROXY=/path/to/haproxy) or built (sh mk/haproxy-release.sh 3.4 builds one)"
unset STATS_PASSWORD
samples_certs
check_sample() { # COPY ENV NAME, with $bin and $ver
	HAPROXY=$bin "$HAGEN" check ${2:+-e "$2"} "$1" >"$TMP/out" 2>"$TMP/err" ||
		{ cat "$TMP/out" "$TMP/err"; fail "HAProxy $ver: hagen check $3 ${2:+-e $2}"; }
	grep -q "accepts it with zero warnings (target $ver)" "$TMP/out" ||
		{ cat "$TMP/out" "$TMP/err"; fail "HAProxy $ver: hagen check $3 did not render for $ver"; }
	"$HAGEN" render --target "$ver" ${2:+-e "$2"} -o "$TMP/haproxy.cfg" "$1" || fail "render $3"
	STATS_PASSWORD=x "$bin" -c -dW -f "$TMP/haproxy.cfg" >"$TMP/hc" 2>&1 ||
		{ cat "$TMP/hc"; fail "HAProxy $ver: haproxy -c -dW rejects $3 ${2:+-e $2}"; }
}
# the cases whose inventory gives haproxy a line it must refuse or warn about, on purpose
golden_expected() {
	case $1 in
	*/hagen-apply/004-haproxy-rejects/* | */docs-examples/009-hagen-check-doc-example/*)
		echo "an extra line haproxy does not know (check and apply refuse it)" ;;
	*/hagen-check/003-same-version-deprecation/*) echo "a deprecated form written by hand in extra" ;;
	*) return 1 ;;
	esac
}
golden_check() { # FILE, with $bin and $ver: its folder copied (files it names sit next to it)
	rm -rf "$TMP/g" && cp -r "$(dirname "$1")" "$TMP/g" || fail "copy $1"
	# TLS paths at a throwaway certificate, real ciphers for the contract example's "...",
	# nbthread no more than this machine's CPUs (3.x warns about more: docs/hagen.md), and the
	# halog cases' database hosts (names no resolver here knows) at loopback addresses
	sed -e "s#/etc/haproxy/certs/#$TMP/certs/#" -e "s#certs: \[certs/\]#certs: [$TMP/certs/]#" \
		-e "s#nbthread: [0-9][0-9]*#nbthread: $ncpu#" -e 's#address: "db\([12]\):#address: "127.0.0.\1:#' \
		-e 's#ciphers: "...", ciphersuites: "..."#ciphers: "ECDHE-RSA-AES128-GCM-SHA256", ciphersuites: "TLS_AES_128_GCM_SHA256"#' \
		"$1" >"$TMP/g/in.yaml"
	(cd "$TMP/g" && "$HAGEN" render --target "$ver" -o "$TMP/g.cfg" in.yaml) >/dev/null 2>&1 ||
		return 0 # an error case: not an inventory for any target
	if why=$(golden_expected "$1"); then
		(cd "$TMP/g" && HAPROXY=$bin "$HAGEN" check --target "$ver" in.yaml) >"$TMP/out" 2>&1 &&
			{ cat "$TMP/out"; fail "HAProxy $ver: hagen check passes $1, which has $why"; }
		gx=$((gx + 1))
		return 0
	fi
	(cd "$TMP/g" && HAPROXY=$bin "$HAGEN" check --target "$ver" in.yaml) >"$TMP/out" 2>"$TMP/err" ||
		{ cat "$TMP/out" "$TMP/err"; fail "HAProxy $ver: hagen check --target $ver rejects $1"; }
	grep -q "accepts it with zero warnings (target $ver)" "$TMP/out" ||
		{ cat "$TMP/out" "$TMP/err"; fail "HAProxy $ver: $1 not checked for $ver"; }
	gi=$((gi + 1))
}
ncpu=$(nproc 2>/dev/null || echo 1)
done_list=
for bin in $bins; do
	[ -x "$bin" ] || fail "$bin is not an executable"
	ver=$("$bin" -v | sed -n 's/^HAProxy version \([0-9]*\.[0-9]*\).*/\1/p')
	[ -n "$ver" ] || fail "$bin -v names no version"
	# 1. hagen knows it
	"$HAGEN" targets | sed -n 's/^supported targets: \([^(]*\) (.*/, \1,/p' | grep -q ", $ver," ||
		fail "hagen does not support HAProxy $ver ($bin): add it (docs/hagen.md, Adding a HAProxy release)"
	# 2. the samples, rendered for the version the binary reports
	samples_each check_sample
	n=$SAMPLES_N
	[ "$n" -ge 6 ] || fail "only $n sample renders checked"
	# 3. a deprecated directive: the new form for the release, a note for an older target
	inv=$TOP/tests/cases/hagen-check/data/inventory.yaml
	HAPROXY=$bin "$HAGEN" check "$inv" >"$TMP/out" 2>"$TMP/err" || { cat "$TMP/err"; fail "HAProxy $ver: accept_invalid_http"; }
	grep -q "zero warnings (target $ver)" "$TMP/out" || { cat "$TMP/out" "$TMP/err"; fail "HAProxy $ver: accept_invalid_http not clean"; }
	HAPROXY=$bin "$HAGEN" check --target 3.0 "$inv" >"$TMP/out" 2>"$TMP/err" ||
		{ cat "$TMP/err"; fail "HAProxy $ver: a 3.0 rendering fails on deprecations"; }
	if [ $((${ver%%.*} * 100 + ${ver#*.})) -ge 301 ]; then
		grep -q "note: haproxy: option 'accept-invalid-http-request' is deprecated" "$TMP/err" ||
			{ cat "$TMP/err"; fail "HAProxy $ver: no deprecation note for the 3.0 rendering"; }
		grep -q "accepts it with only deprecation warnings of what target 3.0 needs" "$TMP/out" ||
			{ cat "$TMP/out"; fail "HAProxy $ver: no valid line for the 3.0 rendering"; }
	fi
	# 4. the golden render cases written for this target pass its haproxy as they are
	g=0
	for c in "$TOP"/tests/cases/hagen-render/*-target-"$ver"*/; do
		[ -f "$c/stdout" ] || continue
		"$bin" -c -dW -f "$c/stdout" >"$TMP/hc" 2>&1 || { cat "$TMP/hc"; fail "HAProxy $ver rejects the golden $c/stdout"; }
		g=$((g + 1))
	done
	# 5. every golden case's inventory, rendered for this version
	gi=0 gx=0
	for f in "$TOP"/tests/cases/*/*/*.yaml "$TOP"/samples/compose/inventory.yaml; do
		golden_check "$f"
	done
	[ "$gi" -ge 25 ] || fail "only $gi golden inventories checked for $ver"
	done_list="$done_list $ver ($n sample renders, $g golden renders, $gi golden inventories rendered for it and checked, $gx refused on purpose)"
done
echo "HAProxy releases checked:$done_list"
