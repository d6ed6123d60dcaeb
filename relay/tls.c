/* tls.c - per-service SSL_CTX, with stunnel's verification semantics. */
#include "tls.h"
#include "log.h"

#include "ktls.h"
#include "tlspeer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* stunnel's verification semantics live in tlspeer/, shared with ktlscat. */
static int setup_verification(struct tls_service *ts, char *err, size_t errlen)
{
	const struct conf_service *svc = ts->conf;
	const struct tlspeer_policy policy = {
	    .ca_file = svc->ca_file,
	    .ca_path = svc->ca_path,
	    .request = svc->request_cert,
	    .require = svc->require_cert,
	    .chain = svc->verify_chain,
	    .peer = svc->verify_peer,
	    .check_host = svc->check_host,
	    .check_ip = svc->check_ip,
	    .crl_file = svc->crl_file,
	    .crl_path = svc->crl_path,
	};

	if (svc->ca_file && must_be_regular("CAfile", svc->ca_file, err, errlen) < 0)
		return -EINVAL;
	if (svc->crl_file && must_be_regular("CRLfile", svc->crl_file, err, errlen) < 0)
		return -EINVAL;
	if (svc->client && !tlspeer_policy_checks(&policy))
		relay_log(LOG_WARNING,
			  "[%s] no peer verification configured (verifyChain, verifyPeer or "
			  "checkHost): the server's identity is not checked",
			  svc->name);
	return tlspeer_ctx_setup(ts->ctx, !svc->client, &policy, err, errlen);
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
		tlspeer_error_text(what, err, errlen);
		return -EINVAL;
	}
	if (!SSL_CTX_use_PrivateKey_file(ts->ctx, key, SSL_FILETYPE_PEM)) {
		snprintf(what, sizeof(what), "cannot load private key %s", key);
		tlspeer_error_text(what, err, errlen);
		return -EINVAL;
	}
	if (!SSL_CTX_check_private_key(ts->ctx)) {
		snprintf(what, sizeof(what), "private key %s does not match certificate %s", key,
			 svc->cert);
		tlspeer_error_text(what, err, errlen);
		return -EINVAL;
	}
	return 0;
}

static int setup_protocol(struct tls_service *ts, char *err, size_t errlen)
{
	const struct conf_service *svc = ts->conf;
	SSL_CTX *ctx = ts->ctx;

	/* before the certificate is loaded: the level decides which keys are acceptable */
	SSL_CTX_set_security_level(ctx, svc->security_level);
	if (!SSL_CTX_set_min_proto_version(ctx, svc->version_min) ||
	    !SSL_CTX_set_max_proto_version(ctx, svc->version_max)) {
		tlspeer_error_text("sslVersionMin/sslVersionMax", err, errlen);
		return -EINVAL;
	}
	if (svc->ciphers && !SSL_CTX_set_cipher_list(ctx, svc->ciphers)) {
		tlspeer_error_text("ciphers", err, errlen);
		return -EINVAL;
	}
	if (svc->ciphersuites && !SSL_CTX_set_ciphersuites(ctx, svc->ciphersuites)) {
		tlspeer_error_text("ciphersuites", err, errlen);
		return -EINVAL;
	}
	if (svc->curves && !SSL_CTX_set1_groups_list(ctx, svc->curves)) {
		tlspeer_error_text("curves", err, errlen);
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

/* Session tickets sealed with the configured secrets instead of OpenSSL's random per-context
 * key (RFC 5077 section 4's recommended construction: AES-CBC, then HMAC-SHA256 over it), so that
 * every relay given the same ticketKeySecret and ticketMacSecret opens the others' tickets. A
 * 16-byte key means AES-128, a 32-byte one AES-256. Returns 1: sealed or opened; 0: not our
 * ticket (a full handshake follows); -1: error. */
static int ticket_key_callback(SSL *ssl, unsigned char name[16], unsigned char *iv,
			       EVP_CIPHER_CTX *cipher, EVP_MAC_CTX *mac, int enc)
{
	const struct tls_service *ts = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	const struct conf_service *svc = ts->conf;
	const EVP_CIPHER *aes = svc->ticket_key.len == 32 ? EVP_aes_256_cbc() : EVP_aes_128_cbc();
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)svc->ticket_mac.bytes,
					      svc->ticket_mac.len),
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
	    OSSL_PARAM_construct_end(),
	};

	if (enc) {
		memcpy(name, ts->ticket_name, sizeof(ts->ticket_name));
		if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(aes)) != 1 ||
		    EVP_EncryptInit_ex(cipher, aes, NULL, svc->ticket_key.bytes, iv) != 1)
			return -1;
	} else {
		if (memcmp(name, ts->ticket_name, sizeof(ts->ticket_name)))
			return 0;
		if (EVP_DecryptInit_ex(cipher, aes, NULL, svc->ticket_key.bytes, iv) != 1)
			return -1;
	}
	return EVP_MAC_CTX_set_params(mac, params) == 1 ? 1 : -1;
}

/* The tickets' name: the first 16 bytes of SHA-256 over both secrets; it says which secrets
 * sealed a ticket and nothing about them. */
static int setup_ticket_keys(struct tls_service *ts, char *err, size_t errlen)
{
	const struct conf_service *svc = ts->conf;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *h = EVP_MD_CTX_new();
	int ok = h && EVP_DigestInit_ex(h, EVP_sha256(), NULL) == 1 &&
		 EVP_DigestUpdate(h, svc->ticket_key.bytes, svc->ticket_key.len) == 1 &&
		 EVP_DigestUpdate(h, svc->ticket_mac.bytes, svc->ticket_mac.len) == 1 &&
		 EVP_DigestFinal_ex(h, md, &mdlen) == 1;

	EVP_MD_CTX_free(h);
	if (ok) {
		memcpy(ts->ticket_name, md, sizeof(ts->ticket_name));
		ok = SSL_CTX_set_tlsext_ticket_key_evp_cb(ts->ctx, ticket_key_callback) == 1;
	}
	OPENSSL_cleanse(md, sizeof(md));
	if (!ok) {
		tlspeer_error_text("ticketKeySecret", err, errlen);
		return -EINVAL;
	}
	return 0;
}

static void setup_sessions(struct tls_service *ts)
{
	const struct conf_service *svc = ts->conf;
	SSL_CTX *ctx = ts->ctx;

	if (svc->client) {
		SSL_CTX_set_session_cache_mode(ctx, svc->session_resume
							? SSL_SESS_CACHE_CLIENT |
							      SSL_SESS_CACHE_NO_INTERNAL_STORE
							: SSL_SESS_CACHE_OFF);
		if (svc->session_resume)
			SSL_CTX_sess_set_new_cb(ctx, new_session_callback);
	} else if (!svc->session_resume) {
		/* As stunnel: no session is kept and no ticket is issued (TLS 1.2 tickets are
		 * SSL_OP_NO_TICKET; TLS 1.3 would still send stateful tickets without
		 * num_tickets 0), so a client can only ever make a full handshake. */
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
		SSL_CTX_set_num_tickets(ctx, 0);
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
		tlspeer_error_text("SSL_CTX_new", err, errlen);
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
	/* stunnel takes the secrets in client mode too, and ignores them there */
	if (ret == 0 && !conf->client && conf->session_resume && conf->ticket_key.len)
		ret = setup_ticket_keys(ts, err, errlen);
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

SSL *tls_service_new_ssl(struct tls_service *ts, int fd, const char *host, char *why, size_t whylen)
{
	const struct conf_service *svc = ts->conf;
	const char *sni = svc->sni;
	SSL *ssl;

	ERR_clear_error();
	ssl = SSL_new(ts->ctx);
	if (!ssl || !SSL_set_fd(ssl, fd)) {
		tlspeer_error_text(ssl ? "SSL_set_fd" : "SSL_new", why, whylen);
		SSL_free(ssl);
		return NULL;
	}
	if (svc->ktls != CONF_KTLS_OFF && ktls_ssl_attach(ssl, why, whylen) < 0) {
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
