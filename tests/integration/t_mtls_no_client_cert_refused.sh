#!/usr/bin/env bash
# Mutual TLS: a client without a certificate is refused and logged; nothing reaches the
# backend; the relay keeps serving.
# vm-newest: no (configuration only: refused in the handshake, no kTLS socket)
. "$(dirname "$0")/lib.sh"

mtls_setup
mtls_refused "no client certificate"
pass
