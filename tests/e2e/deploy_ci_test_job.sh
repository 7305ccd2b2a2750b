#!/bin/sh
# The container of the CircleCI `test` job, for real: in the engine of deploy-engine/engine.sh,
# the debian:bookworm stand-in with the job's first step and what `sh .ci/run` installs
# (deploy-engine/ci-job.sh), run with no network at all and IPv6 disabled (only 127.0.0.1 on
# lo), as root without CAP_SYS_ADMIN, and with no ../shared beside the checkout: the tests whose
# behaviour differs there, run by the suite's runner on this run's binaries (the checkout and
# the build folder mounted read-only at their own paths), must pass, saying what they skip:
#   - e2e/listen_refused, listen_transports, listen_tcp_many: their IPv6 part ("skip the IPv6
#     part"), the rest passes;
#   - case/halog-parse-corpus/001-every-corpus-line and e2e/halog-ingest-corpus: skipped, no
#     corpus;
#   - e2e/listen_no_ipv6 (no network namespace can be made) and e2e/deploy_engine (no
#     CAP_SYS_ADMIN): skipped with that reason.
# The whole job (its `sh .ci/run`: every test, the fuzzers) in the same container is
# deploy-engine/circleci-test-job.sh, by hand: it takes about half an hour.
# Skips where no engine can run (engine.sh's engine_can_run).
set -u
. "$TOP/tests/lib.sh"
. "$TOP/tests/e2e/deploy-engine/engine.sh"
. "$TOP/tests/e2e/deploy-engine/ci-job.sh"
engine_can_run
[ -x "$HALOG" ] || fail "no $HALOG"
O=$(cd "$(dirname "$HALOG")" && pwd)
t_start=$(date +%s)
step() { echo "== [$(($(date +%s) - t_start)) s] $*"; }
mkdir -p "$TMP"
trap 'engine_teardown; lib_cleanup' EXIT
trap 'echo "interrupted"; exit 1' INT TERM

step "starting containerd and dockerd"
engine_setup "${HAGEN_DOCKER_CACHE:-/var/cache/hagen-tests/docker}" "$TMP/engine"
engine_start
step "stand-in base images"
engine_base_images "$TOP/tests/e2e/deploy-engine"
step "the test job's image: its first step and mk/deps.sh's build and test packages (cached layers)"
ci_job_image "$TOP" "$TMP" test

# the checkout and this run's build, read-only at their own paths; nothing beside them
mnt="-v $TOP:$TOP:ro"
case $O/ in "$TOP"/*) ;; *) mnt="$mnt -v $O:$O:ro" ;; esac
step "the tests, in the job's container: --network none, IPv6 disabled"
cat >"$TMP/in.sh" <<EOF
echo "IPv6 addresses: \$(cat /proc/net/if_inet6 2>/dev/null | wc -l)"
ip -o addr show | awk '{ print "address:", \$2, \$4 }'
echo "beside the checkout: \$(ls "$TOP/.." 2>/dev/null | tr '\n' ' ')"
cd "$TOP" || exit 1
for f in e2e/listen_refused e2e/listen_transports e2e/listen_tcp_many e2e/listen_no_ipv6 \\
	case/halog-parse-corpus/ e2e/halog-ingest-corpus e2e/deploy_engine; do
	echo "-- tests/run.sh \$f"
	VERBOSE=1 O="$O" sh tests/run.sh "\$f"
	echo "-- exit \$?"
done
EOF
# `docker run` with a bind mount does not read its context: -i feeds the script
timeout 500 docker run --rm -i --name "hagen-ci-test-$$" --network none \
	--sysctl net.ipv6.conf.all.disable_ipv6=1 --sysctl net.ipv6.conf.default.disable_ipv6=1 \
	--sysctl net.ipv6.conf.lo.disable_ipv6=1 $mnt hagen-ci-test:test sh -s <"$TMP/in.sh" >"$TMP/job.out" 2>&1
rc=$?
sed 's/^/    /' "$TMP/job.out"
[ "$rc" -eq 0 ] || fail "docker run of the job's container exited $rc"

# what the container was: no IPv6, only loopback, no ../shared
grep -q '^IPv6 addresses: 0$' "$TMP/job.out" || fail "the container has IPv6 addresses"
[ "$(grep -c '^address:' "$TMP/job.out")" -eq 1 ] && grep -q '^address: lo 127.0.0.1/8$' "$TMP/job.out" ||
	fail "the container has more than 127.0.0.1 on lo: $(grep '^address:' "$TMP/job.out")"
# (the image's own files may share the parent directory, /tmp for a clone made there: the check is
# that no shared/ came with the checkout)
grep -q '^beside the checkout: ' "$TMP/job.out" || fail "the container did not list the checkout's parent"
! grep '^beside the checkout: ' "$TMP/job.out" | grep -qw 'shared' ||
	fail "../shared is beside the checkout in the container: $(grep '^beside' "$TMP/job.out")"
# each run: its output, then its exit status
run_of() { sed -n "\\|^-- tests/run.sh $1\$|,\\|^-- exit|p" "$TMP/job.out"; }
for t in listen_refused listen_transports listen_tcp_many; do
	run_of "e2e/$t" >"$TMP/$t.out"
	grep -q "^ok   e2e/$t$" "$TMP/$t.out" && grep -q '^-- exit 0$' "$TMP/$t.out" ||
		fail "e2e/$t did not pass in the container"
	grep -q "skip the IPv6 part: cannot bind \[::1\] here" "$TMP/$t.out" || fail "e2e/$t did not say it skipped IPv6"
done
# a run of skips only has nothing passed: the runner exits 1 for that, with 0 failed
want_skip() {
	run_of "$1" >"$TMP/skip.out"
	grep -q "^skip $2: .*$3" "$TMP/skip.out" && grep -q "^0 passed, 0 failed, [0-9]* skipped$" "$TMP/skip.out" ||
		fail "$2 was not skipped with '$3': $(cat "$TMP/skip.out")"
}
want_skip case/halog-parse-corpus/ case/halog-parse-corpus/001-every-corpus-line "no corpus"
want_skip e2e/halog-ingest-corpus e2e/halog-ingest-corpus "no corpus"
want_skip e2e/listen_no_ipv6 e2e/listen_no_ipv6 "cannot make a network namespace without IPv6"
want_skip e2e/deploy_engine e2e/deploy_engine "no CAP_SYS_ADMIN"
echo "deploy_ci_test_job: passed in $(($(date +%s) - t_start)) s"
