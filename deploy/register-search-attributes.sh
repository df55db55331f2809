#!/bin/sh
# Registers shenhou's search attributes on the cluster (idempotent: existing ones are reported and kept).
set -u
ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
until temporal operator cluster health --address "$ADDRESS" >/dev/null 2>&1; do sleep 2; done
for spec in \
  ShenhouCaseNumber=Keyword ShenhouCaseState=Keyword ShenhouDepartment=Keyword ShenhouMatter=Keyword \
  ShenhouMatterState=Keyword ShenhouOverdue=Bool ShenhouManualHandling=Bool ShenhouDeadline=Datetime \
  ShenhouWarningAt=Datetime ShenhouEscalationLevel=Int ShenhouDaysOverdue=Int
do
  temporal operator search-attribute create --address "$ADDRESS" --namespace "$NAMESPACE" \
    --name "${spec%%=*}" --type "${spec#*=}" || true
done
