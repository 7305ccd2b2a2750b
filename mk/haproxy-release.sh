#!/bin/sh
# Build one HAProxy release from the haproxy git repository's tags, to validate what hagen renders
# for a version Debian does not package (Debian 12's haproxy 2.6 stays what CI tests against).
#
#   sh mk/haproxy-release.sh X.Y [GITDIR]
#
# GITDIR is a clone (or bare mirror) of https://github.com/haproxy/haproxy (default: $HAPROXY_GIT,
# else a shallow clone of that URL into build/haproxy-src). The newest vX.Y.N tag is exported and
# built with the options hagen's renderings need (OpenSSL, PCRE2, SLZ for compression, Prometheus
# exporter) into build/haproxy-X.Y/haproxy; it prints that path. An existing binary of the same
# tag is reused. HAPROXY_OPT_CFLAGS (default -O2) sets the optimisation: -O0 builds about three
# times faster on a busy machine and validates configurations just as well.
# Needs gcc, make, libssl-dev and libpcre2-dev.
set -eu
ver=${1:?usage: mk/haproxy-release.sh X.Y [GITDIR]}
case $ver in [0-9]*.[0-9]*) ;; *) echo "haproxy-release: '$ver' is not X.Y" >&2; exit 2 ;; esac
top=$(cd "$(dirname "$0")/.." && pwd)
git=${2:-${HAPROXY_GIT:-}}
if [ -z "$git" ]; then
	git=$top/build/haproxy-src
	[ -d "$git" ] || git clone --quiet --bare --filter=blob:none https://github.com/haproxy/haproxy "$git"
fi
tag=$(git -C "$git" tag -l "v$ver.*" | grep -E "^v$ver\.[0-9]+$" | sort -V | tail -1)
[ -n "$tag" ] || { echo "haproxy-release: no release tag v$ver.N in $git" >&2; exit 1; }
dest=$top/build/haproxy-$ver
if [ -x "$dest/haproxy" ] && [ "$(cat "$dest/TAG" 2>/dev/null)" = "$tag" ]; then
	echo "$dest/haproxy"
	exit 0
fi
rm -rf "$dest.tmp"
mkdir -p "$dest.tmp"
git -C "$git" archive --format=tar "$tag" | tar -x -C "$dest.tmp"
# the version string comes from VERSION/VERDATE in a release tarball; an export has neither
printf '%s\n' "${tag#v}" >"$dest.tmp/VERSION"
git -C "$git" log -1 --format=%cd --date=format:%Y/%m/%d "$tag" >"$dest.tmp/VERDATE"
nice make -C "$dest.tmp" -j"${JOBS:-2}" TARGET=linux-glibc USE_OPENSSL=1 USE_PCRE2=1 \
	USE_PCRE2_JIT=1 USE_PROMEX=1 OPT_CFLAGS="${HAPROXY_OPT_CFLAGS:--O2}" >"$dest.tmp/build.log" 2>&1 ||
	{ tail -30 "$dest.tmp/build.log" >&2; echo "haproxy-release: build of $tag failed" >&2; exit 1; }
mkdir -p "$dest"
mv "$dest.tmp/haproxy" "$dest/haproxy"
echo "$tag" >"$dest/TAG"
rm -rf "$dest.tmp"
echo "$dest/haproxy"
