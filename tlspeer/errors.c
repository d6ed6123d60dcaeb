/* errors.c - OpenSSL's per-thread error queue in words. The queue holds a stack of entries (the
 * root cause first, then each caller that passed it on) with data such as the file that would
 * not open or the alert the peer sent; the last entry alone often says only "PEM lib" or
 * "system lib". So the whole queue is drained into one message. */
#include "tlspeer.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

struct queue_text {
	char *buf;
	size_t len, used;
	bool verify_failed; /* SSL_R_CERTIFICATE_VERIFY_FAILED was in the queue */
	bool eof;	    /* SSL_R_UNEXPECTED_EOF_WHILE_READING was */
};

/* Whether entry is already one of the "; "-separated entries of q. */
static bool seen(const struct queue_text *q, const char *entry)
{
	size_t n = strlen(entry);

	for (const char *s = q->buf; (s = strstr(s, entry)) != NULL; s++)
		if ((s == q->buf || (s >= q->buf + 2 && !memcmp(s - 2, "; ", 2))) &&
		    (s[n] == '\0' || s[n] == ';'))
			return true;
	return false;
}

static void append(struct queue_text *q, const char *entry)
{
	int n;

	if (q->used + 1 >= q->len || seen(q, entry))
		return;
	n = snprintf(q->buf + q->used, q->len - q->used, "%s%s", q->used ? "; " : "", entry);
	q->used = n < 0 ? q->used : q->used + n < q->len ? q->used + n : q->len - 1;
}

static void drain(struct queue_text *q)
{
	const char *data, *reason;
	char entry[512], code[64];
	unsigned long e;
	int flags;

	q->buf[0] = '\0';
	q->used = 0;
	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		if (ERR_GET_LIB(e) == ERR_LIB_SSL) {
			q->verify_failed |= ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED;
			q->eof |= ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
		}
		/* A system error carries errno as its reason (OpenSSL 3), with no text of its own.
		 */
		reason =
		    ERR_SYSTEM_ERROR(e) ? strerror(ERR_GET_REASON(e)) : ERR_reason_error_string(e);
		if (!reason) {
			ERR_error_string_n(e, code, sizeof(code));
			reason = code;
		}
		if ((flags & ERR_TXT_STRING) && data && data[0])
			snprintf(entry, sizeof(entry), "%s (%s)", reason, data);
		else
			snprintf(entry, sizeof(entry), "%s", reason);
		append(q, entry);
	}
}

void tlspeer_error_text(const char *what, char *why, size_t whylen)
{
	char text[1024];
	struct queue_text q = {.buf = text, .len = sizeof(text)};

	drain(&q);
	snprintf(why, whylen, "%s: %s", what, text[0] ? text : "no further detail");
}

enum tlspeer_failure tlspeer_ssl_failure(const SSL *ssl, int ret, int *sys, char *why,
					 size_t whylen)
{
	int saved = errno, err = SSL_get_error(ssl, ret); /* before the queue is drained */
	long verify = SSL_get_verify_result(ssl);
	char text[1024];
	struct queue_text q = {.buf = text, .len = sizeof(text)};

	drain(&q);
	if (sys)
		*sys = 0;
	switch (err) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		snprintf(why, whylen, "the TLS call waits for the socket");
		return TLSPEER_WANT;
	case SSL_ERROR_ZERO_RETURN:
		snprintf(why, whylen, "peer sent close_notify");
		return TLSPEER_CLOSE_NOTIFY;
	case SSL_ERROR_SYSCALL:
		if (saved) {
			if (sys)
				*sys = saved;
			snprintf(why, whylen, "%s", strerror(saved));
			return TLSPEER_SYSCALL;
		}
		break;
	}
	/* OpenSSL 3 reports an EOF without close_notify with this reason; the older form,
	 * SSL_ERROR_SYSCALL with an empty queue and errno 0, means the same. */
	if (q.eof || (err == SSL_ERROR_SYSCALL && !text[0])) {
		snprintf(why, whylen, "TLS peer closed without close_notify (truncated)");
		return TLSPEER_TRUNCATED;
	}
	/* The verify result alone is not enough: it stays set when verification errors are
	 * ignored (no verifyChain), and the handshake may then fail for another reason. */
	if (q.verify_failed && verify != X509_V_OK) {
		snprintf(why, whylen, "peer certificate rejected: %s",
			 X509_verify_cert_error_string(verify));
		return TLSPEER_VERIFY;
	}
	snprintf(why, whylen, "%s", text[0] ? text : "unknown TLS error");
	return TLSPEER_TLS;
}
