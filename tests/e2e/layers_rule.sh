#!/bin/sh
# The include rule of mk/layers.sh holds on the tree, and the script catches each kind of
# violation: a halog layer including one above it, lib/ including a tool, common/ including lib/,
# a tool including the other tool, an unknown halog folder. Run on a copy of the sources.
set -u
. "$TOP/tests/lib.sh"
cd "$TOP" || exit 1
sh mk/layers.sh || fail "the tree breaks the include rule"
w=$TMP/layers
mkdir -p "$w" && cp -r common lib tools mk "$w/" || fail "copy"
add() { # $1 file, $2 include line: inserted after the first line
	sed -i "1a $2" "$w/$1" || fail "edit $1"
}
add tools/halog/parse/syslog.c '#include "store/store.h"'
add lib/inventory/inventory.c '#include "report/report.h"'
add common/strbuf.c '#include "inventory/inventory.h"'
add tools/hagen/render.c '#include "../halog/store/store.h"'
mkdir -p "$w/tools/halog/extra" && echo '/* x */' >"$w/tools/halog/extra/x.c"
out=$(sh mk/layers.sh "$w" 2>&1) && fail "mk/layers.sh accepted the violations"
for want in "tools/halog/parse/syslog.c:2: includes 'store/store.h': layer 'parse' may not include layer 'store'" \
	"lib/inventory includes 'report/report.h': a library includes common/ and itself only" \
	"common/strbuf.c:2: common/ includes 'inventory/inventory.h'" \
	"tools/hagen/render.c:2:" \
	"folder 'extra' is not a layer"; do
	printf '%s\n' "$out" | grep -qF "$want" || { printf '%s\n' "$out"; fail "not reported: $want"; }
done
echo "ok: the tree keeps the include rule; 5 kinds of violation reported"
