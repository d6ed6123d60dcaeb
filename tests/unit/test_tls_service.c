/* test_tls_service.c - relay/tls.c: a TLS session that cannot be made says why. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "tls.h"

/* ktls_ssl_attach's reason reaches the caller (it was dropped, and the connection logged "out
 * of memory for a TLS session" whatever happened). Made to fail here by a service whose ktls
 * setting changed after its context was built without the kernel's preparation. */
static void attach_failure_reason_reaches_the_caller(void **state)
{
	struct conf_service svc = {.name = "t", .client = true, .ktls = CONF_KTLS_OFF};
	struct tls_service ts;
	char err[256], why[256] = "";
	int fd[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fd), 0);
	assert_int_equal(tls_service_init(&ts, &svc, -1, err, sizeof(err)), 0);
	svc.ktls = CONF_KTLS_ON;
	assert_null(tls_service_new_ssl(&ts, fd[0], NULL, why, sizeof(why)));
	assert_non_null(strstr(why, "ktls_ssl_ctx_prepare() was not called"));
	tls_service_free(&ts);
	close(fd[0]);
	close(fd[1]);
}

static void session_made_for_a_good_service(void **state)
{
	struct conf_service svc = {.name = "t", .client = true, .ktls = CONF_KTLS_AUTO};
	struct tls_service ts;
	char err[256], why[256] = "";
	SSL *ssl;
	int fd[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fd), 0);
	assert_int_equal(tls_service_init(&ts, &svc, -1, err, sizeof(err)), 0);
	ssl = tls_service_new_ssl(&ts, fd[0], "localhost", why, sizeof(why));
	assert_non_null(ssl);
	SSL_free(ssl);
	tls_service_free(&ts);
	close(fd[0]);
	close(fd[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(attach_failure_reason_reaches_the_caller),
	    cmocka_unit_test(session_made_for_a_good_service),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
