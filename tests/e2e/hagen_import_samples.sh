#!/bin/sh
# Every sample hagen renders, in every environment of its own: render -> import -> render gives
# the same configuration byte for byte (comments aside, since they name the inventory's lines),
# and importing that again gives the same inventory (import is a fixed point too).
. "$TOP/tests/lib.sh"
command -v python3 >/dev/null 2>&1 || skip "python3 not installed"
mkdir -p "$TMP"
n=0
for f in "$TOP"/samples/*.yaml "$TOP"/samples/compose/inventory.yaml \
	"$TOP"/tests/cases/hagen-render/*/inventory.yaml; do
	[ -f "$f" ] || continue
	envs=$(python3 -c "import yaml,sys; print(' '.join((yaml.safe_load(open(sys.argv[1])) or {}).get('environments', {}) or {}))" "$f")
	for e in "" $envs; do
		what="$f${e:+ -e $e}"
		"$HAGEN" render ${e:+-e "$e"} -o "$TMP/a.cfg" "$f" 2>/dev/null || continue
		# the target it was rendered for, from hagen's header line
		t=$(sed -n '1s/.* for HAProxy \([0-9.]*\)$/\1/p' "$TMP/a.cfg")
		"$HAGEN" import ${t:+--target "$t"} "$TMP/a.cfg" >"$TMP/a.yaml" 2>"$TMP/a.err" ||
			{ cat "$TMP/a.err"; fail "import of $what"; }
		grep -q "changes the configuration" "$TMP/a.err" &&
			{ cat "$TMP/a.err"; fail "import of $what is not exact"; }
		"$HAGEN" render -o "$TMP/b.cfg" "$TMP/a.yaml" 2>"$TMP/b.err" ||
			{ cat "$TMP/b.err"; fail "render of the import of $what"; }
		grep -v '^#' "$TMP/a.cfg" >"$TMP/a.nc"
		grep -v '^#' "$TMP/b.cfg" >"$TMP/b.nc"
		cmp -s "$TMP/a.nc" "$TMP/b.nc" || { diff "$TMP/a.nc" "$TMP/b.nc"; fail "render -> import -> render changes $what"; }
		"$HAGEN" import ${t:+--target "$t"} "$TMP/b.cfg" >"$TMP/b.yaml" 2>/dev/null ||
			fail "second import of $what"
		# the header names the file imported; the rest must be equal
		tail -n +2 "$TMP/a.yaml" >"$TMP/a.y"
		tail -n +2 "$TMP/b.yaml" >"$TMP/b.y"
		cmp -s "$TMP/a.y" "$TMP/b.y" || { diff "$TMP/a.y" "$TMP/b.y"; fail "import is not a fixed point on $what"; }
		n=$((n + 1))
	done
done
[ "$n" -ge 20 ] || fail "only $n renders went through import"
echo "$n renders: render -> import -> render is a fixed point"
