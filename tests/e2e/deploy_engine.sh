#!/bin/sh
# Dockerfile.haproxy, docker-compose.yml and the CircleCI image job in a real Docker engine. The
# test starts its own containerd and dockerd and makes stand-ins for the base images Docker Hub
# would give (tests/e2e/deploy-engine/engine.sh: Debian's docker.io with a private socket, data
# root, exec root, default bridge and address pool, no IP forwarding, no iptables rules;
# debian:bookworm[-slim] from debootstrap, haproxy:<tag> from Debian's haproxy laid out like the
# official image), then:
#   1. runs the CircleCI `image` job's commands as .circleci/config.yml writes them (they build
#      every stage of Dockerfile.haproxy, for the course and the compose inventories), builds the
#      halog stage for the course inventory, the HAGEN_TARGET escape hatch and HAProxy 2.6;
#   2. runs docs/deploy.md's `docker build` and `docker run` example as written and checks it
#      from the host (and that the same image without HAGEN_ENV=container is unreachable);
#   3. brings the compose stack up with docker-compose (Compose v1, Debian's), checks that only
#      lb publishes and only on 127.0.0.1, waits for health, runs the verify service and copies
#      its HTML report out, kills one app replica and shows halog's report and balance check
#      catching it (exit 3), stops lb with `docker stop` while requests are in flight and checks
#      the graceful drain (exit 0, every request answered, every line stored in halog);
#   4. tears everything down whatever happened: containers, networks, volumes, its dockerd and
#      containerd, their mounts and bridges. Only images stay, as the cache of the next run.
# What it adapts, and why:
#   - `docker build` gets `--network host` (a shim first in PATH; compose builds go through it
#     with COMPOSE_DOCKER_CLI_BUILD=1): RUN steps reach the Debian archive, and this engine
#     gives containers no route off the machine.
#   - Compose v1 has no `up --wait`: the test polls the containers' health instead.
#   - Host ports are free ones: the stack's through HAGEN_WEB_PORT and HAGEN_STATS_PORT, the
#     docs example's by replacing 8080 and 8404 in its `-p` options.
#   - haproxy:3.0 is a stand-in running Debian's HAProxy 2.6 (so are :2.6 and :lts).
# The engine's data root and the images live in $HAGEN_DOCKER_CACHE (default
# /var/cache/hagen-tests/docker, outside the repository: `make clean` leaves it alone); one run
# at a time uses it (a lock). Skips only when no engine can run here: not root, no cgroups, no
# CAP_SYS_ADMIN (an unprivileged container).
set -u
. "$TOP/tests/lib.sh"

# --- can an engine run here? (skips with the reason when not; fails when a package is missing) ---
. "$TOP/tests/e2e/deploy-engine/engine.sh"
engine_can_run
for b in "$HALOG"; do [ -x "$b" ] || fail "no $b"; done

t_start=$(date +%s)
step() { echo "== [$(($(date +%s) - t_start)) s] $*"; }
mkdir -p "$TMP"
cd "$TOP" || fail "no $TOP"

# --- the engine (tests/e2e/deploy-engine/engine.sh) and the stand-in base images -----------------
proj=hagen-e2e
src=$TMP/checkout
teardown() {
	[ -n "${torn:-}" ] && return 0
	torn=1
	step "teardown"
	if [ -n "${eng_dockerd:-}" ] && lib_alive "$eng_dockerd"; then
		timeout 120 docker-compose -p "$proj" -f "$src/docker-compose.yml" --profile verify \
			down -v --remove-orphans -t 5 >"$TMP/down.log" 2>&1 || cat "$TMP/down.log"
	fi
	engine_teardown
	rm -rf "$src"
	step "done"
}
trap 'teardown; lib_cleanup' EXIT
trap 'echo "interrupted"; exit 1' INT TERM
step "starting containerd and dockerd"
engine_setup "${HAGEN_DOCKER_CACHE:-/var/cache/hagen-tests/docker}" "$TMP/engine"
engine_start
docker version --format 'engine {{.Server.Version}}, client {{.Client.Version}}; data root '"$eng_cache/data"
docker-compose version --short | sed 's/^/docker-compose /'
step "stand-in base images"
engine_base_images "$TOP/tests/e2e/deploy-engine"
docker run --rm haproxy:3.0 haproxy -v | sed -n 1p
# the stand-in behaves as the official image where Dockerfile.haproxy relies on it
docker image inspect -f '{{.Config.User}} {{.Config.WorkingDir}} {{.Config.StopSignal}} {{json .Config.Cmd}}' haproxy:3.0 >"$TMP/hap.cfg"
[ "$(cat "$TMP/hap.cfg")" = 'haproxy /var/lib/haproxy SIGUSR1 ["haproxy","-f","/usr/local/etc/haproxy/haproxy.cfg"]' ] ||
	fail "stand-in haproxy image: $(cat "$TMP/hap.cfg")"
[ "$(docker run --rm --entrypoint id haproxy:3.0)" = "uid=99(haproxy) gid=99(haproxy) groups=99(haproxy)" ] ||
	fail "stand-in haproxy: not uid/gid 99"

# --- the checkout the builds and CI commands run in -----------------------------------------------
# The files git would check out (tracked and new, as they are now; nothing ignored), as CircleCI's
# checkout step gives them: the repository's own folder keeps no stray output (the image job
# writes baked.cfg and rendered.cfg), and the build context is the same in every run.
python3 - "$TOP" "$src" <<'EOF' || fail "cannot copy the checkout"
import os, shutil, subprocess, sys
top, dst = sys.argv[1:3]
r = subprocess.run(["git", "-C", top, "ls-files", "-z", "-co", "--exclude-standard"],
                   stdout=subprocess.PIPE)
if r.returncode != 0:
    sys.exit("not a git checkout: " + top)
for rel in r.stdout.decode().split("\0"):
    src = os.path.join(top, rel)
    if rel and os.path.isfile(src):
        os.makedirs(os.path.dirname(os.path.join(dst, rel)), exist_ok=True)
        shutil.copy2(src, os.path.join(dst, rel))
EOF
cd "$src" || fail "no $src"

health() { docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$1" 2>/dev/null; }
code() { curl -s -o /dev/null -m 10 -w '%{http_code}' "$@"; }

# --- 1. the CircleCI image job, as written -------------------------------------------------------
# Its first build is this run's cold one, when the sources changed: every stage of
# Dockerfile.haproxy (the classic builder runs every stage up to the target, and lb is the last).
step "CircleCI job 'image', its commands as written in .circleci/config.yml"
python3 - .circleci/config.yml "$TMP/ci" <<'EOF' || fail ".circleci/config.yml: cannot read the image job"
import os, sys, yaml
cfg = yaml.safe_load(open(sys.argv[1]))
out = sys.argv[2]
os.makedirs(out, exist_ok=True)
n = 0
for s in cfg["jobs"]["image"]["steps"]:
    if isinstance(s, dict) and "run" in s:
        r = s["run"] if isinstance(s["run"], dict) else {"command": s["run"]}
        n += 1
        with open(f"{out}/{n:02d}.sh", "w") as f:
            f.write(f"# {r.get('name', '')}\n{r['command']}")
if n < 3:
    sys.exit(f"the image job has {n} run steps")
EOF
for s in "$TMP"/ci/*.sh; do
	echo "  $(head -1 "$s")"
	# as CircleCI runs a step: bash -eo pipefail, in the checkout
	(cd "$src" && timeout 500 bash -eo pipefail "$s") >"$s.log" 2>&1 ||
		fail "image job step $(head -1 "$s"): $(tail -30 "$s.log")"
done
[ -s baked.cfg ] && cmp -s baked.cfg rendered.cfg || fail "image job: baked.cfg and rendered.cfg differ or are empty"
rm -f baked.cfg rendered.cfg
[ "$(cat "$TMP"/ci/*.sh.log | grep -c 'Configuration file is valid')" -ge 2 ] ||
	fail "image job: no haproxy -c verdict for both images"
[ "$(cat "$TMP"/ci/*.sh.log | grep -c '^uid=99(haproxy) gid=99(haproxy)')" -ge 2 ] ||
	fail "image job: id did not print uid 99 for both images"
echo "  image job: ok (haproxy -c, probe -n -c and id in both images; baked config = hagen render)"

# What each stage is for, in the images the job built.
docker run --rm hagen/build:ci sh -c 'cd /out && ls hagen halog sample-app image/probe image/haproxy.cfg image/hagen-verify image/inventory.yaml' \
	>"$TMP/out.ls" 2>&1 || fail "build stage: files missing from /out: $(cat "$TMP/out.ls")"
docker image inspect -f '{{.Config.User}} {{.Config.StopSignal}} {{json .Config.Healthcheck.Test}} {{json .Config.ExposedPorts}}' hagen/lb:ci-compose >"$TMP/lb.cfg"
grep -q '^haproxy SIGUSR1 \["CMD","/usr/local/bin/probe","-c","/usr/local/etc/haproxy/haproxy.cfg"\] .*"8080/tcp".*"8404/tcp"' "$TMP/lb.cfg" ||
	fail "lb image: $(cat "$TMP/lb.cfg")"
# --- 2. docs/deploy.md's `docker run` example, as written (host ports moved to free ones) --------
web=$(free_port) && stats=$(free_port) && web2=$(free_port) && stats2=$(free_port) &&
	stats3=$(free_port) || fail "no free port"
python3 - docs/deploy.md >"$TMP/example.sh" <<'EOF' || fail "docs/deploy.md: no image example"
import re, sys
text = open(sys.argv[1]).read()
sec = text[text.index("## The load-balancer image"):]
block = re.search(r"```sh\n(.*?)```", sec, re.S).group(1).replace("\\\n", " ")
lines = [re.sub(r"\s+#.*$", "", l).strip() for l in block.splitlines()]
print("\n".join(l for l in lines if l.startswith(("docker build", "docker run"))))
EOF
[ "$(grep -c '^docker build' "$TMP/example.sh")" -eq 1 ] && [ "$(grep -c '^docker run' "$TMP/example.sh")" -eq 1 ] ||
	fail "docs example: want one docker build and one docker run: $(cat "$TMP/example.sh")"
sed -i -e "s/127\.0\.0\.1:8080:8080/127.0.0.1:$web:8080/" -e "s/127\.0\.0\.1:8404:8404/127.0.0.1:$stats:8404/" "$TMP/example.sh"
step "docs/deploy.md's example:"
sed 's/^/    /' "$TMP/example.sh"
sh -e "$TMP/example.sh" >"$TMP/example.log" 2>&1 || fail "docs example: $(tail -20 "$TMP/example.log")"
ex=$(docker ps -q --filter ancestor=hagen-lb | head -1)
[ -n "$ex" ] || fail "docs example: no container of hagen-lb runs"
# the same inventory without HAGEN_ENV=container, as the image job built it: healthy, but its
# loopback binds are out of reach of the published ports (what the docs warn about)
lo=$(docker run -d -p "127.0.0.1:$web2:8080" -p "127.0.0.1:$stats2:8404" hagen/lb:ci) || fail "docker run hagen/lb:ci"
# and the example's image without STATS_PASSWORD: the stats page refuses service
nopw=$(docker run -d -p "127.0.0.1:$stats3:8404" hagen-lb) || fail "docker run hagen-lb without STATS_PASSWORD"

# --- 3. the compose stack, with Compose v1 -------------------------------------------------------
export HAGEN_WEB_PORT=$(free_port) HAGEN_STATS_PORT=$(free_port) HAGEN_STATS_PASSWORD=stack-$$
sweb=$HAGEN_WEB_PORT sstats=$HAGEN_STATS_PORT
dc() { timeout 500 docker-compose -p "$proj" -f "$src/docker-compose.yml" "$@"; }
step "docker-compose build"
dc --profile verify build >"$TMP/dc-build.log" 2>&1 || fail "docker-compose build: $(tail -30 "$TMP/dc-build.log")"
step "docker-compose up -d"
dc up -d >"$TMP/dc-up.log" 2>&1 || fail "docker-compose up: $(tail -30 "$TMP/dc-up.log")"
svc_ids() { docker ps -q --filter "label=com.docker.compose.project=$proj" --filter "label=com.docker.compose.service=$1"; }
lb=$(svc_ids lb)
apps=$(svc_ids app)
hl=$(svc_ids halog)
[ -n "$lb" ] && [ -n "$hl" ] && [ "$(echo $apps | wc -w)" -eq 3 ] ||
	fail "stack: lb '$lb', halog '$hl', apps '$apps' (want 3): $(dc ps)"
# One look at every container of the project: name, user, networks, published ports.
docker inspect -f '{{.Id}} {{.Name}} user={{.Config.User}} nets={{range $n, $e := .NetworkSettings.Networks}}{{$n}},{{end}} ports={{range $p, $b := .NetworkSettings.Ports}}{{range $b}}{{$p}}={{.HostIp}}:{{.HostPort}},{{end}}{{end}}' \
	$(docker ps -q --filter "label=com.docker.compose.project=$proj") >"$TMP/containers" || fail "docker inspect"
while read -r id name user nets ports; do
	case $id in "$lb"*) svc=lb ;; "$hl"*) svc=halog ;; *) svc=app ;; esac
	ports=${ports#ports=}
	if [ "$svc" = lb ]; then
		# only lb publishes, only on loopback
		[ "$ports" = "8080/tcp=127.0.0.1:$sweb,8404/tcp=127.0.0.1:$sstats," ] || fail "lb publishes: $ports"
		[ "$nets" = "nets=${proj}_backend,${proj}_edge," ] || fail "lb is on: $nets"
	else
		[ -z "$ports" ] || fail "$name publishes $ports: only lb may"
		# apps and halog: the internal network only, unprivileged as the Dockerfile says
		[ "$nets" = "nets=${proj}_backend," ] || fail "$name is on: $nets"
		[ "$user" = user=hagen ] || fail "$name runs as '$user', not hagen (uid 10001)"
	fi
done <"$TMP/containers"
[ "$(grep -c . "$TMP/containers")" -eq 5 ] || fail "not 5 containers: $(cat "$TMP/containers")"
ss -Hltn | awk -v w=":$sweb" -v s=":$sstats" '$4 ~ w "$" || $4 ~ s "$" { print $4 }' >"$TMP/listen"
[ "$(grep -c . "$TMP/listen")" -eq 2 ] && ! grep -qv '^127\.0\.0\.1:' "$TMP/listen" ||
	fail "the host listens on: $(cat "$TMP/listen")"
[ "$(docker network inspect -f '{{.Internal}}' "${proj}_backend")" = true ] || fail "backend is not internal"
echo "  only lb publishes: 127.0.0.1:$sweb -> 8080, 127.0.0.1:$sstats -> 8404; apps and halog on the internal network only"

# --- more builds, while the containers start ------------------------------------------------------
# the halog image carries the inventory it was built for (the balance check's weights)
step "docker build --target halog (course inventory)"
docker build -q -f Dockerfile.haproxy --target halog -t hagen-e2e/halog:course . >"$TMP/b.log" 2>&1 ||
	fail "docker build --target halog: $(tail -20 "$TMP/b.log")"
docker run --rm hagen-e2e/halog:course cat /etc/hagen/inventory.yaml | cmp -s - samples/inventory.yaml ||
	fail "halog image: /etc/hagen/inventory.yaml is not samples/inventory.yaml"
[ "$(docker run --rm hagen-e2e/halog:course id -u)" = 10001 ] || fail "halog image: not uid 10001"

# HAPROXY_VERSION without a version: refused, unless HAGEN_TARGET names one
step "HAPROXY_VERSION=lts: refused without HAGEN_TARGET, built with HAGEN_TARGET=2.6"
if docker build -f Dockerfile.haproxy --build-arg HAPROXY_VERSION=lts -t hagen-e2e/lb:lts . >"$TMP/lts.log" 2>&1; then
	fail "HAPROXY_VERSION=lts built without HAGEN_TARGET"
fi
grep -q "HAPROXY_VERSION 'lts' does not start with MAJOR.MINOR" "$TMP/lts.log" || fail "lts: $(tail -5 "$TMP/lts.log")"
docker build -q -f Dockerfile.haproxy --build-arg HAPROXY_VERSION=lts --build-arg HAGEN_TARGET=2.6 \
	-t hagen-e2e/lb:lts . >"$TMP/lts.log" 2>&1 || fail "HAGEN_TARGET=2.6: $(tail -20 "$TMP/lts.log")"
docker run --rm hagen-e2e/lb:lts head -1 /usr/local/etc/haproxy/haproxy.cfg | grep -q 'for HAProxy 2.6$' ||
	fail "HAGEN_TARGET=2.6: the config is not rendered for 2.6"
# the version really inside the stand-in checks the compose config rendered for it too
docker build -q -f Dockerfile.haproxy --build-arg HAPROXY_VERSION=2.6 \
	--build-arg INVENTORY=samples/compose/inventory.yaml -t hagen-e2e/lb:2.6 . >"$TMP/b26.log" 2>&1 ||
	fail "HAPROXY_VERSION=2.6: $(tail -20 "$TMP/b26.log")"

step "waiting for health (Compose v1 has no up --wait)"
all_healthy() {
	for c in $lb $apps $ex $lo $nopw; do [ "$(health "$c")" = healthy ] || return 1; done
}
wait_for 180 all_healthy ||
	fail "not healthy: $(for c in $lb $apps $ex $lo $nopw; do echo "$(docker inspect -f '{{.Name}}' "$c") $(health "$c")"; done)"

# the docs example answers from the host
[ "$(code "http://127.0.0.1:$stats/healthz")" = 200 ] || fail "docs example: /healthz from the host"
c=$(code "http://127.0.0.1:$web/")
[ "$c" = 503 ] || fail "docs example: the entrypoint from the host answered $c, want 503 (no backend in the container)"
pw=$(sed -n 's/.*-e STATS_PASSWORD=\([^ ]*\).*/\1/p' "$TMP/example.sh")
[ -n "$pw" ] || fail "docs example: no -e STATS_PASSWORD"
c=$(code "http://127.0.0.1:$stats/stats")
[ "$c" = 401 ] || fail "docs example: /stats without a password answered $c, want 401"
c=$(code -u "admin:$pw" "http://127.0.0.1:$stats/stats")
[ "$c" = 200 ] || fail "docs example: /stats with admin:$pw answered $c"
echo "  docs example: healthy; from the host /healthz 200, / 503, /stats 401, 200 with the password"
docker stop "$ex" >/dev/null && [ "$(docker inspect -f '{{.State.ExitCode}}' "$ex")" = 0 ] ||
	fail "docs example: docker stop: exit $(docker inspect -f '{{.State.ExitCode}}' "$ex")"
docker rm "$ex" >/dev/null
# without HAGEN_ENV=container: healthy inside, unreachable from the host
curl -s -m 10 -o /dev/null "http://127.0.0.1:$stats2/healthz"
c=$?
[ "$c" -ne 0 ] || fail "the loopback-bound image answered through its published port"
echo "  without HAGEN_ENV=container: healthy, yet curl from the host fails (exit $c: connection reset)"
docker rm -f "$lo" >/dev/null
c=$(code "http://127.0.0.1:$stats3/stats")
c2=$(code -u admin: "http://127.0.0.1:$stats3/stats")
[ "$c" = 503 ] && [ "$c2" = 503 ] ||
	fail "without STATS_PASSWORD: /stats answered $c, and $c2 to admin with an empty password; want 503"
echo "  without STATS_PASSWORD: /stats answers 503, to admin with an empty password too"
docker rm -f "$nopw" >/dev/null

stats_csv() { curl -s -m 5 -u "admin:$HAGEN_STATS_PASSWORD" "http://127.0.0.1:$sstats/stats;csv" >"$TMP/stats.csv" 2>/dev/null; }
up_count() { stats_csv && grep -c '^be_app,app[0-9]*,.*,UP,' "$TMP/stats.csv"; }
servers_up() { [ "$(up_count)" = "$1" ]; }
wait_for 60 servers_up 3 || fail "HAProxy does not see 3 apps UP: $(grep '^be_app' "$TMP/stats.csv" | cut -d, -f2,18)"
[ "$(code "http://127.0.0.1:$sstats/healthz")" = 200 ] || fail "lb /healthz from the host"
[ "$(code "http://127.0.0.1:$sstats/stats")" = 401 ] || fail "lb /stats from the host without the password"
curl -s -m 10 -D "$TMP/h" -o "$TMP/body" "http://127.0.0.1:$sweb/" && grep -q '^HTTP/1.1 200' "$TMP/h" ||
	fail "lb / from the host: $(cat "$TMP/h")"
echo "  stack healthy; from the host /healthz 200, / 200 answered by $(cat "$TMP/body")"
docker logs "$hl" >"$TMP/halog.log" 2>&1
if grep -q "receive buffer is" "$TMP/halog.log"; then
	grep -q "cap_add NET_ADMIN" "$TMP/halog.log" || fail "halog's receive-buffer hint: $(grep 'receive buffer' "$TMP/halog.log")"
	echo "  halog: $(grep 'receive buffer' "$TMP/halog.log")"
fi

step "docker-compose --profile verify run --name hagen-verify verify"
dc --profile verify run --name hagen-verify verify >"$TMP/verify1.out" 2>&1
rc=$?
sed 's/^/    /' "$TMP/verify1.out"
[ "$rc" -eq 0 ] || fail "verify exited $rc"
grep -q "logged 300 of 300" "$TMP/verify1.out" || fail "verify: not every log line reached halog"
grep -q "balance by inventory for be_app: ok" "$TMP/verify1.out" || fail "verify: no balance verdict"
mkdir -p "$TMP/artifacts"
docker cp hagen-verify:/reports/. "$TMP/artifacts/" || fail "docker cp hagen-verify:/reports"
docker rm hagen-verify >/dev/null
grep -qi '<html' "$TMP/artifacts/report.html" && grep -q app1 "$TMP/artifacts/report.html" ||
	fail "no HTML report copied out: $(ls -la "$TMP/artifacts")"
echo "  report.html copied out ($(wc -c <"$TMP/artifacts/report.html") bytes), report.txt $(wc -l <"$TMP/artifacts/report.txt") lines"

# --- one replica dies: the report and the balance check catch it ----------------------------------
victim=$(echo $apps | cut -d' ' -f3)
step "docker kill $(docker inspect -f '{{.Name}}' "$victim"), its restart policy off: it stays dead"
docker update --restart=no "$victim" >/dev/null || fail "docker update --restart=no"
docker kill "$victim" >/dev/null || fail "docker kill"
wait_for 90 servers_up 2 || fail "HAProxy still sees $(up_count) apps UP"
# --no-deps: `run` would otherwise start the dead replica again (verify depends on app); no
# settle time: HAProxy's stats already show the two survivors UP
dc --profile verify run --rm --no-deps -e VERIFY_SETTLE=0 verify >"$TMP/verify2.out" 2>&1
rc=$?
sed 's/^/    /' "$TMP/verify2.out"
# drive checks its own window: only the two live replicas took traffic, evenly
[ "$(grep -c '^  [0-9a-f]\{12\} ' "$TMP/verify2.out")" -eq 2 ] || fail "verify after the kill: not 2 replicas answered"
[ "$rc" -eq 0 ] || fail "verify after the kill exited $rc"
step "halog report over the whole run, --check-balance 10"
dc --profile verify run --rm --no-deps verify halog report --db /var/lib/halog/halog.db \
	--inventory /etc/hagen/inventory.yaml --check-balance 10 >"$TMP/report.out" 2>&1
rc=$?
sed 's/^/    /' "$TMP/report.out"
[ "$rc" -eq 3 ] || fail "halog report --check-balance 10 exited $rc, want 3 (the dead replica took a third of half the run)"

# --- docker kill -s USR2 reloads HAProxy (master-worker, the entrypoint's -W) ----------------------
step "docker kill -s USR2 lb: HAProxy reloads"
loads() { docker logs "$lb" 2>&1 | grep -c 'Loading success'; }
n0=$(loads)
docker kill -s USR2 "$lb" >/dev/null || fail "docker kill -s USR2"
wait_for 60 sh -c "[ \$(docker logs $lb 2>&1 | grep -c 'Loading success') -gt $n0 ]" ||
	fail "no reload after USR2: $(docker logs "$lb" 2>&1 | tail -5)"
[ "$(docker inspect -f '{{.State.Running}} {{.RestartCount}}' "$lb")" = "true 0" ] || fail "lb restarted on USR2"
wait_for 60 servers_up 2 || fail "after the reload HAProxy sees $(up_count) apps UP"
echo "  reloaded in place ($(loads) x 'Loading success' in its log), 2 apps UP again"

# --- lb stops gracefully: requests in flight finish, every line is stored --------------------------
step "docker stop lb with 12 requests in flight"
for c in $apps; do
	[ "$c" = "$victim" ] && continue
	docker exec "$c" probe -t 5 "http://127.0.0.1:8000/_ctl/slow?ms=3000" >/dev/null || fail "cannot slow $c down"
done
mark=drain-$$-$(date +%s)
lib_start "$TMP/drain.out" "$HALOG" drive "http://127.0.0.1:$sweb/$mark" -n 12 -c 12 --request-timeout 60
drive_pid=$LIB_LAST_PID
in_flight() { stats_csv && awk -F, '$1 == "fe_web" && $2 == "FRONTEND" { exit !($5 >= 12) }' "$TMP/stats.csv"; }
wait_for 60 in_flight || fail "the 12 requests are not in flight: $(grep '^fe_web' "$TMP/stats.csv" | cut -d, -f1,2,5)"
docker stop "$lb" >/dev/null || fail "docker stop lb"
wait_for 90 sh -c "! kill -0 $drive_pid" || fail "halog drive did not finish"
wait "$drive_pid"
rc=$?
sed 's/^/    /' "$TMP/drain.out"
[ "$rc" -eq 0 ] || fail "halog drive through the stopping lb exited $rc"
grep -q "ok 12, failed 0" "$TMP/drain.out" || fail "requests in flight did not all succeed"
st=$(docker inspect -f '{{.State.ExitCode}} {{.State.OOMKilled}}' "$lb")
[ "$st" = "0 false" ] || fail "lb stopped with exit code/OOM $st (137: killed at the end of the grace period)"
echo "  lb exited 0 within docker stop's grace period; 12 of 12 requests answered"
count_drain() {
	dc --profile verify run --rm --no-deps verify halog search --db /var/lib/halog/halog.db --count "path:/$mark" >"$TMP/count" 2>&1 &&
		[ "$(tail -1 "$TMP/count")" = 12 ]
}
wait_for 60 count_drain || fail "halog stored $(tail -1 "$TMP/count") lines of the 12 drained requests"
echo "  halog stored the 12 lines of the requests lb drained"

step "docker-compose down -v"
dc --profile verify down -v --remove-orphans -t 5 >"$TMP/down.log" 2>&1 || fail "down: $(cat "$TMP/down.log")"
[ -z "$(docker ps -aq --filter "label=com.docker.compose.project=$proj")" ] || fail "containers left after down"
[ -z "$(docker volume ls -q --filter "label=com.docker.compose.project=$proj")" ] || fail "volumes left after down"
echo "deploy_engine: passed in $(($(date +%s) - t_start)) s"
