/* ktls_probe_print - prints ktls_probe_format()'s line: what this kernel's TLS ULP can do. */
#include <stdio.h>

#include "ktls.h"

int main(void)
{
	struct ktls_probe p;
	char line[512];

	if (ktls_probe(&p) < 0)
		return 1;
	ktls_probe_format(&p, line, sizeof(line));
	puts(line);
	return p.ulp ? 0 : 77;
}
