#!/bin/sh
# The include rule, checked at every build: halog's folders are layers, and a file may include
# headers of its own layer and of the layers below it, never above. common/ is below everything
# and includes nothing else; lib/NAME/ (a library both tools use, e.g. lib/inventory) sits
# between common/ and the tools: it includes common/ and its own headers ("NAME/x.h") only, and
# any tool file may include it; hagen and halog never include each other.
#
#   common/  <-  lib/*/  <-  tools/hagen/, tools/halog/<layers below>
#
#   layer    may include (besides common/ and its own folder)
LAYERS='
parse
query    parse
store    parse query
report   parse query store
alert    parse query store report
listen   parse store alert
drive    parse query store report
serve    parse query store report listen
cli      parse store query report alert listen drive serve
'
# Inside the store layer, its backends are private: store/backend.h, store/sqlite*.h,
# store/chquery.h (a query as ClickHouse SQL) and <sqlite3.h> itself are included only by files
# of tools/halog/store/ (readers use store/read.h, the writer store/store.h), so no SQL or
# table name lives above the store.
PRIVATE='store/backend.h store/sqlite.h store/sqlite_query.h store/chquery.h'
# Usage: sh mk/layers.sh [TOP]; prints each violation as file:line: and exits 1 if any.
set -u
top=${1:-.}
cd "$top" || exit 2
bad=0
allowed() { # $1 layer, $2 included layer
	[ "$1" = "$2" ] && return 0
	printf '%s\n' "$LAYERS" | awk -v l="$1" -v d="$2" \
		'$1 == l { for (i = 2; i <= NF; i++) if ($i == d) ok = 1 } END { exit ok ? 0 : 1 }'
}
known() { printf '%s\n' "$LAYERS" | awk -v l="$1" '$1 == l { f = 1 } END { exit f ? 0 : 1 }'; }

for f in tools/halog/*/*.[ch]; do
	layer=$(basename "$(dirname "$f")")
	if ! known "$layer"; then
		echo "$f: folder '$layer' is not a layer of mk/layers.sh: add it to the table"
		bad=1
		continue
	fi
	if [ "$layer" != store ]; then
		grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*<sqlite3.h>' "$f" | while IFS= read -r hit; do
			echo "$f:${hit%%:*}: includes <sqlite3.h>: only the store layer talks to SQLite (read through store/read.h)"
		done
	fi
	grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | while IFS= read -r hit; do
		line=${hit%%:*}
		inc=$(printf '%s' "$hit" | sed 's/.*include[[:space:]]*"\([^"]*\)".*/\1/')
		for p in $PRIVATE; do
			[ "$inc" = "$p" ] && [ "$layer" != store ] &&
				echo "$f:$line: includes '$inc': private to the store layer (use store/read.h or store/store.h)"
		done
		case $inc in
		*../*) echo "$f:$line: includes '$inc': name a header by its layer, never by a relative path" ;;
		*/*)
			dep=${inc%%/*}
			if [ -d "lib/$dep" ]; then
				[ -f "lib/$inc" ] || echo "$f:$line: includes '$inc': no such header in lib/"
			elif ! known "$dep"; then
				echo "$f:$line: includes '$inc': '$dep' is not a layer"
			elif ! allowed "$layer" "$dep"; then
				echo "$f:$line: includes '$inc': layer '$layer' may not include layer '$dep' (mk/layers.sh)"
			fi ;;
		*)
			[ -f "common/$inc" ] || [ "$(dirname "$f")/$inc" = "$f" ] ||
				echo "$f:$line: includes '$inc': not in common/; name a halog header as \"layer/name.h\""
			;;
		esac
	done
done > "${TMPDIR:-/tmp}/layers.$$"
for f in common/*.[ch]; do
	grep -Hn '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | while IFS= read -r hit; do
		inc=$(printf '%s' "$hit" | sed 's/.*include[[:space:]]*"\([^"]*\)".*/\1/')
		[ -f "common/$inc" ] || echo "${hit%:*}: common/ includes '$inc': common knows neither tool"
	done
done >> "${TMPDIR:-/tmp}/layers.$$"
for f in lib/*/*.[ch]; do
	[ -f "$f" ] || continue
	own=$(basename "$(dirname "$f")")
	grep -Hn '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | while IFS= read -r hit; do
		inc=$(printf '%s' "$hit" | sed 's/.*include[[:space:]]*"\([^"]*\)".*/\1/')
		case $inc in
		"$own"/*) [ -f "lib/$inc" ] || echo "${hit%:*}: includes '$inc': no such header in lib/" ;;
		*/*) echo "${hit%:*}: lib/$own includes '$inc': a library includes common/ and itself only" ;;
		*) [ -f "common/$inc" ] || echo "${hit%:*}: lib/$own includes '$inc': not in common/" ;;
		esac
	done
done >> "${TMPDIR:-/tmp}/layers.$$"
grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*".*\(halog\|hagen\)/' tools/hagen/*.[ch] tools/halog/*/*.[ch] 2>/dev/null |
	sed 's/$/: a tool includes the other tool/' >> "${TMPDIR:-/tmp}/layers.$$"
if [ -s "${TMPDIR:-/tmp}/layers.$$" ]; then
	sed 's/^/layers: /' "${TMPDIR:-/tmp}/layers.$$" >&2
	bad=1
fi
rm -f "${TMPDIR:-/tmp}/layers.$$"
exit $bad
