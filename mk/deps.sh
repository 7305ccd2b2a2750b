#!/bin/sh
# Installs the Debian packages a make goal needs, or says exactly how to.
# usage: mk/deps.sh build|test|demo|bench|fuzz|html
# As root, missing packages are installed with apt-get; otherwise the apt-get line is printed
# and the script exits 1.
set -eu

# libcurl4-openssl-dev and libmicrohttpd-dev pull in libcurl4 and libmicrohttpd12, the libraries
# halog opens at run time (common/lazylib.h; not linked): a machine that only runs halog needs
# those two, and only for the commands that use them (README, Quick start).
build="gcc libc6-dev make pkg-config libyaml-dev libpcre2-dev libsqlite3-dev libcurl4-openssl-dev zlib1g-dev libzstd-dev libmicrohttpd-dev libcmocka-dev"
test="$build haproxy openssl sqlite3 jq curl iproute2 procps python3 python3-yaml"
demo="$build haproxy curl"
bench="$test goaccess hyperfine wrk valgrind time"
fuzz="$build clang libclang-rt-14-dev"
html="chromium chromium-driver"
# tests/e2e/forward_rsyslog.sh: the receivers halog listen --forward tcp:// and tls:// meet
syslog="rsyslog rsyslog-gnutls"
# tests/e2e/clickhouse_*.sh: the servers halog's ClickHouse sink and readers meet. Optional: where
# the package cannot be installed (not every architecture has it), those tests skip, saying so.
clickhouse="clickhouse-server"
# tests/e2e/deploy_engine.sh starts its own Docker engine, which needs root: as another user it
# skips, so these are wanted only from root.
engine="docker.io docker-compose debootstrap git"

goal=${1:-build}
case $goal in
build) want=$build ;;
test)
	want="$test $html $syslog"
	[ "$(id -u)" -eq 0 ] && want="$want $engine"
	;;
demo) want=$demo ;;
bench) want=$bench ;;
fuzz) want=$fuzz ;;
html) want=$html ;;
*) echo "mk/deps.sh: unknown goal '$goal'" >&2; exit 2 ;;
esac

optional=
[ "$goal" = test ] && optional=$clickhouse
missing=
for p in $want; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case $st in *"install ok installed"*) ;; *) missing="$missing $p" ;; esac
done
# node and npm come with the machine image (not Debian's packages, which conflict with it);
# install Debian's only when neither is there.
case " $want " in *" chromium "*)
	command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm" ;;
esac
opt_missing=
for p in $optional; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case $st in *"install ok installed"*) ;; *) opt_missing="$opt_missing $p" ;; esac
done
if [ -n "$opt_missing" ] && [ "$(id -u)" -eq 0 ]; then
	echo "installing Debian packages for 'make $goal' (optional):$opt_missing" >&2
	# shellcheck disable=SC2086
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends $opt_missing; } >&2 ||
		echo "mk/deps.sh:$opt_missing cannot be installed: the tests that need it skip" >&2
elif [ -n "$opt_missing" ]; then
	echo "optional for 'make $goal' (the tests that need them skip):$opt_missing" >&2
fi
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "missing Debian packages for 'make $goal':$missing" >&2
	echo "install them with:" >&2
	echo "  sudo apt-get update && sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "installing Debian packages for 'make $goal':$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >&2
