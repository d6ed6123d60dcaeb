/* ktlscat_tls.c - TLS 1.3 contexts with the relay's certificate options and stunnel's meaning:
 * --verify 0 requests a peer certificate, 1 verifies it if present, 2 requires and verifies the
 * chain, 3 the chain and the peer (the certificate itself in --CAfile), 4 only the peer;
 * --check-host accepts only a certificate for that name and needs a verifying level. */
#include "ktlscat.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

static int ex_index = -1;

static int ssl_error(const char *what, char *why, size_t whylen)
{
	unsigned long e = ERR_peek_last_error();
	char reason[200] = "no further detail";

	if (e)
		ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	snprintf(why, whylen, "%s: %s", what, reason);
	return -EINVAL;
}

static bool trusted_locally(X509_STORE_CTX *store, X509 *cert)
{
	STACK_OF(X509) *certs = X509_STORE_CTX_get1_certs(store, X509_get_subject_name(cert));
	bool found = false;

	for (int i = 0; certs && i < sk_X509_num(certs) && !found; i++)
		found = X509_cmp(sk_X509_value(certs, i), cert) == 0;
	sk_X509_pop_free(certs, X509_free);
	return found;
}

static int verify_callback(int ok, X509_STORE_CTX *store)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
	const struct ktlscat_opts *o = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ex_index);
	bool chain = o->verify >= 1 && o->verify <= 3, peer = o->verify >= 3;
	X509 *cert = X509_STORE_CTX_get_current_cert(store);

	if (!ok && !chain)
		ok = 1;
	if (!ok || X509_STORE_CTX_get_error_depth(store) > 0)
		return ok;
	if (peer && !trusted_locally(store, cert)) {
		X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
		return 0;
	}
	if (o->check_host && X509_check_host(cert, o->check_host, 0, 0, NULL) != 1) {
		X509_STORE_CTX_set_error(store, X509_V_ERR_HOSTNAME_MISMATCH);
		return 0;
	}
	return 1;
}

static int setup_cert(const struct ktlscat_opts *o, SSL_CTX *ctx, char *why, size_t whylen)
{
	const char *key = o->key ? o->key : o->cert;
	char what[512];

	if (!o->cert)
		return 0;
	if (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1) {
		snprintf(what, sizeof(what), "cannot load certificate %s", o->cert);
		return ssl_error(what, why, whylen);
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		snprintf(what, sizeof(what), "cannot load private key %s", key);
		return ssl_error(what, why, whylen);
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(what, sizeof(what), "key %s does not match certificate %s", key, o->cert);
		return ssl_error(what, why, whylen);
	}
	return 0;
}

static int setup_verify(const struct ktlscat_opts *o, SSL_CTX *ctx, char *why, size_t whylen)
{
	int mode = SSL_VERIFY_NONE;

	if (o->check_host && (o->verify < 2)) {
		snprintf(why, whylen,
			 "--check-host needs --verify 2, 3 or 4: a name is worth "
			 "checking only on a verified certificate");
		return -EINVAL;
	}
	if (o->ca_file && SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL) != 1)
		return ssl_error("cannot load --CAfile", why, whylen);
	if (!o->ca_file && o->verify >= 1 && SSL_CTX_set_default_verify_paths(ctx) != 1)
		return ssl_error("cannot load the default CA paths", why, whylen);
	if (o->verify >= 0)
		mode = SSL_VERIFY_PEER;
	/* A server asks for a client certificate from level 0; from 2 it must come. */
	if (!o->send && o->verify >= 2)
		mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	if (!o->send && o->ca_file && mode != SSL_VERIFY_NONE) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(o->ca_file);

		if (names)
			SSL_CTX_set_client_CA_list(ctx, names);
		ERR_clear_error();
	}
	if (o->send && o->verify < 1)
		fprintf(stderr, "ktlscat: note: no peer verification (--verify 2 and --CAfile): "
				"the server's identity is not checked\n");
	SSL_CTX_set_verify(ctx, mode, mode == SSL_VERIFY_NONE ? NULL : verify_callback);
	return 0;
}

int ktlscat_ctx_new(const struct ktlscat_opts *o, SSL_CTX **out, char *why, size_t whylen)
{
	SSL_CTX *ctx;
	int ret;

	if (ex_index < 0)
		ex_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	ctx = SSL_CTX_new(o->send ? TLS_client_method() : TLS_server_method());
	if (!ctx)
		return ssl_error("SSL_CTX_new", why, whylen);
	SSL_CTX_set_ex_data(ctx, ex_index, (void *)o);
	/* The kernel takes TLS 1.3 keys both ways; one transfer per process: no tickets. */
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
		ret = ssl_error("TLS 1.3", why, whylen);
		goto out;
	}
	SSL_CTX_set_num_tickets(ctx, 0);
	if (o->ciphersuites && SSL_CTX_set_ciphersuites(ctx, o->ciphersuites) != 1) {
		ret = ssl_error("--ciphersuites", why, whylen);
		goto out;
	}
	ret = setup_cert(o, ctx, why, whylen);
	if (ret < 0)
		goto out;
	ret = setup_verify(o, ctx, why, whylen);
	if (ret < 0)
		goto out;
	if (o->ktls != KTLSCAT_OFF)
		ret = ktls_ssl_ctx_prepare(ctx, why, whylen);
out:
	if (ret < 0) {
		SSL_CTX_free(ctx);
		return ret;
	}
	*out = ctx;
	return 0;
}

int ktlscat_handshake(SSL_CTX *ctx, int fd, bool server, const char *sni, SSL **out, char *why,
		      size_t whylen)
{
	const struct ktlscat_opts *o = SSL_CTX_get_ex_data(ctx, ex_index);
	SSL *ssl = SSL_new(ctx);
	long vr;
	int ret = 0;

	if (!ssl || SSL_set_fd(ssl, fd) != 1) {
		ret = ssl_error("SSL_new", why, whylen);
		goto out;
	}
	if (o->ktls != KTLSCAT_OFF) {
		ret = ktls_ssl_attach(ssl, why, whylen);
		if (ret < 0)
			goto out;
	}
	if (sni && SSL_set_tlsext_host_name(ssl, sni) != 1) {
		ret = ssl_error("server name", why, whylen);
		goto out;
	}
	if (server)
		SSL_set_accept_state(ssl);
	else
		SSL_set_connect_state(ssl);
	if (SSL_do_handshake(ssl) != 1) {
		vr = SSL_get_verify_result(ssl);
		if (vr != X509_V_OK) {
			ERR_clear_error();
			snprintf(why, whylen, "peer certificate rejected: %s",
				 X509_verify_cert_error_string(vr));
			ret = -EPERM;
		} else {
			ret = ssl_error("handshake failed", why, whylen);
			if (!strcmp(why, "handshake failed: no further detail"))
				snprintf(why, whylen, "handshake failed: %s",
					 errno ? strerror(errno)
					       : "the peer closed the connection");
		}
		goto out;
	}
out:
	if (ret < 0) {
		SSL_free(ssl);
		return ret;
	}
	*out = ssl;
	return 0;
}
