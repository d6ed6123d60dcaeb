/* tls.h - a service's TLS context (certificates, verification, versions, ciphers, sessions), built
 * from its configuration, and what the log says about a connection's TLS. */
#ifndef RELAY_TLS_H
#define RELAY_TLS_H

#include "conf.h"

#include <openssl/ssl.h>
#include <pthread.h>

struct tls_service {
	const struct conf_service *conf;
	SSL_CTX *ctx;
	pthread_mutex_t session_lock;
	SSL_SESSION *session; /* client mode: the newest session, offered for resumption */
	int keylog_fd;	      /* SSLKEYLOGFILE, opened by main; -1: none */
	/* ticketKeySecret/ticketMacSecret: the name our tickets carry, derived from the two
	 * secrets, so a ticket sealed with other secrets is told apart before any decryption */
	unsigned char ticket_name[16];
};

/* Loads certificates and keys, CA locations, and every TLS option of the service. keylog_fd:
 * where to write the NSS key log (SSLKEYLOGFILE), or -1. */
int tls_service_init(struct tls_service *ts, const struct conf_service *conf, int keylog_fd,
		     char *err, size_t errlen);
void tls_service_free(struct tls_service *ts);

/* A new SSL for fd: accept state in server mode; in client mode connect state, SNI and the
 * session to resume. host: the connect host, the default SNI when it is a name. NULL with the
 * reason in why (OpenSSL's, or ktls_ssl_attach's) when it cannot be made. */
SSL *tls_service_new_ssl(struct tls_service *ts, int fd, const char *host, char *why,
			 size_t whylen);

#endif
