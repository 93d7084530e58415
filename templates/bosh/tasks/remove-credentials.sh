#!/bin/bash
# After a delete: removes every director CredHub variable of the deployment (passwords, certificates, admin_password).
# The operator's CA (/ondemand-orleans/database_ca) lives outside that path and stays.
set -euo pipefail
: "${BOSH_DIRECTOR_NAME:?}" "${DEPLOYMENT_NAME:?}"
if credhub find --path "/${BOSH_DIRECTOR_NAME}/${DEPLOYMENT_NAME}" --output-json | grep -q '"name"'; then
  credhub delete --path "/${BOSH_DIRECTOR_NAME}/${DEPLOYMENT_NAME}"
fi
