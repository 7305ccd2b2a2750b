#!/bin/sh
# Dockerfile.haproxy's own commands, run without Docker: the build context is assembled the way
# Docker does (.dockerignore applied; it must stay small), then the `build` stage's RUN lines
# that produce /out run in it (with /out moved under $TMP; the apt layer is left out: make test
# has installed those packages), then the `lb` stage's COPY --from=build lines fill a fake root
# and its exec-form RUN lines (haproxy -c, probe -n -c) run against that root with Debian's
# haproxy. The stage default INVENTORY is used, then the compose stack's.
set -u
. "$TOP/tests/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"
command -v haproxy >/dev/null || skip "haproxy is not installed"
command -v make >/dev/null || skip "make is not installed"
mkdir -p "$TMP"
cd "$TOP" || fail "no $TOP"

python3 - "$TOP" "$TMP" <<'EOF' || fail "Dockerfile.haproxy: see above"
import json, os, re, shutil, subprocess, sys

top, tmp = sys.argv[1:3]
errors = []
def bad(msg):
    errors.append(msg)
    print("  " + msg, file=sys.stderr)

# --- the build context, as .dockerignore leaves it ----------------------------------------------
sys.path.insert(0, os.path.join(top, "tests/e2e/deploy-lib"))
import dockerignore
rules = dockerignore.load(os.path.join(top, ".dockerignore"))
def ignored(rel):
    return dockerignore.ignored(rules, rel)
ctx = os.path.join(tmp, "ctx")
size, keep = 0, []
for root, dirs, names in os.walk(top):
    relroot = os.path.relpath(root, top)
    relroot = "" if relroot == "." else relroot
    dirs[:] = [d for d in dirs if not dockerignore.prunable(rules, os.path.join(relroot, d))]
    for n in names:
        rel = os.path.join(relroot, n)
        src = os.path.join(root, n)
        if ignored(rel) or not os.path.isfile(src):
            continue
        size += os.path.getsize(src)
        keep.append(rel)
print(f"build context: {len(keep)} files, {size / 1e6:.1f} MB")
if size > 50e6:  # measured first: a missing exclusion (bench/out) means gigabytes
    bad(f"the build context is {size / 1e6:.0f} MB: .dockerignore misses something big")
    sys.exit(1)
for rel in keep:
    dst = os.path.join(ctx, rel)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copy2(os.path.join(top, rel), dst)
for leak in ("build", "bench/out", ".git", "tests", "docs"):
    if os.path.exists(os.path.join(ctx, leak)):
        bad(f"{leak} is in the build context")

# --- stages --------------------------------------------------------------------------------------
text = open(os.path.join(top, "Dockerfile.haproxy")).read().replace("\\\n", " ")
stages, cur, gargs = {}, None, {}
for line in text.splitlines():
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    m = re.match(r"(?i)^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", line)
    if m:
        cur = m.group(2)
        stages[cur] = {"from": m.group(1), "lines": []}
        continue
    if cur is None:
        m = re.match(r"ARG\s+(\w+)(?:=(\S*))?$", line)
        if m:
            gargs[m.group(1)] = m.group(2) or ""
        continue
    stages[cur]["lines"].append(line)

def run_build(inventory):
    """Runs the build stage's RUN lines; with inventory, only those that use $INVENTORY (the
    rest is already in /out)."""
    out = os.path.join(tmp, "out")
    if not inventory:
        shutil.rmtree(out, ignore_errors=True)
    # Docker runs RUN lines in a clean environment: no MAKEFLAGS or O from the calling make
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tmp, "LC_ALL": "C"}
    for line in stages["build"]["lines"]:
        m = re.match(r"ARG\s+(\w+)(?:=(\S*))?$", line)
        if m:
            env[m.group(1)] = m.group(2) if m.group(2) is not None else gargs.get(m.group(1), "")
            continue
        if not line.startswith("RUN "):
            continue
        cmd = line[4:]
        if "apt-get" in cmd or "mk/deps.sh" in cmd:
            continue  # the package layer: make test has installed these
        if "/out" not in cmd:
            bad(f"build stage: unexpected RUN line: {cmd}")
            continue
        if inventory:
            if "$INVENTORY" not in cmd:
                continue
            env["INVENTORY"] = inventory
        cmd = cmd.replace("/out", out)
        r = subprocess.run(["sh", "-c", cmd], cwd=ctx, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            bad(f"build stage: `{cmd[:120]}` exited {r.returncode}:\n{r.stdout[-2000:]}")
            return None, env
    return out, env

def run_lb(out, label):
    root = os.path.join(tmp, "root")
    shutil.rmtree(root, ignore_errors=True)
    ran = 0
    for line in stages["lb"]["lines"]:
        m = re.match(r"COPY\s+--from=build\s+(.*)$", line)
        if m:
            *srcs, dst = m.group(1).split()
            for s in srcs:
                src = s.replace("/out", out, 1)
                d = root + dst + (os.path.basename(s) if dst.endswith("/") else "")
                os.makedirs(os.path.dirname(d), exist_ok=True)
                shutil.copy2(src, d)
            continue
        m = re.match(r"RUN\s+(\[.*\])$", line)
        if m:
            argv = [root + a if a.startswith("/") and os.path.exists(root + a) else a
                    for a in json.loads(m.group(1))]
            r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            shown = " ".join(json.loads(m.group(1)))
            if r.returncode != 0:
                bad(f"{label}: lb stage `{shown}` exited {r.returncode}: {r.stdout.strip()}")
            else:
                print(f"{label}: lb stage `{shown}`: ok ({r.stdout.strip().splitlines()[-1]})")
            ran += 1
        elif line.startswith("RUN "):
            bad(f"lb stage: shell-form RUN (the official image's shell is not ours to rely on): {line}")
    if ran < 2:
        bad(f"lb stage: {ran} RUN checks, expected haproxy -c and probe -n -c")

for inv in (None, "samples/compose/inventory.yaml"):
    out, env = run_build(inv)
    label = env.get("INVENTORY") or "?"
    if out is None:
        continue
    for f in ("hagen", "halog", "sample-app", "image/probe", "image/haproxy.cfg",
              "image/inventory.yaml", "image/hagen-verify"):
        if not os.path.isfile(os.path.join(out, f)):
            bad(f"{label}: build stage made no /out/{f}")
    if not os.access(os.path.join(out, "image/hagen-verify"), os.X_OK):
        bad("hagen-verify is not executable")
    print(f"{label}: build stage ok (hagen, halog, sample-app, probe, haproxy.cfg)")
    run_lb(out, label)
sys.exit(1 if errors else 0)
EOF
