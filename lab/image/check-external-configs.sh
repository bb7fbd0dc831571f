#!/usr/bin/env bash
# Checks that every complete Squid configuration in policies/external/ (squid-*.conf) parses
# in the lab's Squid image: `squid -k parse` in a throw-away container, with a dummy
# interception CA, upstream CA, htpasswd and categorisation helper in /etc/squid/external/ and
# the placeholders substituted. Any FATAL, ERROR or WARNING line (e.g. a dstdomain entry
# dropped because another covers it) fails the check; only the IPv6-loopback warning of a
# container without IPv6 is ignored.
# Usage: check-external-configs.sh [SQUID_IMAGE]
#   default image: the newest local proxy-conformance/squid (the lab builds it on first use;
#   `cargo test -p conformance-lab --lib -- --ignored builds_every_image` builds it too).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
confdir=$(cd "$here/../../policies/external" && pwd)
image=${1:-$(docker images proxy-conformance/squid --format '{{.Repository}}:{{.Tag}}' | head -n1)}
if [ -z "$image" ]; then
  echo "no proxy-conformance/squid image here: build it first (see the usage above)" >&2
  exit 2
fi

# Runs inside the container; the configuration is on stdin.
check='
set -e
d=/etc/squid/external
mkdir -p $d
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=dummy interception CA" \
  -keyout $d/proxy-ca.key -out $d/proxy-ca.pem 2>/dev/null
cp $d/proxy-ca.pem $d/upstream-ca.pem
echo "user:$(openssl passwd -apr1 secret)" >$d/htpasswd
printf "#!/bin/sh\nwhile read -r line; do echo ERR; done\n" >$d/categorize
chmod 755 $d/categorize
sed -e "s/@ICAP_HOST@/icap.lab.test/g; s/@ICAP_PORT@/1344/g" \
    -e "s/@CATEGORIZER_HOST@/categorizer.lab.test/g; s/@CATEGORIZER_PORT@/8081/g" \
    -e "s/@DNS_ADDR@/127.0.0.11/g" >$d/squid.conf
if grep -n "@[A-Z_]*@" $d/squid.conf; then echo "unsubstituted placeholder" >&2; exit 1; fi
squid -k parse -f $d/squid.conf >/tmp/parse.log 2>&1 || { cat /tmp/parse.log; exit 1; }
# Not about the configuration: the container has no IPv6 loopback.
if grep -v "BCP 177 violation" /tmp/parse.log | grep -E "FATAL|ERROR|WARNING|Bungled|unrecognized|Unknown"; then exit 1; fi
'

failed=0
for conf in "$confdir"/squid-*.conf; do
  name=$(basename "$conf")
  if out=$(docker run --rm -i --label io.proxy-conformance.dev=1 "$image" sh -c "$check" <"$conf" 2>&1); then
    echo "ok      $name ($image)"
  else
    echo "FAILED  $name ($image):"
    printf '%s\n' "$out" | sed 's/^/        /'
    failed=1
  fi
done
exit $failed
