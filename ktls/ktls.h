/* ktls.h - the kernel's TLS interface: what the kernel supports, keys in, records out.
 * Knows the kernel and OpenSSL; nothing of the relay. Functions return 0 or -errno. */
#ifndef KTLS_H
#define KTLS_H

#include <stdbool.h>
#include <stddef.h>

/* What this kernel's TLS ULP can do, found once at start-up. */
struct ktls_probe {
	bool ulp;     /* setsockopt(TCP_ULP, "tls") works */
	char why[128]; /* when !ulp: why not, for the log ("kernel has no TLS ULP") */
};

int ktls_probe(struct ktls_probe *out);

#endif
