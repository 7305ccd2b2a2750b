#!/bin/sh
# tests/e2e/deploy-engine/engine.sh cleans up only under its own two folders, and never through a
# mount: run as root in a mount namespace of its own (no engine is started):
#   - engine_setup refuses an empty, relative or top-level cache or run folder;
#   - engine_teardown before engine_setup touches nothing;
#   - engine_mounts lists the mounts under the cache and run folders only, deepest first (not
#     those of a folder whose name merely starts the same);
#   - engine_setup clears the folder a killed run recorded in the cache: what is mounted under it
#     is unmounted, the folder removed, and the files of the mounted folder are still there.
set -u
. "$TOP/tests/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root (mounts)"
unshare -m --propagation private true 2>/dev/null || skip "cannot make a mount namespace here"
mkdir -p "$TMP"
TMP=$(cd "$TMP" && pwd)
export TMP TOP

# 1. paths engine_setup must refuse, each in a shell of its own
for bad in "" / /var relative/cache; do
	out=$(sh -c '. "$TOP/tests/lib.sh"; . "$TOP/tests/e2e/deploy-engine/engine.sh"
		engine_setup "$1" "$TMP/run/engine"' sh "$bad" 2>&1)
	rc=$?
	[ "$rc" -ne 0 ] && echo "$out" | grep -q "is not an absolute folder below another" ||
		fail "engine_setup accepted the cache folder '$bad' (exit $rc): $out"
	out=$(sh -c '. "$TOP/tests/lib.sh"; . "$TOP/tests/e2e/deploy-engine/engine.sh"
		engine_setup "$TMP/cache" "$1"' sh "$bad" 2>&1)
	rc=$?
	[ "$rc" -ne 0 ] || fail "engine_setup accepted the run folder '$bad'"
done
echo "ok: engine_setup refuses '', /, /var and a relative path as its cache or run folder"

# 2-4 in a mount namespace of their own: the mounts made here go with it
unshare -m --propagation private sh -s <<'EOF'
set -u
. "$TOP/tests/lib.sh"
. "$TOP/tests/e2e/deploy-engine/engine.sh"
mounts_under() { awk -v d="$1/" 'index($5 "/", d) == 1 { print $5 }' /proc/self/mountinfo; }
mkdir -p "$TMP/outside" "$TMP/cache" "$TMP/cache2/m" "$TMP/old/engine/exec/netns/a" "$TMP/old/engine/exec/data"
echo keep >"$TMP/outside/keep"
echo keep >"$TMP/outside/data"

# 2. teardown before setup: nothing is touched
mount --bind "$TMP/outside" "$TMP/old/engine/exec/netns/a" || fail "mount --bind"
engine_teardown || fail "engine_teardown before engine_setup failed"
[ -n "$(mounts_under "$TMP/old")" ] && [ -f "$TMP/outside/keep" ] || fail "engine_teardown before engine_setup unmounted or removed"
echo "ok: engine_teardown before engine_setup does nothing"

# 3. engine_mounts: only under its folders (not $TMP/cache2 beside $TMP/cache), deepest first
mount --bind "$TMP/outside" "$TMP/cache2/m" || fail "mount --bind"
mount --bind "$TMP/outside" "$TMP/old/engine/exec/data" || fail "mount --bind"
got=$(eng_cache=$TMP/cache eng_run=$TMP/old/engine && engine_mounts | tr '\n' ' ')
[ "$got" = "$TMP/old/engine/exec/netns/a $TMP/old/engine/exec/data " ] ||
	fail "engine_mounts: '$got', want exec/netns/a, then exec/data (and nothing of $TMP/cache2)"
echo "ok: engine_mounts lists what is under its folders only, deepest first"

# 4. a killed run's folder, recorded in the cache, with mounts left under it
echo "$TMP/old/engine" >"$TMP/cache/run"
engine_setup "$TMP/cache" "$TMP/new/engine"
[ ! -e "$TMP/old/engine" ] || fail "the killed run's folder is still there: $(ls -R "$TMP/old/engine" | head)"
[ -z "$(mounts_under "$TMP/old")" ] || fail "still mounted under the killed run's folder: $(mounts_under "$TMP/old")"
[ "$(cat "$TMP/outside/keep" "$TMP/outside/data")" = "keep
keep" ] || fail "files of a folder mounted under the killed run's folder were removed"
[ "$(cat "$TMP/cache/run")" = "$TMP/new/engine" ] || fail "the cache does not record this run's folder"
[ -n "$(mounts_under "$TMP/cache2")" ] || fail "a mount outside the folders was unmounted"
echo "ok: a killed run's folder is unmounted and removed; the folder mounted under it keeps its files"
EOF
rc=$?
[ "$rc" -eq 0 ] || fail "engine.sh's cleanups (exit $rc)"
echo "deploy_engine_lib: passed"
