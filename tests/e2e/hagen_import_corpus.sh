#!/bin/sh
# hagen import on the real configurations of tests/cases/hagen-import-corpus (provenance in its
# README.md). For each one: the inventory renders without a warning (but those its render-warnings
# file allows, which the original configuration deserves as much); `hagen compare` finds the
# rendered file the same configuration as the original, or differs exactly where the import said
# it would ("changes the configuration" warnings in the case's stderr); and Debian's haproxy
# judges both alike: when it accepts the original with zero warnings (-c -dW) it accepts the
# rendered one so; when it accepts the original with warnings, the rendered one draws no other
# warning; when it rejects the original, it rejects the rendered one with the same alerts.
# Refused cases (exit 1 in the golden case) must stay refused. The hand-written cases of
# tests/cases/hagen-import that hold a haproxy.cfg go through the same checks.
. "$TOP/tests/lib.sh"
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || skip "haproxy not installed"
HAPROXY_BIN=$(command -v haproxy || echo /usr/sbin/haproxy)
mkdir -p "$TMP"

# haproxy's messages of one level, without pid, file:line, hagen's fe_/be_ prefixes, the word
# naming the proxy kind (a listen becomes a frontend and a backend), or continuation lines.
messages() { # $1 file, $2 WARNING|ALERT
	grep "^\[$2\]" "$1" | grep -v "zero-warning\|Fatal errors found\|Error(s) found" |
		sed -e 's/^\[[A-Z]*\] *([0-9]*) : //' -e 's/\[[^]]*:[0-9]*\]//g' \
			-e "s/'[fb]e_/'/g" -e 's/\(proxy\|frontend\|backend\|listen\) '"'"'/'"'"'/g' |
		sort -u
}

n=0 refused=0 dw=0 own=0
for c in "$TOP"/tests/cases/hagen-import-corpus/*/ "$TOP"/tests/cases/hagen-import/*/; do
	c=${c%/}
	name=$(basename "$c")
	if [ -f "$c/input" ]; then
		files=$(cat "$c/input")
	elif [ -f "$c/haproxy.cfg" ]; then
		files=haproxy.cfg
	else
		continue
	fi
	(cd "$c" && cat $files) >"$TMP/orig.cfg" || fail "$name: cannot read its files"
	"$HAGEN" import "$TMP/orig.cfg" >"$TMP/inv.yaml" 2>"$TMP/import.err"
	rc=$?
	want=0
	[ -f "$c/exit" ] && want=$(cat "$c/exit")
	if [ "$want" != 0 ]; then
		[ "$rc" != 0 ] || fail "$name: should be refused"
		grep -q ": error: " "$TMP/import.err" || fail "$name: refused without an error line"
		refused=$((refused + 1))
		continue
	fi
	[ "$rc" = 0 ] || { cat "$TMP/import.err"; fail "$name: import exit $rc"; }
	"$HAGEN" render -o "$TMP/out.cfg" "$TMP/inv.yaml" 2>"$TMP/render.err" ||
		{ cat "$TMP/render.err"; fail "$name: the inventory does not render"; }
	# no warning, except those the case's render-warnings lists (one fixed substring a line):
	# what hagen says of the original configuration too (a stats page open to the network)
	if [ -f "$c/render-warnings" ]; then
		grep -v -F -f "$c/render-warnings" "$TMP/render.err" >"$TMP/render.other"
	else
		cp "$TMP/render.err" "$TMP/render.other"
	fi
	[ -s "$TMP/render.other" ] && { cat "$TMP/render.err"; fail "$name: render warns"; }

	# the normalising comparison: no difference, or exactly the announced ones
	"$HAGEN" compare "$TMP/orig.cfg" "$TMP/out.cfg" >"$TMP/cmp" 2>&1
	got=$(grep -c ": only in " "$TMP/cmp")
	announced=$(grep -c "changes the configuration" "$TMP/import.err")
	[ "$got" = "$announced" ] || { cat "$TMP/cmp"; fail "$name: compare found $got differences, import announced $announced"; }

	# haproxy on both; secrets the inventory moved to the environment get a dummy value
	vars=$(sed -n 's/.*password_env: \([A-Za-z_0-9]*\).*/\1/p' "$TMP/inv.yaml" | sort -u)
	for v in $vars; do export "$v=hagen-test"; done
	"$HAPROXY_BIN" -c -dW -f "$TMP/orig.cfg" >"$TMP/o.dw" 2>&1
	odw=$?
	"$HAPROXY_BIN" -c -dW -f "$TMP/out.cfg" >"$TMP/r.dw" 2>&1
	rdw=$?
	"$HAPROXY_BIN" -c -f "$TMP/orig.cfg" >"$TMP/o.c" 2>&1
	oc=$?
	"$HAPROXY_BIN" -c -f "$TMP/out.cfg" >"$TMP/r.c" 2>&1
	rcc=$?
	if [ "$odw" = 0 ]; then
		[ "$rdw" = 0 ] || { cat "$TMP/r.dw"; fail "$name: the original passes -c -dW, the rendered one does not"; }
		dw=$((dw + 1))
	elif [ "$oc" = 0 ]; then
		[ "$rcc" = 0 ] || { cat "$TMP/r.c"; fail "$name: the original passes -c, the rendered one does not"; }
		messages "$TMP/o.c" WARNING >"$TMP/ow"
		messages "$TMP/r.c" WARNING >"$TMP/rw"
		extra=$(comm -13 "$TMP/ow" "$TMP/rw")
		[ -z "$extra" ] || { echo "$extra"; fail "$name: the rendered configuration draws new warnings"; }
	else
		[ "$rcc" != 0 ] || fail "$name: haproxy rejects the original but accepts the rendered one"
		messages "$TMP/o.c" ALERT >"$TMP/oa"
		messages "$TMP/r.c" ALERT >"$TMP/ra"
		cmp -s "$TMP/oa" "$TMP/ra" || { diff "$TMP/oa" "$TMP/ra"; fail "$name: haproxy rejects the two for different reasons"; }
	fi
	for v in $vars; do unset "$v"; done
	case $c in */hagen-import-corpus/*) n=$((n + 1)) ;; *) own=$((own + 1)) ;; esac
done
[ "$n" -ge 12 ] || fail "only $n real configurations imported (at least 12 expected)"
echo "$n real configurations and $own hand-written ones imported and judged alike by hagen compare and haproxy -c ($dw pass -c -dW), $refused refused as expected"
