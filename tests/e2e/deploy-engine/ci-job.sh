# The container of the CircleCI `test` job, for the engine of engine.sh. Sourced (after
# tests/lib.sh and engine.sh) by tests/e2e/deploy_ci_test_job.sh and circleci-test-job.sh.
#
#   ci_job_image TOP WORK MODE
#                           builds an image of the job's container: FROM debian:bookworm (the
#                           stand-in), the job's first step as .circleci/config.yml writes it,
#                           then, as MODE says,
#                             ci-run: what `sh .ci/run` installs before it builds (its lines up
#                                     to the first `export`: make, mk/deps.sh build and test,
#                                     as root: browser and engine too): hagen-ci-test:deps;
#                             test:   the packages of mk/deps.sh's `build` and `test` lists
#                                     only (what the tests need, not the browser's nor the
#                                     engine's, which take most of the install's time):
#                                     hagen-ci-test:test.
#                           Built with the host's network (the shim); the layers are the cache,
#                           rebuilt only when the first step, .ci/run or mk/deps.sh change.
#                           WORK: a scratch folder. Fails (lib.sh's fail) when the job is not as
#                           this expects: a first run step, then `checkout`, ..., `sh .ci/run`.

ci_job_image() {
	_top=$1 _ctx=$2/ci-job-image
	rm -rf "$_ctx" && mkdir -p "$_ctx/project/.ci" "$_ctx/project/mk" || fail "cannot create $_ctx"
	python3 - "$_top/.circleci/config.yml" >"$_ctx/first-step.sh" <<'PY' || fail "the test job of .circleci/config.yml is not: a run step, checkout, ..., sh .ci/run"
import sys, yaml
job = yaml.safe_load(open(sys.argv[1]))["jobs"]["test"]
assert job["docker"][0]["image"] == "debian:bookworm", job["docker"]
steps = job["steps"]
runs = [s["run"] for s in steps if isinstance(s, dict) and "run" in s]
first = runs[0] if isinstance(runs[0], dict) else {"command": runs[0]}
last = runs[-1] if isinstance(runs[-1], dict) else {"command": runs[-1]}
assert steps.index("checkout") == 1 and last["command"].strip() == "sh .ci/run", steps
print(first["command"])
PY
	case $3 in
	ci-run)
		_tag=hagen-ci-test:deps
		# .ci/run up to its first export: the installs (it cds to the checkout itself)
		awk '/^export /{ exit } { print }' "$_top/.ci/run" >"$_ctx/project/.ci/install"
		grep -q '^sh mk/deps.sh test$' "$_ctx/project/.ci/install" ||
			fail ".ci/run: no 'sh mk/deps.sh test' before its first export"
		cp "$_top/mk/deps.sh" "$_ctx/project/mk/deps.sh"
		;;
	test)
		_tag=hagen-ci-test:test
		# mk/deps.sh's own lists (the lines that set them, nothing else of the script)
		_pk=$(sed -n '/^build="/p; /^test="/p' "$_top/mk/deps.sh")
		_pk=$(build= test= && eval "$_pk" && echo $test)
		case " $_pk " in *" gcc "*" python3 "*) ;; *) fail "mk/deps.sh: no build and test lists: '$_pk'" ;; esac
		printf 'set -e\nexport DEBIAN_FRONTEND=noninteractive\napt-get update -qq\napt-get install -y -qq --no-install-recommends %s\n' \
			"$_pk" >"$_ctx/project/.ci/install"
		;;
	*) fail "ci_job_image: mode '$3'" ;;
	esac
	cat >"$_ctx/Dockerfile" <<'DF'
FROM debian:bookworm
COPY first-step.sh /tmp/first-step.sh
RUN bash -eo pipefail /tmp/first-step.sh
COPY project /root/project
RUN sh /root/project/.ci/install && rm -rf /var/lib/apt/lists/*
DF
	timeout 1200 docker build -t "$_tag" "$_ctx" >"$2/ci-job-image.log" 2>&1 ||
		fail "the test job's image: $(tail -30 "$2/ci-job-image.log")"
}
