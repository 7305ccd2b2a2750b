#!/bin/sh
# Every sample inventory renders and passes `haproxy -c -dW` (Debian's haproxy), through
# `hagen check` and by running haproxy directly on `hagen render` output; the TLS sample gets a
# throwaway certificate made here (no private key is committed).
. "$TOP/tests/lib.sh"
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || skip "haproxy not installed"
. "$TOP/tests/e2e/samples-lib"
HAPROXY_BIN=$(command -v haproxy || echo /usr/sbin/haproxy)
unset STATS_PASSWORD
samples_certs
check_sample() { # COPY ENV NAME
	"$HAGEN" check ${2:+-e "$2"} "$1" >"$TMP/out" 2>"$TMP/err" || { cat "$TMP/out" "$TMP/err"; fail "hagen check $3 ${2:+-e $2}"; }
	grep -q "zero warnings" "$TMP/out" || fail "hagen check $3: no success line"
	"$HAGEN" render ${2:+-e "$2"} -o "$TMP/haproxy.cfg" "$1" || fail "hagen render $3"
	STATS_PASSWORD=x "$HAPROXY_BIN" -c -dW -f "$TMP/haproxy.cfg" >"$TMP/hc" 2>&1 || { cat "$TMP/hc"; fail "haproxy -c -dW rejects $3 ${2:+-e $2}"; }
}
samples_each check_sample
n=$SAMPLES_N
# the example of the inventory contract (tests/cases/hagen-render/020-contract-example), with a
# real certificate directory and real cipher lists in place of its "..."
sed -e "s#certs: \[certs/\]#certs: [$TMP/certs/]#" \
	-e 's#ciphers: "...", ciphersuites: "..."#ciphers: "ECDHE-RSA-AES128-GCM-SHA256", ciphersuites: "TLS_AES_128_GCM_SHA256"#' \
	"$TOP/tests/cases/hagen-render/020-contract-example/inventory.yaml" >"$TMP/contract.yaml"
grep -q "$TMP/certs/" "$TMP/contract.yaml" || fail "contract example: certificate path not replaced"
"$HAGEN" check "$TMP/contract.yaml" >"$TMP/out" 2>"$TMP/err" || { cat "$TMP/err"; fail "hagen check on the contract example"; }
grep -q "STATS_PASSWORD is not set; the check uses a dummy value" "$TMP/err" || fail "no note about the dummy secret"
n=$((n + 1))
[ "$n" -ge 6 ] || fail "only $n renders checked"
echo "$n sample renders pass haproxy -c -dW"
