/* tls.c - per-service SSL_CTX, with stunnel's verification semantics. */
#include "tls.h"
#include "log.h"

#include "ktls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void openssl_error_text(const char *what, char *err, size_t errlen)
{
	unsigned long e = ERR_peek_last_error();
	char reason[256] = "no further detail";

	if (e)
		ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	snprintf(err, errlen, "%s: %s", what, reason);
}

static bool cert_is_trusted_locally(X509_STORE_CTX *store, X509 *cert)
{
	STACK_OF(X509) *certs = X509_STORE_CTX_get1_certs(store, X509_get_subject_name(cert));
	bool found = false;

	for (int i = 0; certs && i < sk_X509_num(certs) && !found; i++)
		found = X509_cmp(sk_X509_value(certs, i), cert) == 0;
	sk_X509_pop_free(certs, X509_free);
	return found;
}

static bool cert_matches_checks(const struct conf_service *svc, X509 *cert)
{
	bool any = false;

	for (char **h = svc->check_host; h && *h; h++) {
		any = true;
		if (X509_check_host(cert, *h, 0, 0, NULL) == 1)
			return true;
	}
	for (char **ip = svc->check_ip; ip && *ip; ip++) {
		any = true;
		if (X509_check_ip_asc(cert, *ip, 0) == 1)
			return true;
	}
	return !any;
}

/* stunnel's meaning: verifyChain checks the chain up to a trusted CA; verifyPeer accepts only
 * a peer certificate installed locally (in CAfile/CApath), chain or not; checkHost/checkIP
 * match the peer certificate's names. Without verifyChain, chain errors are ignored. */
static int verify_callback(int ok, X509_STORE_CTX *store)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
	const struct tls_service *ts = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	const struct conf_service *svc = ts->conf;
	int depth = X509_STORE_CTX_get_error_depth(store);
	X509 *cert = X509_STORE_CTX_get_current_cert(store);

	if (!ok && !svc->verify_chain)
		ok = 1;
	if (!ok || depth > 0)
		return ok;
	if (svc->verify_peer && !cert_is_trusted_locally(store, cert)) {
		X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
		return 0;
	}
	if (!cert_matches_checks(svc, cert)) {
		X509_STORE_CTX_set_error(store, X509_V_ERR_HOSTNAME_MISMATCH);
		return 0;
	}
	return 1;
}

static int new_session_callback(SSL *ssl, SSL_SESSION *session)
{
	struct tls_service *ts = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));

	if (!SSL_SESSION_is_resumable(session))
		return 0;
	pthread_mutex_lock(&ts->session_lock);
	if (ts->session)
		SSL_SESSION_free(ts->session);
	ts->session = session;
	pthread_mutex_unlock(&ts->session_lock);
	return 1; /* we keep the reference */
}

/* The NSS key log format, one line per secret, as browsers and curl write for SSLKEYLOGFILE:
 * with it Wireshark can decrypt a capture. One write() per line: lines never interleave. */
static void keylog_callback(const SSL *ssl, const char *line)
{
	const struct tls_service *ts = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	char buf[1024];
	int len = snprintf(buf, sizeof(buf), "%s\n", line);

	if (len > 0 && len < (int)sizeof(buf) && write(ts->keylog_fd, buf, len) < 0) {
		/* a debugging aid: a failed write must not end the connection */
	}
	OPENSSL_cleanse(buf, sizeof(buf));
}

static bool verifies_anything(const struct conf_service *svc)
{
	return svc->verify_chain || svc->verify_peer || (svc->check_host && svc->check_host[0]) ||
	       (svc->check_ip && svc->check_ip[0]);
}

/* OpenSSL would open a FIFO and wait for a writer forever, at start-up or on a reload. */
static int must_be_regular(const char *what, const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	int ret = 0;

	if (fd < 0 || fstat(fd, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot load %s %s: %s", what, path, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		snprintf(err, errlen, "cannot load %s %s: not a regular file", what, path);
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

static int setup_verification(struct tls_service *ts, char *err, size_t errlen)
{
	const struct conf_service *svc = ts->conf;
	SSL_CTX *ctx = ts->ctx;
	int mode = SSL_VERIFY_NONE;

	if (svc->ca_file && must_be_regular("CAfile", svc->ca_file, err, errlen) < 0)
		return -EINVAL;
	if (svc->ca_file || svc->ca_path) {
		if (!SSL_CTX_load_verify_locations(ctx, svc->ca_file, svc->ca_path)) {
			openssl_error_text("cannot load CAfile/CApath", err, errlen);
			return -EINVAL;
		}
	} else if (verifies_anything(svc) && !SSL_CTX_set_default_verify_paths(ctx)) {
		openssl_error_text("cannot load the default CA paths", err, errlen);
		return -EINVAL;
	}
	if (svc->client) {
		if (verifies_anything(svc))
			mode = SSL_VERIFY_PEER;
		else
			relay_log(LOG_WARNING,
				  "[%s] no peer verification configured (verifyChain, verifyPeer or "
				  "checkHost): the server's identity is not checked",
				  svc->name);
	} else {
		if (svc->request_cert || svc->require_cert || verifies_anything(svc))
			mode = SSL_VERIFY_PEER;
		if (svc->require_cert)
			mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
		if (svc->ca_file && mode != SSL_VERIFY_NONE) {
			STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(svc->ca_file);
			if (names)
				SSL_CTX_set_client_CA_list(ctx, names);
			ERR_clear_error();
		}
	}
	SSL_CTX_set_verify(ctx, mode, mode == SSL_VERIFY_NONE ? NULL : verify_callback);
	return 0;
}

static int setup_certificate(struct tls_service *ts, char *err, size_t errlen)
{
	const struct conf_service *svc = ts->conf;
	const char *key = svc->key ? svc->key : svc->cert;
	char what[4200];

	if (!svc->cert)
		return 0;
	if (must_be_regular("certificate", svc->cert, err, errlen) < 0 ||
	    must_be_regular("private key", key, err, errlen) < 0)
		return -EINVAL;
	if (!SSL_CTX_use_certificate_chain_file(ts->ctx, svc->cert)) {
		snprintf(what, sizeof(what), "cannot load certificate %s", svc->cert);
		openssl_error_text(what, err, errlen);
		return -EINVAL;
	}
	if (!SSL_CTX_use_PrivateKey_file(ts->ctx, key, SSL_FILETYPE_PEM)) {
		snprintf(what, sizeof(what), "cannot load private key %s", key);
		openssl_error_text(what, err, errlen);
		return -EINVAL;
	}
	if (!SSL_CTX_check_private_key(ts->ctx)) {
		snprintf(what, sizeof(what), "private key %s does not match certificate %s", key,
			 svc->cert);
		openssl_error_text(what, err, errlen);
		return -EINVAL;
	}
	return 0;
}

static int setup_protocol(struct tls_service *ts, char *err, size_t errlen)
{
	const struct conf_service *svc = ts->conf;
	SSL_CTX *ctx = ts->ctx;

	if (!SSL_CTX_set_min_proto_version(ctx, svc->version_min) ||
	    !SSL_CTX_set_max_proto_version(ctx, svc->version_max)) {
		openssl_error_text("sslVersionMin/sslVersionMax", err, errlen);
		return -EINVAL;
	}
	if (svc->ciphers && !SSL_CTX_set_cipher_list(ctx, svc->ciphers)) {
		openssl_error_text("ciphers", err, errlen);
		return -EINVAL;
	}
	if (svc->ciphersuites && !SSL_CTX_set_ciphersuites(ctx, svc->ciphersuites)) {
		openssl_error_text("ciphersuites", err, errlen);
		return -EINVAL;
	}
	if (svc->curves && !SSL_CTX_set1_groups_list(ctx, svc->curves)) {
		openssl_error_text("curves", err, errlen);
		return -EINVAL;
	}
	SSL_CTX_set_options(ctx, svc->options_set);
	SSL_CTX_clear_options(ctx, svc->options_clear);
	/* Partial writes let the data path account whole records as they leave; released buffers
	 * keep an idle connection small. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				      SSL_MODE_RELEASE_BUFFERS);
	return 0;
}

static void setup_sessions(struct tls_service *ts)
{
	const struct conf_service *svc = ts->conf;
	SSL_CTX *ctx = ts->ctx;

	if (svc->client) {
		SSL_CTX_set_session_cache_mode(ctx, svc->session_resume ? SSL_SESS_CACHE_CLIENT |
									  SSL_SESS_CACHE_NO_INTERNAL_STORE
									: SSL_SESS_CACHE_OFF);
		if (svc->session_resume)
			SSL_CTX_sess_set_new_cb(ctx, new_session_callback);
	} else {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
		SSL_CTX_sess_set_cache_size(ctx, svc->session_cache_size);
		/* Resumption with client certificates needs a context id (OpenSSL refuses it
		 * otherwise): the service name. */
		SSL_CTX_set_session_id_context(ctx, (const unsigned char *)svc->name,
					       strlen(svc->name) < SSL_MAX_SID_CTX_LENGTH
						       ? strlen(svc->name)
						       : SSL_MAX_SID_CTX_LENGTH);
	}
	SSL_CTX_set_timeout(ctx, svc->session_cache_timeout);
}

int tls_service_init(struct tls_service *ts, const struct conf_service *conf, int keylog_fd,
		     char *err, size_t errlen)
{
	int ret;

	memset(ts, 0, sizeof(*ts));
	ts->conf = conf;
	ts->keylog_fd = keylog_fd;
	pthread_mutex_init(&ts->session_lock, NULL);
	ts->ctx = SSL_CTX_new(conf->client ? TLS_client_method() : TLS_server_method());
	if (!ts->ctx) {
		openssl_error_text("SSL_CTX_new", err, errlen);
		return -ENOMEM;
	}
	SSL_CTX_set_app_data(ts->ctx, ts);
	ret = setup_protocol(ts, err, errlen);
	if (ret == 0)
		ret = setup_certificate(ts, err, errlen);
	if (ret == 0)
		ret = setup_verification(ts, err, errlen);
	if (ret == 0)
		setup_sessions(ts);
	/* Before ktls_ssl_ctx_prepare, which chains to a keylog callback already set. */
	if (ret == 0 && keylog_fd >= 0)
		SSL_CTX_set_keylog_callback(ts->ctx, keylog_callback);
	/* The kernel path needs the traffic secrets and record counts from the handshake on. */
	if (ret == 0 && conf->ktls != CONF_KTLS_OFF)
		ret = ktls_ssl_ctx_prepare(ts->ctx, err, errlen);
	if (ret < 0)
		tls_service_free(ts);
	return ret;
}

void tls_service_free(struct tls_service *ts)
{
	if (ts->ctx)
		SSL_CTX_free(ts->ctx);
	ts->ctx = NULL;
	if (ts->session)
		SSL_SESSION_free(ts->session);
	ts->session = NULL;
	pthread_mutex_destroy(&ts->session_lock);
}

static bool is_ip_literal(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

SSL *tls_service_new_ssl(struct tls_service *ts, int fd, const char *host)
{
	const struct conf_service *svc = ts->conf;
	SSL *ssl = SSL_new(ts->ctx);
	const char *sni = svc->sni;
	char why[128];

	if (!ssl)
		return NULL;
	if (!SSL_set_fd(ssl, fd) ||
	    (svc->ktls != CONF_KTLS_OFF && ktls_ssl_attach(ssl, why, sizeof(why)) < 0)) {
		SSL_free(ssl);
		return NULL;
	}
	if (!svc->client) {
		SSL_set_accept_state(ssl);
		return ssl;
	}
	SSL_set_connect_state(ssl);
	if (!sni && host && !is_ip_literal(host))
		sni = host; /* sni = "" (empty) sends none, as in stunnel */
	if (sni && *sni)
		SSL_set_tlsext_host_name(ssl, sni);
	if (svc->session_resume) {
		pthread_mutex_lock(&ts->session_lock);
		if (ts->session)
			SSL_set_session(ssl, ts->session);
		pthread_mutex_unlock(&ts->session_lock);
	}
	return ssl;
}

void tls_failure_text(SSL *ssl, int ret, char *buf, size_t len)
{
	int err = SSL_get_error(ssl, ret);
	unsigned long e = ERR_peek_last_error();
	long verify = SSL_get_verify_result(ssl);
	char reason[256] = "";

	if (e)
		ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	if (verify != X509_V_OK && ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED)
		snprintf(buf, len, "peer certificate rejected: %s",
			 X509_verify_cert_error_string(verify));
	else if (err == SSL_ERROR_SYSCALL && !e)
		snprintf(buf, len, "%s", errno ? strerror(errno) : "peer closed the connection");
	else if (err == SSL_ERROR_ZERO_RETURN)
		snprintf(buf, len, "peer sent close_notify");
	else
		snprintf(buf, len, "%s", reason[0] ? reason : "unknown TLS error");
}
