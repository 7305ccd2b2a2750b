#!/bin/sh
# The CircleCI `test` job, run the way CircleCI runs it: in a debian:bookworm container (the
# stand-in of engine.sh), here without IPv6 at all. Not part of `make test` (it runs the whole
# suite again, in a container: about half an hour); run it by hand, as root, from the checkout:
#   sh tests/e2e/deploy-engine/circleci-test-job.sh [LOG]     (LOG: default ./circleci-test-job.log)
# What it does:
#   1. `docker build` (host network) of the job's image (ci-job.sh: FROM debian:bookworm, the
#      job's first step as .circleci/config.yml writes it, what `sh .ci/run` installs), then
#      what `make fuzz` installs (mk/deps.sh fuzz) and a clone of HEAD as the checkout step
#      gives it, with the npm packages of tests/browser installed on the host (the registry is
#      reached through a proxy only the host trusts): the only part that needs a network;
#   2. `docker run --network none` with IPv6 disabled (only 127.0.0.1 on lo) of `sh .ci/run`,
#      the job's last step: its installs find everything there, and every test runs as in CI.
# Exit: .ci/run's. The engine and its cache are engine.sh's ($HAGEN_DOCKER_CACHE, default
# /var/cache/hagen-tests/docker).
set -u
here=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$here/../../.." && pwd)
log=${1:-$PWD/circleci-test-job.log}
. "$TOP/tests/lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "circleci-test-job: needs root (it starts a Docker engine)" >&2; exit 2; }
. "$here/engine.sh"
. "$here/ci-job.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/circleci-test-job.XXXXXX")
trap 'engine_teardown; rm -rf "$work"; lib_cleanup' EXIT
trap 'exit 1' INT TERM
engine_setup "${HAGEN_DOCKER_CACHE:-/var/cache/hagen-tests/docker}" "$work/engine"
engine_start
engine_base_images "$here"

echo "== $(date -u +%T) phase 1: the job's first step, .ci/run's installs (ci-job.sh), the fuzzers' packages, the checkout (host network)"
ci_job_image "$TOP" "$work" ci-run
# the checkout step: a clone of the commit
mkdir -p "$work/ctx"
git clone -q --no-local "$TOP" "$work/ctx/project" || fail "git clone $TOP"
echo "checkout: $(git -C "$work/ctx/project" log --oneline -1)"
(cd "$work/ctx/project/tests/browser" && timeout 300 npm ci --no-audit --no-fund >"$work/npm.log" 2>&1) ||
	fail "npm ci in tests/browser: $(tail -5 "$work/npm.log")"
cat >"$work/ctx/Dockerfile" <<'DF'
FROM hagen-ci-test:deps
WORKDIR /root/project
COPY project/mk mk
RUN sh mk/deps.sh fuzz
COPY project /root/project
DF
docker build -t hagen-circleci-test "$work/ctx" >"$work/build.log" 2>&1 ||
	fail "phase 1: $(tail -30 "$work/build.log")"
echo "== $(date -u +%T) phase 2: sh .ci/run, no network, no IPv6; output in $log"
docker run --name hagen-circleci-test --network none \
	--sysctl net.ipv6.conf.all.disable_ipv6=1 --sysctl net.ipv6.conf.default.disable_ipv6=1 \
	--sysctl net.ipv6.conf.lo.disable_ipv6=1 hagen-circleci-test \
	sh -c 'echo "IPv6 addresses: $(cat /proc/net/if_inet6 2>/dev/null | wc -l)"; exec sh .ci/run' >"$log" 2>&1
rc=$?
docker rm -f hagen-circleci-test >/dev/null
docker rmi hagen-circleci-test >/dev/null # about 2 GB: not kept as a cache
echo "== $(date -u +%T) sh .ci/run exited $rc"
grep -E '^(FAIL|skip) |^failed:|^[0-9]+ passed' "$log"
exit "$rc"
