#!/bin/sh
# Runs every test and ends with "N passed, N failed".
#   unit:  build/tests/test_* (cmocka binaries; one result per binary, details on failure)
#   cases: tests/cases/<family>/<NNN-name>/ golden folders (see tests/README.md)
#   e2e:   tests/e2e/*.sh scripts (exit 0 pass, 77 skip, anything else fail)
# usage: O=build sh tests/run.sh [FILTER]   (FILTER: a substring of the test name)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-build}
case $O in /*) ;; *) O=$top/$O ;; esac
filter=${1:-}
export TOP=$top O TZ=UTC LC_ALL=C HAGEN="$O/hagen" HALOG="$O/halog" SAMPLE_APP="$O/sample-app"
pass=0 fail=0 skip=0 failed=
work=$(mktemp -d "${TMPDIR:-/tmp}/hagen-tests.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

# MEMCHECK=1: every hagen/halog run goes through valgrind; any error or leak fails that run.
if [ -n "${MEMCHECK:-}" ]; then
	mkdir -p "$work/vg"
	for t in hagen halog; do
		cat >"$work/vg/$t" <<VG
#!/bin/sh
exec valgrind -q --error-exitcode=99 --suppressions="$top/tests/valgrind.supp" --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible --track-fds=no "$O/$t" "\$@"
VG
		chmod +x "$work/vg/$t"
	done
	export HAGEN="$work/vg/hagen" HALOG="$work/vg/halog"
fi

# /dev/null must stay the null device (character device 1,3): a test once replaced it with a
# regular file, and every later test then read what others wrote to it. Checked before the run
# and after every test; a test that breaks it fails, by name, and ends the run (what would run
# after it could not be trusted).
devnull_ok() { [ -c /dev/null ] && [ "$(stat -c %t,%T /dev/null 2>/dev/null)" = 1,3 ]; }
devnull_what() { stat -c '%F %t,%T' /dev/null 2>&1; }
devnull_check() {
	devnull_ok && return 0
	ko "$1 (after it, /dev/null is no longer the null device: $(devnull_what))"
	echo "stopping: restore it (as root: rm -f /dev/null && mknod -m 666 /dev/null c 1 3)"
	echo "failed:$failed"
	echo "$pass passed, $fail failed"
	exit 1
}
if ! devnull_ok; then
	echo "/dev/null is not the null device before any test ran: $(devnull_what)" >&2
	exit 1
fi

ok() { pass=$((pass + 1)); [ -n "${VERBOSE:-}" ] && echo "ok   $1"; return 0; }
ko() { fail=$((fail + 1)); failed="$failed $1"; echo "FAIL $1"; }
sk() { skip=$((skip + 1)); echo "skip $1${2:+: $2}"; }
want() { [ -z "$filter" ] || case $1 in *"$filter"*) return 0 ;; *) return 1 ;; esac; }

# --- unit tests (cmocka) ---
for t in "$O"/tests/test_*; do
	[ -x "$t" ] || continue
	name=unit/$(basename "$t")
	want "$name" || continue
	if (cd "$top" && "$t") >"$work/out" 2>&1; then ok "$name"; else ko "$name"; sed 's/^/    /' "$work/out" | tail -40; fi
	devnull_check "$name"
done

# --- golden cases ---
# A case folder holds `cmd` (a shell line run from the case folder with $HAGEN, $HALOG, $TOP,
# $CASE and $TMP set), optional `stdin`, and the expectations `stdout`, `stderr`, `exit`
# (a missing expectation file means "not checked", except exit which defaults to 0).
# A cmd that exits 77 is skipped, as an e2e script is: its last stdout line gives the reason.
for c in "$top"/tests/cases/*/*/; do
	[ -f "$c/cmd" ] || continue
	c=${c%/}
	name=case/$(basename "$(dirname "$c")")/$(basename "$c")
	want "$name" || continue
	tmp=$work/case && rm -rf "$tmp" && mkdir -p "$tmp"
	in=/dev/null
	[ -f "$c/stdin" ] && in=$c/stdin
	(cd "$c" && CASE=$c TMP=$tmp sh ./cmd) <"$in" >"$work/stdout" 2>"$work/stderr"
	rc=$?
	devnull_check "$name"
	exp=0
	[ -f "$c/exit" ] && exp=$(cat "$c/exit")
	# exit 77 skips a case that needs something absent (its last stdout line says what)
	if [ "$rc" = 77 ] && [ "$exp" != 77 ]; then
		sk "$name" "$(tail -1 "$work/stdout")"
		continue
	fi
	bad=
	[ "$rc" = "$exp" ] || bad="exit $rc, expected $exp"
	for s in stdout stderr; do
		if [ -f "$c/$s" ] && ! cmp -s "$c/$s" "$work/$s"; then
			bad="$bad${bad:+; }$s differs"
			diff -u "$c/$s" "$work/$s" | head -30 | sed 's/^/    /' >>"$work/diffs"
		fi
	done
	if [ -z "$bad" ]; then ok "$name"; else
		ko "$name ($bad)"
		[ -f "$work/diffs" ] && cat "$work/diffs" && rm -f "$work/diffs"
		[ -n "${UPDATE_GOLDEN:-}" ] && cp "$work/stdout" "$c/stdout" && cp "$work/stderr" "$c/stderr" && echo "$rc" >"$c/exit"
	fi
done

# --- end-to-end scripts ---
for t in "$top"/tests/e2e/*.sh; do
	[ -f "$t" ] || continue
	name=e2e/$(basename "$t" .sh)
	want "$name" || continue
	mkdir -p "$work/e2e"
	(cd "$top" && TMP=$work/e2e timeout 600 sh "$t") >"$work/out" 2>&1
	rc=$?
	# a test must stop what it started: anything still running from its scratch dir fails it
	left=$(pgrep -f -- "$work/e2e" 2>/dev/null | tr '\n' ' ')
	if [ -n "$left" ]; then
		echo "left running by $name: $(ps -o args= -p $(echo $left | tr ' ' ',') 2>/dev/null | head -3)" >>"$work/out"
		kill $left 2>/dev/null; sleep 0.5; kill -9 $left 2>/dev/null
		[ $rc -eq 0 ] && rc=70
	fi
	rm -rf "$work/e2e"
	devnull_check "$name"
	case $rc in
	0) ok "$name"; [ -n "${VERBOSE:-}" ] && sed 's/^/    /' "$work/out" ;;
	77) sk "$name" "$(tail -1 "$work/out")" ;;
	*) ko "$name (exit $rc)"; tail -60 "$work/out" | sed 's/^/    /' ;;
	esac
done

[ -n "$failed" ] && echo "failed:$failed"
if [ "$skip" -gt 0 ]; then echo "$pass passed, $fail failed, $skip skipped"; else echo "$pass passed, $fail failed"; fi
[ "$fail" -eq 0 ] && [ $((pass + fail)) -gt 0 ]
