#!/bin/sh
# .circleci/config.yml, checked without CircleCI: it parses; the jobs test, image and stack run
# in one workflow; test runs the same command as .ci/run on Debian; image builds
# Dockerfile.haproxy on remote Docker; stack runs the verification, stores the report as an
# artifact and always tears the stack down; every build target it names exists.
set -u
. "$TOP/tests/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"
python3 -c 'import yaml' 2>/dev/null || skip "python3-yaml is not installed"
cd "$TOP" || fail "no $TOP"

python3 - .circleci/config.yml .ci/run Dockerfile.haproxy <<'EOF' || fail ".circleci/config.yml checks failed (listed above)"
import re, shlex, sys, yaml

errors = []
def bad(msg):
    errors.append(msg)
    print("  " + msg, file=sys.stderr)

cfg_path, ci_run, dockerfile = sys.argv[1:4]
with open(cfg_path) as f:
    cfg = yaml.safe_load(f)
if str(cfg.get("version")) != "2.1":
    bad(f"version is {cfg.get('version')!r}, not 2.1")
jobs = cfg.get("jobs") or {}

def steps(job):
    return (jobs.get(job) or {}).get("steps") or []
def runs(job):
    out = []
    for s in steps(job):
        if isinstance(s, dict) and "run" in s:
            r = s["run"]
            if not isinstance(r, dict):
                r = {"command": str(r)}
            out.append((str(r.get("command", "")), r))
    return out
def step_names(job):
    return [s if isinstance(s, str) else next(iter(s)) for s in steps(job)]

for j in ("test", "image", "stack"):
    if j not in jobs:
        bad(f"no job '{j}'")
    elif "checkout" not in step_names(j):
        bad(f"job {j}: no checkout step")

# one workflow runs all three
wf_jobs = set()
for name, wf in (cfg.get("workflows") or {}).items():
    if not isinstance(wf, dict):
        continue
    for j in wf.get("jobs") or []:
        wf_jobs.add(j if isinstance(j, str) else next(iter(j)))
if not {"test", "image", "stack"} <= wf_jobs:
    bad(f"the workflows run {sorted(wf_jobs)}, not test, image and stack")

# test: Debian, and the same command as .ci/run (the script itself, or its make line)
img = " ".join(d.get("image", "") for d in (jobs.get("test") or {}).get("docker") or [])
if not re.match(r"debian:(bookworm|12)", img):
    bad(f"job test runs on '{img}', not Debian 12 (.ci/run and mk/deps.sh need apt and dpkg)")
make_lines = [l.strip() for l in open(ci_run) if re.match(r"\s*make\s+test\b", l)]
if not make_lines:
    bad(f"{ci_run} has no `make test` line to compare with")
test_cmds = "\n".join(c for c, _ in runs("test"))
calls_ci_run = any(re.search(r"(^|\s)(sh|bash)?\s*\.?/?\.ci/run(\s|$)", l.strip())
                   for l in test_cmds.splitlines())
same_make = make_lines and all(m in test_cmds for m in make_lines)
if not (calls_ci_run or same_make):
    bad("job test neither runs .ci/run nor its make line: " + " | ".join(make_lines))

# image: remote Docker, builds Dockerfile.haproxy, checks the config in the image
if "setup_remote_docker" not in step_names("image"):
    bad("job image: no setup_remote_docker")
image_cmds = "\n".join(c for c, _ in runs("image"))
if "-f Dockerfile.haproxy" not in image_cmds:
    bad("job image: does not build Dockerfile.haproxy")
if not re.search(r"haproxy -c -f /usr/local/etc/haproxy/haproxy.cfg", image_cmds):
    bad("job image: does not run haproxy -c in the built image")

# stack: up, verify, artifact, teardown with when: always
stack_runs = runs("stack")
stack_cmds = "\n".join(c for c, _ in stack_runs)
for want, why in ((r"docker compose .*up\b", "brings the stack up"),
                  (r"docker compose .*run\b.*\bverify\b", "runs the verify service"),
                  (r"docker cp \S+:/reports", "collects the report from the verify container")):
    if not re.search(want, stack_cmds):
        bad(f"job stack: nothing that {why}")
arts = [s["store_artifacts"] for s in steps("stack") if isinstance(s, dict) and "store_artifacts" in s]
if not arts:
    bad("job stack: no store_artifacts")
down = [r for c, r in stack_runs if re.search(r"docker compose .*down\b", c)]
if not down or any(r.get("when") != "always" for r in down):
    bad("job stack: the teardown (docker compose down) does not run `when: always`")
collect = [r for c, r in stack_runs if "docker cp" in c]
if collect and any(r.get("when") != "always" for r in collect):
    bad("job stack: collecting the report must run `when: always` (a failed check has a report too)")
order = step_names("stack")
if arts and down and order.index("store_artifacts") > max(i for i, s in enumerate(steps("stack"))
        if isinstance(s, dict) and "run" in s and re.search(r"docker compose .*down\b", str(s))):
    bad("job stack: artifacts are stored after the stack is gone")

# every --target names a stage of the Dockerfile
stage_names = re.findall(r"(?im)^FROM\s+\S+\s+AS\s+(\S+)", open(dockerfile).read())
for c, _ in runs("image") + stack_runs:
    builds = [l for l in c.replace("\\\n", " ").splitlines() if "docker build" in l]
    c = "\n".join(builds)
    for t in re.findall(r"--target\s+(\S+)", c):
        if t not in stage_names:
            bad(f"docker build --target {t}: no such stage in {dockerfile} ({stage_names})")
    for a in re.findall(r"--build-arg\s+INVENTORY=(\S+)", c):
        try:
            open(a).close()
        except OSError:
            bad(f"--build-arg INVENTORY={a}: no such file")
sys.exit(1 if errors else 0)
EOF
echo ".circleci/config.yml: checks pass"
