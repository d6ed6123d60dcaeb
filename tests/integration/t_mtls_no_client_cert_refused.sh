#!/usr/bin/env bash
# Mutual TLS: a client without a certificate is refused and logged; nothing reaches the
# backend; the relay keeps serving.
. "$(dirname "$0")/lib.sh"

mtls_setup
mtls_refused "no client certificate"
pass
