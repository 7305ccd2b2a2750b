#!/bin/sh
# Makes what the load-balancer image carries. Dockerfile.haproxy runs these exact commands, and
# so do the tests (tests/e2e/deploy_*.sh), so what they check is what the image bakes.
#   bake.sh config HAGEN INVENTORY HAPROXY_VERSION OUTDIR
#       OUTDIR/haproxy.cfg: `HAGEN render --target MAJOR.MINOR -o … INVENTORY`, MAJOR.MINOR taken
#       from HAPROXY_VERSION (the official image's tag: 3.0, 3.0.5, 3.0-alpine …), so the config
#       is rendered for the HAProxy the image runs. HAGEN_TARGET overrides the target;
#       HAGEN_ENV, when set, picks the inventory environment (hagen render -e).
#   bake.sh target HAPROXY_VERSION      prints the hagen target for that image tag
#   bake.sh probe OUTDIR
#       OUTDIR/probe: the static health-check probe (samples/probe/probe.c), built with $CC.
# Exit 0 ok, 1 failure, 2 usage.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)

usage() {
	echo "usage: bake.sh config HAGEN INVENTORY HAPROXY_VERSION OUTDIR" >&2
	echo "       bake.sh target HAPROXY_VERSION" >&2
	echo "       bake.sh probe OUTDIR" >&2
	exit 2
}

# MAJOR.MINOR of an image tag; an error for tags that name no version (latest, lts).
target_of() {
	if [ -n "${HAGEN_TARGET:-}" ]; then
		echo "$HAGEN_TARGET"
		return 0
	fi
	t=$(printf '%s\n' "$1" | sed -n 's/^\([0-9][0-9]*\.[0-9][0-9]*\)\([.-].*\)\{0,1\}$/\1/p')
	if [ -z "$t" ]; then
		echo "bake.sh: HAPROXY_VERSION '$1' does not start with MAJOR.MINOR (e.g. 3.0);" \
			"set HAGEN_TARGET to render for it" >&2
		return 1
	fi
	echo "$t"
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
target)
	[ $# -eq 1 ] || usage
	target_of "$1"
	;;
config)
	[ $# -eq 4 ] || usage
	hagen=$1 inventory=$2 version=$3 out=$4
	target=$(target_of "$version")
	mkdir -p "$out"
	if [ -n "${HAGEN_ENV:-}" ]; then
		"$hagen" render -e "$HAGEN_ENV" --target "$target" -o "$out/haproxy.cfg" "$inventory"
	else
		"$hagen" render --target "$target" -o "$out/haproxy.cfg" "$inventory"
	fi
	;;
probe)
	[ $# -eq 1 ] || usage
	mkdir -p "$1"
	# Static: the probe runs in images whose libc we do not choose (official haproxy, alpine).
	# The Makefile's warnings (tests require a silent build; the image build only shows them).
	${CC:-cc} -std=c11 -O2 -static -D_GNU_SOURCE -I"$top/common" \
		-Wall -Wextra -Wshadow -Wpointer-arith -Wcast-align -Wwrite-strings \
		-Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wundef -Wnull-dereference \
		-Wvla -Wimplicit-fallthrough -Wno-unused-parameter \
		-o "$1/probe" "$top/samples/probe/probe.c" "$top/common/parse.c"
	;;
*)
	usage
	;;
esac
