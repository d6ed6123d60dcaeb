/* ktls_compat.h - the kernel's TLS socket constants, for C libraries whose headers predate them
 * (Debian 12's glibc has both; older ones and other libcs may not). The values are the kernel's
 * ABI and never change. Included by every file that uses them, instead of a copy in each. */
#ifndef KTLS_COMPAT_H
#define KTLS_COMPAT_H

#include <netinet/tcp.h>
#include <sys/socket.h>

#ifndef TCP_ULP
#define TCP_ULP 31
#endif
#ifndef SOL_TLS
#define SOL_TLS 282
#endif

#endif
