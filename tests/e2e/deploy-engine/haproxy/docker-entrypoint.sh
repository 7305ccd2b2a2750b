#!/bin/sh
# The stand-in haproxy image's entrypoint, behaving as the official one does: arguments that
# start with '-' are haproxy's; `haproxy …` runs in master-worker mode (-W: USR2 reloads) in
# the foreground (-db), so the container's main process is HAProxy's master.
set -e
case ${1:-} in -*) set -- haproxy "$@" ;; esac
if [ "${1:-}" = haproxy ]; then
	shift
	set -- haproxy -W -db "$@"
fi
exec "$@"
