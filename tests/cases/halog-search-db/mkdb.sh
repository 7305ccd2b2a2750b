# Builds the store $1 from sample.log (or $2, relative to this folder) with fixed receive times:
# line N was "received" at 2026-11-24 06:00:00 UTC + N seconds, so outputs are stable.
set -e
cd "$(dirname "$0")"
"$HALOG" ingest --db "$1" --recv-times 1795500001000:1000 "${2:-sample.log}" >/dev/null 2>&1
