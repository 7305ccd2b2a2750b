# A private Docker engine for tests, and the stand-in base images Docker Hub would give. Sourced
# after tests/lib.sh (wait_for, lib_stop, fail, skip) by tests/e2e/deploy_engine.sh,
# tests/e2e/deploy_ci_test_job.sh and tests/e2e/deploy-engine/circleci-test-job.sh.
#
#   engine_can_run           skips when no engine can run here (not root, no CAP_SYS_ADMIN, no
#                            writable cgroups), fails when a program is missing
#   engine_setup CACHE RUN   sets the client's environment (DOCKER_HOST, a `docker` shim first
#                            in PATH), takes CACHE's lock (one engine per cache at a time) and
#                            stops daemons a killed run left; RUN: a fresh folder for sockets,
#                            exec root and logs (its path names the processes, see below)
#   engine_start             bridge, containerd and dockerd; a data root that will not start
#                            is emptied once. Cleans a killed run's containers and volumes
#   engine_base_images DIR   debian:bookworm[-slim] and haproxy:3.0/2.6/lts from the recipe in
#                            DIR (this folder), unless images of the same recipe exist
#   engine_teardown          every container, volume, network and dangling image; dockerd and
#                            containerd by PID, shims left behind, mounts, bridges, RUN. Images
#                            stay in CACHE: they are the next run's cache. Safe to call twice.
#                            A guard process started by engine_start runs it if the shell that
#                            sourced this dies without running it (SIGKILL)
#   engine_mounts            what is still mounted under CACHE or RUN, deepest first
#
# The engine: Debian's docker.io (dockerd 20.10, its containerd and runc), its own socket, data
# root (CACHE/data), exec root and default bridge, an address pool no route of the host uses,
# --ip-forward=false and --iptables=false: containers get no route off the machine, the host's
# firewall and forwarding stay as they are; bridges, internal networks, Docker's DNS and ports
# published on 127.0.0.1 work. `docker build` goes through a shim that adds --network host, so
# RUN steps reach the Debian archive.

# Skips (tests/lib.sh's skip) with the reason when no engine can run here: not root, no
# CAP_SYS_ADMIN (an unprivileged container), no writable cgroup hierarchy. As root it fails when
# a program is missing rather than skip: `sh mk/deps.sh test` installs them.
engine_can_run() {
	[ "$(id -u)" -eq 0 ] || skip "a Docker engine needs root (uid $(id -u)): the image and stack are not run"
	_caps=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)
	[ $(((0x$_caps >> 21) & 1)) -eq 1 ] ||
		skip "no CAP_SYS_ADMIN (an unprivileged container?): no Docker engine can run here"
	# cgroup v2 (one hierarchy) or v1 (a memory hierarchy among others), mounted read-write
	awk '($3 == "cgroup2" && $2 == "/sys/fs/cgroup") || ($3 == "cgroup" && $2 ~ "^/sys/fs/cgroup/memory") {
		if ($4 ~ /^rw/) ok = 1 } END { exit !ok }' /proc/self/mounts ||
		skip "no writable cgroup hierarchy: no Docker engine can run here"
	_missing=
	for _c in dockerd containerd containerd-shim-runc-v2 runc ctr docker-compose debootstrap flock \
		unshare python3 curl ip ss git; do
		command -v "$_c" >/dev/null 2>&1 || _missing="$_missing $_c"
	done
	[ -x /usr/bin/docker ] || _missing="$_missing /usr/bin/docker"
	[ -z "$_missing" ] ||
		fail "missing:$_missing (as root, \`sh mk/deps.sh test\` installs docker.io, docker-compose, debootstrap and git)"
}

engine_setup() {
	eng_cache=$1 eng_run=$2
	# every cleanup below works on paths under these two: never on the whole tree
	for _d in "$eng_cache" "$eng_run"; do
		case $_d in /?*/?*) ;; *) fail "engine_setup: '$_d' is not an absolute folder below another" ;; esac
	done
	eng_ctd= eng_dockerd= eng_torn= eng_nets= eng_guard=
	mkdir -p "$eng_cache" "$eng_run/bin" "$eng_run/docker-config" "$eng_run/ctd" ||
		fail "cannot create $eng_cache or $eng_run"
	# one bridge name per cache (at most 15 characters): engines of two caches can run at once
	eng_bridge=hg$(printf '%s' "$eng_cache" | cksum | cut -d' ' -f1)
	eng_bridge=$(printf '%.15s' "$eng_bridge")
	export DOCKER_HOST="unix://$eng_run/docker.sock" DOCKER_CONFIG="$eng_run/docker-config" \
		DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=1
	unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH COMPOSE_FILE COMPOSE_PROJECT_NAME \
		COMPOSE_PROFILES COMPOSE_INTERACTIVE_NO_CLI 2>/dev/null
	# Debian's client (the engine's version); compose builds go through it too
	# (COMPOSE_DOCKER_CLI_BUILD=1), so every build shares the shim and one layer cache
	cat >"$eng_run/bin/docker" <<'SHIM'
#!/bin/sh
# test shim: RUN steps reach the Debian archive only from the host's network; the warning that
# containers cannot reach beyond the machine (--ip-forward=false, on purpose) is left out
case ${1:-} in
build)
	shift
	exec /usr/bin/docker build --network host "$@"
	;;
run | create)
	err=$(mktemp)
	/usr/bin/docker "$@" 2>"$err"
	rc=$?
	grep -v '^WARNING: IPv4 forwarding is disabled' "$err" >&2
	rm -f "$err"
	exit $rc
	;;
esac
exec /usr/bin/docker "$@"
SHIM
	chmod +x "$eng_run/bin/docker"
	PATH=$eng_run/bin:$PATH
	export PATH
	# one engine per cache: another engineer's `make check` may be here too
	exec 9>"$eng_cache/lock"
	if ! flock -n 9; then
		echo "waiting for $eng_cache/lock, held by another run"
		flock -w 420 9 || fail "$eng_cache/lock still held after 420 s"
	fi
	eng_stop_recorded "$eng_cache/dockerd.pid" dockerd
	eng_stop_recorded "$eng_cache/containerd.pid" containerd
	# a killed run's folder: its daemons are stopped now and the lock is ours, so what is still
	# mounted under it (network namespaces dockerd left) is nobody's
	if [ -s "$eng_cache/run" ]; then
		_old=$(cat "$eng_cache/run")
		case $_old in /?*/?*/engine) [ -d "$_old" ] && [ "$_old" != "$eng_run" ] && eng_clear "$_old" ;; esac
	fi
	echo "$eng_run" >"$eng_cache/run"
}

# DIR: unmounts what is mounted under DIR (deepest first), then removes DIR without crossing
# into another file system: a mount left under it is never emptied through.
eng_clear() {
	for _m in $(eng_mounts_under "$1"); do umount -l "$_m" 2>/dev/null || echo "cannot unmount $_m"; done
	rm -rf --one-file-system "$1"
}

# FILE WHAT: stops the process whose PID FILE holds, if its command line names this cache.
eng_stop_recorded() {
	[ -s "$1" ] || return 0
	_p=$(cat "$1")
	if [ -n "$_p" ] && tr '\0' ' ' <"/proc/$_p/cmdline" 2>/dev/null | grep -q -- "$eng_cache"; then
		echo "stopping a $2 left by an earlier run (PID $_p)"
		lib_stop "$_p"
	fi
	rm -f "$1"
}

engine_mounts() {
	[ -n "${eng_cache:-}" ] && [ -n "${eng_run:-}" ] || return 0
	eng_mounts_under "$eng_cache" "$eng_run"
}
# DIR...: the mount points under the DIRs (absolute, below a top-level folder), deepest first
eng_mounts_under() {
	for _d; do case $_d in /?*/?*) ;; *) return 0 ;; esac; done
	awk -v dirs="$*" 'BEGIN { n = split(dirs, d, " ") } { m = $5; gsub(/\\040/, " ", m)
		for (i = 1; i <= n; i++) if (index(m "/", d[i] "/") == 1) { print length(m), m; next } }' /proc/self/mountinfo |
		sort -rn | cut -d' ' -f2-
}

eng_daemons() {
	# dockerd uses a containerd already listening at /run/containerd/containerd.sock when there
	# is one: ours is started first and named
	setsid containerd --config "$eng_run/ctd/config.toml" --address "$eng_run/ctd/containerd.sock" \
		--root "$eng_cache/containerd" --state "$eng_run/ctd/state" >"$eng_run/containerd.log" 2>&1 9>&- &
	eng_ctd=$!
	echo "$eng_ctd" >"$eng_cache/containerd.pid"
	wait_for 60 test -S "$eng_run/ctd/containerd.sock" || { tail -20 "$eng_run/containerd.log"; return 1; }
	setsid dockerd --config-file "$eng_run/daemon.json" --data-root "$eng_cache/data" \
		--exec-root "$eng_run/exec" --pidfile "$eng_run/dockerd.pid" --host "$DOCKER_HOST" \
		--containerd "$eng_run/ctd/containerd.sock" --ip-forward=false --iptables=false \
		--ip6tables=false --bridge="$eng_bridge" --default-address-pool "base=$eng_pool.0.0/16,size=24" \
		--storage-driver=overlay2 --log-level=warn >"$eng_run/dockerd.log" 2>&1 9>&- &
	eng_dockerd=$!
	echo "$eng_dockerd" >"$eng_cache/dockerd.pid"
	wait_for 120 docker version || { tail -20 "$eng_run/dockerd.log"; return 1; }
}

engine_start() {
	printf 'version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n' >"$eng_run/ctd/config.toml"
	printf '{}\n' >"$eng_run/daemon.json" # no /etc/docker/daemon.json
	ip link del "$eng_bridge" 2>/dev/null # a killed run's (the lock says no engine uses it)
	# a /16 no route of the host uses: .255.0/24 for the default bridge, /24s for networks
	eng_pool=
	for _p in 10.213 10.214 10.215 10.216 172.30; do
		ip -4 route show | grep -q "^$_p\." || { eng_pool=$_p; break; }
	done
	[ -n "$eng_pool" ] || fail "no free address pool (10.213-216.0.0/16, 172.30.0.0/16 all routed)"
	ip link add "$eng_bridge" type bridge && ip addr add "$eng_pool.255.1/24" dev "$eng_bridge" &&
		ip link set "$eng_bridge" up || fail "cannot create the bridge $eng_bridge"
	# dockerd keeps its networks in the data root and gives the bridge the subnet it had last
	# time, whatever the bridge has now: two caches could then put two bridges on one subnet.
	# No container outlives a run, so it starts with none (the bridge's address is the pool's)
	rm -f "$eng_cache/data/network/files/local-kv.db"
	if ! eng_daemons; then
		echo "the engine did not start; starting again with an empty data root"
		lib_stop "$eng_dockerd"
		lib_stop "$eng_ctd"
		for _m in $(engine_mounts); do umount -l "$_m" 2>/dev/null; done
		rm -rf --one-file-system "$eng_cache/data" "$eng_cache/containerd"
		eng_daemons || fail "dockerd did not start: $(tail -5 "$eng_run/dockerd.log")"
	fi
	_ids=$(docker ps -aq)
	[ -z "$_ids" ] || docker rm -f -v $_ids >/dev/null
	docker volume prune -f >/dev/null
	docker network prune -f >/dev/null
	eng_start_guard
}

# The guard: a subshell that outlives a SIGKILLed test (traps cannot catch that) and then tears
# the engine down; it ignores the signals the test's own traps handle. At most 2 hours.
eng_start_guard() {
	_parent=$$
	(
		trap '' INT TERM HUP
		_n=0
		while kill -0 "$_parent" 2>/dev/null && [ "$_n" -lt 7200 ]; do
			sleep 1
			_n=$((_n + 1))
		done
		[ -d "$eng_run" ] && engine_teardown >"$eng_cache/guard.log" 2>&1
	) &
	eng_guard=$!
}

engine_base_images() {
	_dir=$1 _label=org.hagen.test.recipe
	_deb=$(sha256sum <"$_dir/debian.sh" | cut -c1-16)
	_hap=$( (echo "$_deb"; cat "$_dir/haproxy/Dockerfile" "$_dir/haproxy/docker-entrypoint.sh") |
		sha256sum | cut -c1-16)
	if [ "$(eng_recipe debian:bookworm)" != "$_deb" ] || [ "$(eng_recipe debian:bookworm-slim)" != "$_deb" ]; then
		echo "debian:bookworm and -slim: debootstrap --variant=minbase bookworm, docker import"
		mkdir -p "$eng_run/debian"
		# in a mount namespace of its own: what debootstrap's second stage mounts in the chroot
		# (/proc) is seen by nothing else and goes when it exits, whatever happened
		unshare -m --propagation private sh "$_dir/debian.sh" "$eng_run/debian" "$_label=$_deb" ||
			fail "stand-in debian images"
		rm -rf --one-file-system "$eng_run/debian"
	else
		echo "debian:bookworm and -slim: cached (recipe $_deb)"
	fi
	if [ "$(eng_recipe haproxy:3.0)" != "$_hap" ] || [ "$(eng_recipe haproxy:2.6)" != "$_hap" ] ||
		[ "$(eng_recipe haproxy:lts)" != "$_hap" ]; then
		echo "haproxy:3.0 (and :2.6, :lts): Debian's haproxy laid out like the official image"
		docker build -q --label "$_label=$_hap" -t haproxy:3.0 -t haproxy:2.6 -t haproxy:lts \
			"$_dir/haproxy" >"$eng_run/haproxy.log" 2>&1 ||
			fail "stand-in haproxy image: $(tail -20 "$eng_run/haproxy.log")"
	else
		echo "haproxy:3.0: cached (recipe $_hap)"
	fi
}
eng_recipe() { docker image inspect -f '{{index .Config.Labels "org.hagen.test.recipe"}}' "$1" 2>/dev/null; }

engine_teardown() {
	[ -n "${eng_run:-}" ] && [ -n "${eng_cache:-}" ] || return 0 # engine_setup never ran
	[ -n "$eng_torn" ] && return 0
	eng_torn=1
	# the shell that started the guard tears down itself: the guard is not needed any more
	[ -n "$eng_guard" ] && lib_alive "$eng_guard" && lib_stop "$eng_guard" KILL
	if [ -n "$eng_dockerd" ] && lib_alive "$eng_dockerd"; then
		eng_nets=$(timeout 30 docker network ls -q --filter driver=bridge 2>/dev/null)
		_ids=$(timeout 30 docker ps -aq 2>/dev/null)
		[ -z "$_ids" ] || timeout 120 docker rm -f -v $_ids >/dev/null 2>&1
		timeout 60 docker volume prune -f >/dev/null 2>&1
		timeout 60 docker network prune -f >/dev/null 2>&1
		timeout 120 docker image prune -f >/dev/null 2>&1
		_left=$(timeout 30 docker ps -aq 2>/dev/null; timeout 30 docker volume ls -q 2>/dev/null)
		[ -z "$_left" ] || echo "teardown: still there: $_left"
		lib_stop "$eng_dockerd"
	fi
	if [ -n "$eng_ctd" ] && lib_alive "$eng_ctd"; then
		# containers dockerd could not remove: their tasks, through containerd itself
		for _t in $(ctr --address "$eng_run/ctd/containerd.sock" -n moby tasks ls -q 2>/dev/null); do
			ctr --address "$eng_run/ctd/containerd.sock" -n moby tasks kill -s KILL "$_t" >/dev/null 2>&1
			ctr --address "$eng_run/ctd/containerd.sock" -n moby tasks delete -f "$_t" >/dev/null 2>&1
		done
		lib_stop "$eng_ctd"
	fi
	# shims outlive containerd by design; ours name its socket
	for _p in $(ps -eo pid=,args= | awk -v s="$eng_run/ctd/" 'index($0, s) { print $1 }'); do
		[ "$_p" = "$$" ] || lib_stop "$_p" KILL
	done
	for _m in $(engine_mounts); do umount -l "$_m" 2>/dev/null || echo "teardown: cannot unmount $_m"; done
	# the bridges of networks dockerd had no time to remove, and the default one
	for _n in $eng_nets; do ip link del "br-$_n" 2>/dev/null; done
	ip link del "$eng_bridge" 2>/dev/null
	rm -f "$eng_cache/dockerd.pid" "$eng_cache/containerd.pid" "$eng_cache/run"
	[ -z "$(engine_mounts)" ] || echo "teardown: mounts left: $(engine_mounts)"
	rm -rf --one-file-system "$eng_run"
	echo "engine cache: $(du -sh "$eng_cache" 2>/dev/null | cut -f1) in $eng_cache;" \
		"$(df -h "$eng_cache" | awk 'NR == 2 { print $4 }') free"
}
