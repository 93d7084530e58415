#!/bin/bash
# Before a backup: asks the director whether the deployment exists (state/deployment: present | absent, so a delete
# of a cluster whose first deploy failed still goes through) and writes the operator's database CA to tls/ca.pem.
# The bosh CLI reads BOSH_ENVIRONMENT, BOSH_CLIENT, BOSH_CLIENT_SECRET, BOSH_CA_CERT; credhub reads CREDHUB_*.
set -euo pipefail
: "${DEPLOYMENT_NAME:?}"
if bosh deployments --json | jq -e --arg d "${DEPLOYMENT_NAME}" '.Tables[0].Rows | any(.name == $d)' >/dev/null; then
  echo present > state/deployment
else
  echo absent > state/deployment
fi
credhub get --name /ondemand-orleans/database_ca --key certificate > tls/ca.pem
echo "deployment ${DEPLOYMENT_NAME}: $(cat state/deployment)"
