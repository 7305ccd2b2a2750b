#!/bin/sh
# Every sample inventory renders and passes `haproxy -c -dW` (Debian's haproxy), through
# `hagen check` and by running haproxy directly on `hagen render` output; the TLS sample gets a
# throwaway certificate made here (no private key is committed).
. "$TOP/tests/lib.sh"
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || skip "haproxy not installed"
command -v openssl >/dev/null 2>&1 || skip "openssl not installed"
HAPROXY_BIN=$(command -v haproxy || echo /usr/sbin/haproxy)
unset STATS_PASSWORD
mkdir -p "$TMP/certs"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=example.test \
	-keyout "$TMP/key.pem" -out "$TMP/cert.pem" >/dev/null 2>&1 || fail "openssl could not make a certificate"
cat "$TMP/cert.pem" "$TMP/key.pem" >"$TMP/certs/example.test.pem"
n=0
for f in "$TOP"/samples/*.yaml; do
	name=$(basename "$f")
	sed "s#/etc/haproxy/certs/#$TMP/certs/#" "$f" >"$TMP/$name"
	envs=$(python3 -c "import yaml,sys; print(' '.join((yaml.safe_load(open(sys.argv[1])) or {}).get('environments', {}) or {}))" "$f")
	for e in "" $envs; do
		"$HAGEN" check ${e:+-e "$e"} "$TMP/$name" >"$TMP/out" 2>"$TMP/err" || { cat "$TMP/out" "$TMP/err"; fail "hagen check $name ${e:+-e $e}"; }
		grep -q "zero warnings" "$TMP/out" || fail "hagen check $name: no success line"
		"$HAGEN" render ${e:+-e "$e"} -o "$TMP/haproxy.cfg" "$TMP/$name" || fail "hagen render $name"
		STATS_PASSWORD=x "$HAPROXY_BIN" -c -dW -f "$TMP/haproxy.cfg" >"$TMP/hc" 2>&1 || { cat "$TMP/hc"; fail "haproxy -c -dW rejects $name ${e:+-e $e}"; }
		n=$((n + 1))
	done
done
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
