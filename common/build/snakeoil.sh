#!/usr/bin/env bash
# Make the snakeoil certificate pair with Ubuntu's ssl-cert package and stage it in /snakeoil.
# Runs in the SNAKEOIL_IMAGE stage (the only distro-specific stage of the Dockerfile).
set -euo pipefail
# shellcheck source=common/build/lib.sh
. "$(dirname "$0")/lib.sh"

export DEBIAN_FRONTEND=noninteractive
# Plain-http apt needs no CA (the image has no CA store before ca-certificates anyway).
apt-get update
apt-get install -y --no-install-recommends ssl-cert
mkdir -p /snakeoil
cp /etc/ssl/certs/ssl-cert-snakeoil.pem /etc/ssl/private/ssl-cert-snakeoil.key /snakeoil/
openssl x509 -noout -in /snakeoil/ssl-cert-snakeoil.pem || die "ssl-cert made no valid certificate"
