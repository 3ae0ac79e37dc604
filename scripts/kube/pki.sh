#!/usr/bin/env bash
# The test cluster's certificates: a CA, the apiserver's serving cert, an admin (system:masters)
# client, the node's client (system:node:NAME, for the Node authorizer) and the service-account keys.
# Kept across restarts; made once.
set -euo pipefail
dir=$1 ip=$2 node=$3
cd "$dir"
[ -f ca.key ] || openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 \
  -subj /CN=corral-kube-ca 2>/dev/null
issue() { # name subject [extfile]
  [ -f "$1.crt" ] && return 0
  openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" -days 3650 \
    ${3:+-extfile "$3"} 2>/dev/null
  rm -f "$1.csr"
}
printf 'subjectAltName=IP:%s,IP:127.0.0.1,IP:10.96.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:localhost\nextendedKeyUsage=serverAuth\n' "$ip" >apiserver.ext
issue apiserver /CN=kube-apiserver apiserver.ext
printf 'extendedKeyUsage=clientAuth\n' >client.ext
issue admin "/O=system:masters/CN=corral-admin" client.ext
issue node "/O=system:nodes/CN=system:node:$node" client.ext
[ -f sa.key ] || { openssl genrsa -out sa.key 2048 2>/dev/null; openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null; }
