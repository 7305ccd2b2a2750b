#!/bin/sh
# docker-compose.yml and Dockerfile.haproxy, checked without a Docker engine: the compose file
# parses; only lb publishes ports and only on 127.0.0.1; every build target exists in the
# Dockerfile; every referenced file exists and is not excluded by .dockerignore; apps and halog
# sit on the internal network only; halog's fixed address is the log target baked into the
# config; the image runs unprivileged with a HEALTHCHECK; and `docker compose config` accepts
# the file when a compose plugin is installed.
set -u
. "$TOP/tests/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"
python3 -c 'import yaml' 2>/dev/null || skip "python3-yaml is not installed"
mkdir -p "$TMP"
cd "$TOP" || fail "no $TOP"

compose_checks() {
python3 - docker-compose.yml <<'EOF'
import ipaddress, json, os, re, sys, yaml

errors = []
def bad(msg):
    errors.append(msg)
    print("  " + msg, file=sys.stderr)

path = sys.argv[1]
with open(path) as f:
    raw = yaml.safe_load(f)
# Compose's variable substitution, with the caller's environment: ${VAR:-default}, ${VAR}.
def interp(v):
    if isinstance(v, dict):
        return {k: interp(x) for k, x in v.items()}
    if isinstance(v, list):
        return [interp(x) for x in v]
    if isinstance(v, str):
        return re.sub(r"\$\{(\w+)(?::-([^}]*))?\}",
                      lambda m: os.environ.get(m.group(1)) or (m.group(2) or ""), v)
    return v
doc = interp(raw)
if "name" in raw:
    bad("top-level `name:`: Compose v1 (docker-compose 1.29, Debian 12's) rejects the file")
services = doc.get("services") or {}
networks = doc.get("networks") or {}
for want in ("lb", "app", "halog", "verify"):
    if want not in services:
        bad(f"no service '{want}'")

# --- Dockerfile stages, ARG defaults, .dockerignore --------------------------------------------
def stages(dockerfile):
    text = open(dockerfile).read().replace("\\\n", " ")
    names, last, args, final_lines = [], None, {}, []
    for line in text.splitlines():
        line = line.strip()
        m = re.match(r"(?i)^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", line)
        if m:
            last = m.group(2)
            names.append(last)
            final_lines = []
            continue
        m = re.match(r"(?i)^ARG\s+(\w+)=(\S+)", line)
        if m and last is None:
            args[m.group(1)] = m.group(2)
        final_lines.append(line)
    return names, last, args, final_lines

sys.path.insert(0, "tests/e2e/deploy-lib")
import dockerignore
rules = dockerignore.load(".dockerignore")
def ignored(p):
    return dockerignore.ignored(rules, p)

# --- per service ---------------------------------------------------------------------------------
def port_host_ip(p):
    if isinstance(p, dict):
        return p.get("host_ip"), p.get("target")
    s = str(p)
    parts = s.split(":")
    if len(parts) == 3:
        return parts[0], parts[2]
    return None, parts[-1]

compose_args = {}
for name, svc in services.items():
    if svc.get("container_name") and svc.get("deploy", {}).get("replicas", 1) > 1:
        bad(f"{name}: container_name with replicas")
    if "ALL" not in (svc.get("cap_drop") or []) or svc.get("privileged") or svc.get("cap_add"):
        bad(f"{name}: keeps capabilities (want cap_drop: [ALL], no cap_add, not privileged)")
    if "no-new-privileges:true" not in (svc.get("security_opt") or []):
        bad(f"{name}: no security_opt no-new-privileges:true")
    if svc.get("network_mode") == "host" or svc.get("pid") == "host":
        bad(f"{name}: shares the host's network or PID namespace")
    ports = svc.get("ports") or []
    if ports and name != "lb":
        bad(f"{name}: publishes ports {ports}: only lb may")
    for p in ports:
        ip, target = port_host_ip(p)
        if ip != "127.0.0.1":
            bad(f"{name}: port {p!r} is not bound to 127.0.0.1")
        if int(str(target).split("/")[0]) < 1024:
            bad(f"{name}: container port {target} is privileged (the image runs as uid 99)")
    b = raw["services"][name].get("build")   # not substituted: the HAPROXY_VERSION default
    if b:
        if isinstance(b, str):
            b = {"context": b}
        ctx = b.get("context", ".")
        df = os.path.join(ctx, b.get("dockerfile", "Dockerfile"))
        if not os.path.isfile(df):
            bad(f"{name}: dockerfile {df} does not exist")
            continue
        names, last, args, _ = stages(df)
        t = b.get("target")
        if t and t not in names:
            bad(f"{name}: build target '{t}' is not a stage of {df} (stages: {names})")
        for k, v in (b.get("args") or {}).items():
            compose_args.setdefault(k, set()).add(str(v))
            if k not in args and not re.search(rf"(?m)^\s*ARG\s+{k}\b", open(df).read()):
                bad(f"{name}: build arg {k} is not an ARG of {df}")
        inv = (b.get("args") or {}).get("INVENTORY")
        if inv:
            if not os.path.isfile(os.path.join(ctx, inv)):
                bad(f"{name}: INVENTORY {inv} does not exist")
            elif ignored(inv):
                bad(f"{name}: INVENTORY {inv} is excluded by .dockerignore")
        hv = (b.get("args") or {}).get("HAPROXY_VERSION")
        if hv:
            m = re.fullmatch(r"\$\{HAPROXY_VERSION:-([^}]+)\}", str(hv))
            if not m or m.group(1) != args.get("HAPROXY_VERSION"):
                bad(f"{name}: HAPROXY_VERSION default {hv} differs from {df}'s "
                    f"{args.get('HAPROXY_VERSION')}")
    for v in svc.get("volumes") or []:
        src = v.get("source") if isinstance(v, dict) else str(v).split(":")[0]
        vtype = v.get("type") if isinstance(v, dict) else None
        if src and (src.startswith(".") or src.startswith("/") or vtype == "bind"):
            if not os.path.exists(src):
                bad(f"{name}: bind mount source {src} does not exist")
        elif src and src not in (doc.get("volumes") or {}):
            bad(f"{name}: volume {src} is not declared")
    for ef in ([svc["env_file"]] if isinstance(svc.get("env_file"), str) else svc.get("env_file") or []):
        if not os.path.isfile(ef if isinstance(ef, str) else ef.get("path")):
            bad(f"{name}: env_file {ef} does not exist")
    # networks: lb joins edge and backend; everything else only internal networks
    nets = svc.get("networks") or ["default"]
    nets = list(nets) if isinstance(nets, (list, dict)) else []
    for n in nets:
        if n != "default" and n not in networks:
            bad(f"{name}: network {n} is not declared")
    if name != "lb":
        for n in nets:
            if not (networks.get(n) or {}).get("internal"):
                bad(f"{name}: on network '{n}', which is not internal")
for n in ("edge", "backend"):
    if n not in (services.get("lb", {}).get("networks") or []):
        bad(f"lb: not on network {n}")
if "app" in (services.get("lb", {}).get("depends_on") or {}):
    bad("lb depends on app: it must start before the replicas (resolvers + init-addr none)")

# --- halog's fixed address is the inventory's log target -------------------------------------
backend = networks.get("backend") or {}
cfgs = (backend.get("ipam") or {}).get("config") or []
halog_ip = ((services.get("halog", {}).get("networks") or {}).get("backend") or {}).get("ipv4_address")
if not cfgs or not halog_ip:
    bad("backend network has no subnet, or halog no ipv4_address")
else:
    subnet = ipaddress.ip_network(cfgs[0]["subnet"])
    ip = ipaddress.ip_address(halog_ip)
    if ip not in subnet:
        bad(f"halog {ip} is outside {subnet}")
    hcmd = [str(x) for x in services.get("halog", {}).get("command") or []]
    allows = [hcmd[i + 1] for i, x in enumerate(hcmd[:-1]) if x == "--allow"]
    if not allows or any(not ipaddress.ip_network(a).subnet_of(subnet) for a in allows):
        bad(f"halog: --allow {allows} is not the backend subnet {subnet}")
    binds = [hcmd[i + 1] for i, x in enumerate(hcmd[:-1]) if x == "--bind"]
    if "udp://0.0.0.0:5140" not in binds:
        bad(f"halog: does not listen on udp://0.0.0.0:5140 (binds {binds})")
    if cfgs[0].get("ip_range") and ip in ipaddress.ip_network(cfgs[0]["ip_range"]):
        bad(f"halog {ip} is inside the dynamic ip_range: another container may take it")
    lb_env = services.get("lb", {}).get("environment") or {}
    if isinstance(lb_env, list):
        lb_env = dict(str(e).split("=", 1) for e in lb_env if "=" in str(e))
    if str(lb_env.get("HALOG_ADDR")) != halog_ip:
        bad(f"lb: environment HALOG_ADDR {lb_env.get('HALOG_ADDR')!r} is not halog's address {halog_ip}")
    for inv in compose_args.get("INVENTORY", []):
        with open(inv) as f:
            invdoc = yaml.safe_load(f)
        g = invdoc.get("global") or {}
        if not any(re.fullmatch(r'log "\$\{HALOG_ADDR\}:5140"( .*)?', str(l)) for l in g.get("extra") or []):
            bad(f'{inv}: no global line `log "${{HALOG_ADDR}}:5140" …`: lb would not log to halog')
        for t in [l.get("target", "") for l in g.get("log") or []]:
            if t not in ("stdout", "stderr") and not re.fullmatch(r"[0-9.]+:\d+|\[[0-9a-fA-F:]+\]:\d+", t):
                bad(f"{inv}: log target {t} is a name: HAProxy resolves it once at parse time")
        for ul in (invdoc.get("userlists") or {}).values():
            for u in ul.get("users") or []:
                v = u.get("password_env") or u.get("password_hash_env")
                if v and v not in lb_env:
                    bad(f"{inv}: {u.get('name')}'s password variable {v} is not in lb's environment")
        svcs = invdoc.get("services") or {}
        app = svcs.get("app", {}).get("discovery", {}).get("dns", {})
        replicas = services.get("app", {}).get("deploy", {}).get("replicas", 1)
        if app.get("name") != "app":
            bad(f"{inv}: service app is not discovered by the DNS name 'app'")
        if replicas > app.get("slots", 0):
            bad(f"app: {replicas} replicas but {app.get('slots')} slots in {inv}")
        df = open("Dockerfile.haproxy").read()
        if f"--listen 0.0.0.0:{app.get('port')}" not in df:
            bad(f"Dockerfile.haproxy: app stage does not listen on the discovery port {app.get('port')}")
        if "127.0.0.11:53" not in str((invdoc.get("resolvers") or {})):
            bad(f"{inv}: no resolvers section using Docker's DNS 127.0.0.11:53")

# --- verify: one-shot, profile only, its script baked into the image ----------------------------
v = services.get("verify", {})
if v.get("profiles") != ["verify"]:
    bad("verify: not only in profile 'verify' (it would start with `up`)")
if v.get("ports"):
    bad("verify publishes ports")
if "hagen-verify" not in " ".join(map(str, v.get("command") or [])):
    bad("verify: does not run hagen-verify")
if not any(str(x).endswith(":/reports") for x in v.get("volumes") or []):
    bad("verify: no /reports volume for the HTML report")

# --- the load-balancer stage -------------------------------------------------------------------
names, last, args, final = stages("Dockerfile.haproxy")
if last != "lb":
    bad(f"Dockerfile.haproxy: the last (default) stage is {last}, not lb")
text = "\n".join(final)
if not re.search(r"(?m)^FROM\s+haproxy:\$\{HAPROXY_VERSION\}", open("Dockerfile.haproxy").read()):
    bad("Dockerfile.haproxy: lb is not FROM haproxy:${HAPROXY_VERSION}")
if not re.search(r'haproxy", "-c", "-f", "/usr/local/etc/haproxy/haproxy.cfg"', text):
    bad("Dockerfile.haproxy: lb does not run haproxy -c on the baked config")
if not re.search(r"(?m)^ENV\s+HALOG_ADDR=\S+", text):
    bad("Dockerfile.haproxy: lb has no ENV HALOG_ADDR default (the compose config's log target)")
if not re.search(r"(?m)^USER\s+(haproxy|99)\b", text):
    bad("Dockerfile.haproxy: lb does not say USER haproxy")
if not re.search(r"(?m)^HEALTHCHECK\s.*CMD\s+\[", text):
    bad("Dockerfile.haproxy: lb has no exec-form HEALTHCHECK")
if re.search(r"\b(curl|wget)\b", "\n".join(l for l in final if l.startswith(("HEALTHCHECK", "RUN")))):
    bad("Dockerfile.haproxy: lb uses curl or wget, which the official image does not have")
for m in re.finditer(r"(?m)^EXPOSE\s+(.*)$", text):
    for p in m.group(1).split():
        if int(p.split("/")[0]) < 1024:
            bad(f"Dockerfile.haproxy: lb exposes privileged port {p}")
# every HEALTHCHECK gives Docker's timeout more time than the probe's own (3 s, or -t)
for m in re.finditer(r"(?m)^HEALTHCHECK\s+(.*?)\bCMD\s+(\[.*\])",
                     open("Dockerfile.haproxy").read().replace("\\\n", " ")):
    t = re.search(r"--timeout=(\d+)s", m.group(1))
    argv = json.loads(m.group(2))
    probe_t = int(argv[argv.index("-t") + 1]) if "-t" in argv else 3
    if not t or int(t.group(1)) <= probe_t:
        bad(f"HEALTHCHECK {m.group(0)[:60]}…: --timeout must exceed the probe's {probe_t}s")
# COPY sources from the build context exist and are not .dockerignored
for m in re.finditer(r"(?m)^COPY\s+(?!--from)(.*)$", open("Dockerfile.haproxy").read()):
    srcs = [s for s in m.group(1).split() if not s.startswith("--")][:-1]
    for s in srcs:
        if s == ".":
            continue
        if not os.path.exists(s):
            bad(f"Dockerfile.haproxy: COPY source {s} does not exist")
        elif ignored(s):
            bad(f"Dockerfile.haproxy: COPY source {s} is excluded by .dockerignore")
for need in ("Makefile", "mk/deps.sh", "common", "tools", "samples/compose/bake.sh",
             "samples/probe/probe.c", "samples/compose/verify.sh", "samples/app"):
    if ignored(need):
        bad(f".dockerignore excludes {need}, which the build needs")
    if not os.path.exists(need):
        bad(f"{need} does not exist")

sys.exit(1 if errors else 0)
EOF
}
compose_checks || fail "docker-compose.yml / Dockerfile.haproxy checks failed (listed above)"
# the same with another internal network: every address derived from HAGEN_NET moves with it
HAGEN_NET=10.99.7 compose_checks || fail "with HAGEN_NET=10.99.7: checks failed (listed above)"
echo "docker-compose.yml and Dockerfile.haproxy: static checks pass (default network and HAGEN_NET=10.99.7)"

# The Compose implementations parse and validate it offline: v1 (docker-compose, Debian 12's
# docker-compose package) and v2 (the docker compose plugin), where installed.
checked=
if command -v docker-compose >/dev/null 2>&1; then
	docker-compose -f docker-compose.yml config -q >"$TMP/dc.out" 2>&1 ||
		fail "docker-compose (v1) config: $(cat "$TMP/dc.out")"
	docker-compose -f docker-compose.yml --profile verify config --services >"$TMP/dc.svc" 2>&1 ||
		fail "docker-compose config --services: $(cat "$TMP/dc.svc")"
	grep -qx verify "$TMP/dc.svc" || fail "docker-compose: no verify service in profile verify"
	HAGEN_NET=10.99.7 docker-compose -f docker-compose.yml config >"$TMP/dc.net" 2>&1 ||
		fail "docker-compose config with HAGEN_NET: $(cat "$TMP/dc.net")"
	grep -q 'ipv4_address: 10.99.7.10' "$TMP/dc.net" && grep -q 'HALOG_ADDR: 10.99.7.10' "$TMP/dc.net" ||
		fail "docker-compose config: HAGEN_NET=10.99.7 does not move halog and lb's HALOG_ADDR"
	checked="$checked v1 ($(docker-compose version --short))"
fi
if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
	docker compose -f docker-compose.yml config -q >"$TMP/dc.out" 2>&1 ||
		fail "docker compose config: $(cat "$TMP/dc.out")"
	docker compose -f docker-compose.yml --profile verify config --services >"$TMP/dc.svc" 2>&1 ||
		fail "docker compose config --services: $(cat "$TMP/dc.svc")"
	grep -qx verify "$TMP/dc.svc" || fail "docker compose: no verify service in profile verify"
	checked="$checked v2"
fi
echo "compose config:${checked:- not checked (neither docker-compose nor the docker compose plugin is installed)}"
