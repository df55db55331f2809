#!/bin/sh
# Prepares the cluster for shenhou (idempotent; run by the temporal-setup service of docker-compose.yml):
# creates the namespace with its retention when missing, then registers shenhou's search attributes
# (existing ones are reported and kept).
#   TEMPORAL_ADDRESS (temporal:7233), TEMPORAL_NAMESPACE (default), NAMESPACE_RETENTION (30d)
#   TLS_CA, TLS_CERT, TLS_KEY, TLS_SERVER_NAME: optional TLS / mTLS to the frontend. Passed as flags,
#   which every temporal CLI release understands (the environment variable names changed in CLI 1.4).
set -u
ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
RETENTION="${NAMESPACE_RETENTION:-30d}"

tls=""
[ -n "${TLS_CA:-}" ] && tls="$tls --tls-ca-path $TLS_CA"
[ -n "${TLS_CERT:-}" ] && tls="$tls --tls-cert-path $TLS_CERT"
[ -n "${TLS_KEY:-}" ] && tls="$tls --tls-key-path $TLS_KEY"
[ -n "${TLS_SERVER_NAME:-}" ] && tls="$tls --tls-server-name $TLS_SERVER_NAME"

t() {
  # $tls is split on purpose: it holds whole flags and paths without spaces.
  # shellcheck disable=SC2086
  temporal "$@" --address "$ADDRESS" $tls
}

until t operator cluster health >/dev/null 2>&1; do sleep 2; done
if ! t operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; then
  t operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION" \
    --description "shenhou: one application for everything after a death" || exit 1
  # The new namespace reaches every frontend's cache within seconds.
  until t operator search-attribute list --namespace "$NAMESPACE" >/dev/null 2>&1; do sleep 2; done
fi
for spec in \
  ShenhouCaseNumber=Keyword ShenhouCaseState=Keyword ShenhouDepartment=Keyword ShenhouMatter=Keyword \
  ShenhouMatterState=Keyword ShenhouOverdue=Bool ShenhouManualHandling=Bool ShenhouDeadline=Datetime \
  ShenhouWarningAt=Datetime ShenhouEscalationLevel=Int ShenhouDaysOverdue=Int ShenhouDeadlineApproximate=Bool
do
  t operator search-attribute create --namespace "$NAMESPACE" \
    --name "${spec%%=*}" --type "${spec#*=}" || true
done
