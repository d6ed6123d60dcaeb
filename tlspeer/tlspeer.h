/* tlspeer.h - judging a TLS peer with stunnel's meaning, and saying why a TLS call failed.
 * Knows OpenSSL; nothing of the relay, ktlscat or the kernel. Functions taking (why, whylen)
 * return 0 or -errno and put a human reason there on failure, for the caller's log.
 *
 * Use, for one SSL_CTX and its connections:
 *
 *	struct tlspeer_policy p = {.ca_file = "ca.pem", .chain = true, .check_host = hosts};
 *	tlspeer_ctx_setup(ctx, server, &p, why, len);	loads the CAs, sets mode and callback
 *	...
 *	ERR_clear_error();				before every SSL call
 *	ret = SSL_do_handshake(ssl);
 *	if (ret != 1)
 *		kind = tlspeer_ssl_failure(ssl, ret, &sys, why, len);
 */
#ifndef TLSPEER_H
#define TLSPEER_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

/* ---- Peer verification (verify.c) ---- */

/* stunnel's options: verifyChain checks the chain up to a trusted CA; verifyPeer accepts only a
 * peer certificate that is itself in the store (CAfile/CApath), chain or not; checkHost and
 * checkIP accept only a certificate for one of the names. Without verifyChain, chain errors are
 * ignored. A server asks for a client certificate when request (or any check) is set and
 * refuses a client without one when require is set; a client verifies when any check is set. */
struct tlspeer_policy {
	const char *ca_file, *ca_path; /* trusted certificates; neither: the system's */
	bool request;		       /* server: ask for a client certificate */
	bool require;		       /* server: refuse a client that sends none */
	bool chain;		       /* verifyChain */
	bool peer;		       /* verifyPeer */
	char *const *check_host;       /* NULL-terminated; NULL or empty: no name check */
	char *const *check_ip;	       /* likewise, IP addresses in text */
	/* CRLs (stunnel's CRLfile, CRLpath): a file of PEM CRLs, a directory of hashed ones;
	 * either makes every certificate of the peer's chain checked for revocation */
	const char *crl_file, *crl_path;
};

/* stunnel's legacy `verify = LEVEL`: 0 request a certificate and ignore it, 1 verify it if
 * present, 2 require and verify the chain, 3 the chain and the peer, 4 only the peer; another
 * level (-1) asks for nothing. Sets request, require, chain and peer; leaves the rest. */
void tlspeer_policy_level(struct tlspeer_policy *p, int level);
/* Whether p checks anything of the peer's certificate (chain, peer, a name). */
bool tlspeer_policy_checks(const struct tlspeer_policy *p);

/* Loads p's trusted certificates into ctx (the system's when p names none but checks), sets the
 * verify mode and the callback that applies p, and on a server the list of CAs to name to the
 * client. p is copied: the caller may free it afterwards. server: ctx accepts connections. */
int tlspeer_ctx_setup(SSL_CTX *ctx, bool server, const struct tlspeer_policy *p, char *why,
		      size_t whylen);

/* ---- Errors in words (errors.c) ---- */

/* Drains this thread's OpenSSL error queue into why as "what: reason (data); reason ...", every
 * entry in order with its data (a file name, an alert number), repeated entries once; "what: no
 * further detail" when the queue is empty. The queue is empty afterwards. */
void tlspeer_error_text(const char *what, char *why, size_t whylen);

/* What an SSL call's failure means (SSL_get_error, the queue and errno together). */
enum tlspeer_failure {
	TLSPEER_WANT,	      /* not a failure: the call waits for the socket (WANT_READ/WRITE) */
	TLSPEER_CLOSE_NOTIFY, /* the peer ended the TLS stream properly */
	TLSPEER_TRUNCATED,    /* the stream ended without close_notify (RFC 8446 §6.1) */
	TLSPEER_SYSCALL,      /* the socket failed: *sys holds the errno */
	TLSPEER_VERIFY,	      /* the peer's certificate was rejected */
	TLSPEER_TLS,	      /* a TLS protocol error (an alert, a bad record...) */
};

/* Call right after the SSL call that returned ret, before anything can change errno: classifies
 * the failure, puts its reason in why (the queue's text, the verify result, strerror) and
 * drains the queue. sys (may be NULL) gets the saved errno, 0 when the socket did not fail. */
enum tlspeer_failure tlspeer_ssl_failure(const SSL *ssl, int ret, int *sys, char *why,
					 size_t whylen);

#endif
