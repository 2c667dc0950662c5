#!/bin/sh
# One-shot (docker-compose.yml's temporal-namespace, on the temporalio/admin-tools image):
# waits until the Temporal cluster answers healthy, then registers the namespace famassist
# uses and famassist's search attributes in it. SEARCH_ATTRIBUTES is "Name=Type Name=Type …",
# set in docker-compose.yml and kept equal to famassist/search_attributes.py by
# tests/test_compose.py. Safe to run again: what exists is left as it is.
set -eu
: "${TEMPORAL_ADDRESS:?}" "${NAMESPACE:?}" "${NAMESPACE_RETENTION:?}" "${SEARCH_ATTRIBUTES:?}"
MAX_TRIES=${MAX_TRIES:-90}

retry() {  # retry WHAT COMMAND…: until COMMAND succeeds, every 2 s, MAX_TRIES times at most
  what=$1
  shift
  tries=0
  until "$@"; do
    tries=$((tries + 1))
    if [ "$tries" -ge "$MAX_TRIES" ]; then echo "gave up: ${what}" >&2; exit 1; fi
    echo "waiting: ${what} (${tries})"
    sleep 2
  done
}

cluster_healthy() {
  temporal operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1
}

namespace_registered() {
  temporal operator namespace describe --address "$TEMPORAL_ADDRESS" --namespace "$NAMESPACE" >/dev/null 2>&1 \
    || temporal operator namespace create --address "$TEMPORAL_ADDRESS" --namespace "$NAMESPACE" \
         --retention "$NAMESPACE_RETENTION"
}

attribute_registered() {  # attribute_registered NAME TYPE
  temporal operator search-attribute list --address "$TEMPORAL_ADDRESS" --namespace "$NAMESPACE" \
    | grep -qw "$1" \
    || temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" --namespace "$NAMESPACE" \
         --name "$1" --type "$2"
}

retry "Temporal at ${TEMPORAL_ADDRESS} to answer healthy" cluster_healthy
retry "namespace ${NAMESPACE}" namespace_registered
for attribute in $SEARCH_ATTRIBUTES; do
  retry "search attribute ${attribute}" attribute_registered "${attribute%%=*}" "${attribute##*=}"
done
echo "namespace ${NAMESPACE} and its search attributes are registered"
