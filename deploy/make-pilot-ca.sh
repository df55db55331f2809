#!/usr/bin/env bash
# Makes a local certificate authority and the certificates of a pilot installation (docker-compose.yml):
#
#   ca.pem                    the pilot CA certificate: every service trusts it
#   ca.key                    the CA's private key: move it OFF the server after running this script
#   temporal/server.{pem,key} the Temporal frontend and its internode traffic (names: temporal, localhost)
#   worker/client.{pem,key}   the shenhou worker's client certificate (mTLS)
#   cli/client.{pem,key}      the shenhou CLI's client certificate (docker compose run shenhou ...)
#   ui/client.{pem,key}       the Temporal Web UI's client certificate
#   admin/client.{pem,key}    temporal-setup (namespace, search attributes) and operators' temporal CLI
#   web/server.{pem,key}      the HTTPS certificate of the staff-facing host (reverse proxy), for
#                             PUBLIC_HOST; replace it with the county's own certificate when it has one
#   portal/client.{pem,key}   the families' portal's client certificate (it starts cases)
#   portal-web/server.{pem,key} the HTTPS certificate of the families' portal, for PORTAL_HOST; for a pilot
#                             only: families' phones do not trust this CA, use a publicly trusted one
#
# Usage: sudo deploy/make-pilot-ca.sh [OUT_DIR]        (OUT_DIR defaults to deploy/pki)
#   PUBLIC_HOST=temporal.county.example  the staff-facing host name (default: localhost)
#   PORTAL_HOST=shenhou.county.example   the families' portal's host name (default: portal.localhost)
#   CA_DAYS=1825  LEAF_DAYS=397          validity in days
#
# Existing files are kept: run it again after deleting one service's folder to re-issue that certificate
# (rotation), or after deleting everything to start over. Keys are EC P-256. Run as root so each private
# key is handed to the user its container runs as (mode 0600); otherwise the chown commands are printed.
set -euo pipefail

OUT="${1:-$(dirname "$0")/pki}"
PUBLIC_HOST="${PUBLIC_HOST:-localhost}"
PORTAL_HOST="${PORTAL_HOST:-portal.localhost}"
CA_DAYS="${CA_DAYS:-1825}"
LEAF_DAYS="${LEAF_DAYS:-397}"

# The uid each image runs as: temporalio/auto-setup and admin-tools 1000, temporalio/ui 5000, the shenhou
# image 10001 (Dockerfile), nginx reads its keys as root.
declare -A OWNER=([temporal]=1000 [admin]=1000 [ui]=5000 [worker]=10001 [cli]=10001 [web]=0 [portal]=10001
  [portal-web]=0)

umask 077
mkdir -p "$OUT"
cd "$OUT"

new_key() {
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}

if [ ! -f ca.pem ]; then
  new_key ca.key
  openssl req -x509 -new -key ca.key -sha256 -days "$CA_DAYS" -subj "/O=shenhou pilot/CN=shenhou pilot CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" \
    -out ca.pem
  chmod 0644 ca.pem
  echo "made ca.pem (keep ca.key offline; it is needed only to issue certificates)"
fi

# issue NAME CN EXTENDED_KEY_USAGE SUBJECT_ALT_NAMES(optional)
issue() {
  local name=$1 cn=$2 eku=$3 san=${4:-} kind
  kind=$([ "$eku" = clientAuth ] && echo client || echo server)
  [ -f "$name/$kind.pem" ] && return 0
  [ -f ca.key ] || { echo "ca.key is not here: cannot issue $name/$kind.pem" >&2; exit 1; }
  mkdir -p "$name"
  chmod 0755 "$name"
  new_key "$name/$kind.key"
  local ext
  ext=$(mktemp)
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature"
    echo "extendedKeyUsage=$eku"
    echo "authorityKeyIdentifier=keyid"
    [ -n "$san" ] && echo "subjectAltName=$san"
  } >"$ext"
  openssl req -new -key "$name/$kind.key" -subj "/O=shenhou pilot/CN=$cn" |
    openssl x509 -req -CA ca.pem -CAkey ca.key -sha256 -days "$LEAF_DAYS" \
      -set_serial "0x$(openssl rand -hex 16)" -extfile "$ext" -out "$name/$kind.pem" 2>/dev/null
  rm -f "$ext"
  chmod 0644 "$name/$kind.pem"
  chmod 0600 "$name/$kind.key"
  if [ "$(id -u)" = 0 ]; then
    chown "${OWNER[$name]}" "$name/$kind.key"
  else
    echo "run: sudo chown ${OWNER[$name]} $OUT/$name/$kind.key   (the container's user must read it)" >&2
  fi
  echo "made $name/$kind.pem (CN=$cn)"
}

issue temporal temporal "serverAuth,clientAuth" "DNS:temporal,DNS:localhost,IP:127.0.0.1"
issue worker shenhou-worker clientAuth
issue cli shenhou-cli clientAuth
issue ui temporal-ui clientAuth
issue admin temporal-admin clientAuth
if [[ "$PUBLIC_HOST" =~ ^[0-9.]+$ ]]; then web_san="IP:$PUBLIC_HOST"; else web_san="DNS:$PUBLIC_HOST"; fi
issue web "$PUBLIC_HOST" serverAuth "$web_san"
issue portal shenhou-portal clientAuth
if [[ "$PORTAL_HOST" =~ ^[0-9.]+$ ]]; then portal_san="IP:$PORTAL_HOST"; else portal_san="DNS:$PORTAL_HOST"; fi
issue portal-web "$PORTAL_HOST" serverAuth "$portal_san"
