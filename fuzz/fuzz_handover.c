/* fuzz_handover.c - ktls/ssl.c's record counting and ktls_ssl_export() under any peer behaviour.
 *
 * The hand-over is only right if the sequence numbers ktls counted (its msg callback sees every
 * record header and handshake message, the peer's included) are the ones on the wire: one record
 * off and the kernel rejects every record after the switch. What moves the counts is what the
 * peer does and when its bytes arrive: application data, NewSessionTickets, KeyUpdates,
 * renegotiation, TCP cutting records anywhere, OpenSSL holding half a record or unread data.
 * A random byte stream would never get past the handshake's MACs, so this target fuzzes the
 * peer's behaviour instead: two real OpenSSL endpoints (server and client, both prepared with
 * ktls_ssl_ctx_prepare/ktls_ssl_attach) handshake over in-memory wires, then the input is a
 * script of operations on them, then one side hands over with ktls_ssl_export().
 *
 * Input: byte 0 picks the protocol and suite (TLS 1.3 AES-128-GCM, AES-256-GCM, ChaCha20,
 * TLS 1.2 ECDHE-ECDSA with the same three), the server's ticket count, middlebox compatibility
 * and which side hands over; each further byte (up to MAX_OPS) is one operation (low nibble)
 * with a parameter (high nibble): write, NewSessionTicket, KeyUpdate, renegotiate, deliver all
 * or part of the bytes in flight, read all or part, peek.
 *
 * When ktls_ssl_export() says yes, it must be right, checked as the kernel would see it:
 * - RX: every whole record still in flight towards that side (and whatever the peer writes next)
 *   opens with the exported RX key at the exported sequence number and on, up to a KeyUpdate
 *   (where the key changes, which the relay handles by ending the connection);
 * - TX: a record sealed with the exported TX key and sequence number, sent after the bytes that
 *   side already wrote, is read by the peer's OpenSSL as the data it carries.
 * When it says no, it must say why, and only with -EAGAIN, -EPROTO or -EOPNOTSUPP.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "ktls.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REC_MAX (5 + 16384 + 256) /* a TLS 1.2/1.3 ciphertext record at most (RFC 8446 §5.2) */
#define MAX_OPS 128		  /* operations in one input */

static const struct {
	int version;
	const char *suite;
} suites[] = {
    {TLS1_3_VERSION, "TLS_AES_128_GCM_SHA256"},
    {TLS1_3_VERSION, "TLS_AES_256_GCM_SHA384"},
    {TLS1_3_VERSION, "TLS_CHACHA20_POLY1305_SHA256"},
    {TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256"},
    {TLS1_2_VERSION, "ECDHE-ECDSA-AES256-GCM-SHA384"},
    {TLS1_2_VERSION, "ECDHE-ECDSA-CHACHA20-POLY1305"},
};
#define N_SUITES (sizeof(suites) / sizeof(suites[0]))

static SSL_CTX *server_ctx[N_SUITES], *client_ctx[N_SUITES];
static bool verbose; /* FUZZ_VERBOSE=1: print each hand-over's outcome (to check the corpus) */

/* One side: its SSL reads from `in` (bytes delivered to it); what it writes goes to `out`, the
 * bytes in flight, until a deliver operation moves them into the other side's `in`. */
struct side {
	SSL *ssl;
	BIO *in, *out;
	bool dead;			/* a fatal error: no more operations on this connection */
	uint64_t app_written, app_read; /* application bytes through SSL_write and SSL_read */
};

static void fatal(const char *what)
{
	fprintf(stderr, "fuzz_handover: %s\n", what);
	ERR_print_errors_fp(stderr);
	abort();
}

static SSL_CTX *make_ctx(const SSL_METHOD *method, int version, const char *suite, EVP_PKEY *key,
			 X509 *cert)
{
	SSL_CTX *ctx = SSL_CTX_new(method);
	char why[256];

	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, version) ||
	    !SSL_CTX_set_max_proto_version(ctx, version))
		fatal("SSL_CTX_new");
	if (version == TLS1_3_VERSION ? !SSL_CTX_set_ciphersuites(ctx, suite)
				      : !SSL_CTX_set_cipher_list(ctx, suite))
		fatal("cipher");
	if (cert && (!SSL_CTX_use_certificate(ctx, cert) || !SSL_CTX_use_PrivateKey(ctx, key)))
		fatal("certificate");
	/* Client-initiated renegotiation is one more thing a TLS 1.2 peer may do. */
	SSL_CTX_set_options(ctx, SSL_OP_ALLOW_CLIENT_RENEGOTIATION);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (ktls_ssl_ctx_prepare(ctx, why, sizeof(why)) != 0)
		fatal(why);
	return ctx;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = X509_new();
	X509_NAME *name;
	size_t i;

	if (!key || !cert)
		fatal("key");
	ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
	X509_gmtime_adj(X509_getm_notBefore(cert), 0);
	X509_gmtime_adj(X509_getm_notAfter(cert), 86400 * 365);
	X509_set_pubkey(cert, key);
	name = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"fuzz", -1, -1,
				   0);
	X509_set_issuer_name(cert, name);
	if (!X509_sign(cert, key, EVP_sha256()))
		fatal("X509_sign");
	for (i = 0; i < N_SUITES; i++) {
		server_ctx[i] =
		    make_ctx(TLS_server_method(), suites[i].version, suites[i].suite, key, cert);
		client_ctx[i] =
		    make_ctx(TLS_client_method(), suites[i].version, suites[i].suite, NULL, NULL);
	}
	X509_free(cert);
	EVP_PKEY_free(key);
	verbose = getenv("FUZZ_VERBOSE") != NULL;
	return 0;
}

static BIO *mem_bio(void)
{
	BIO *b = BIO_new(BIO_s_mem());

	if (!b)
		fatal("BIO_new");
	BIO_set_mem_eof_return(b, -1); /* empty means "retry", as a non-blocking socket */
	return b;
}

static void side_init(struct side *s, SSL_CTX *ctx)
{
	char why[256];

	memset(s, 0, sizeof(*s));
	s->ssl = SSL_new(ctx);
	s->in = mem_bio();
	s->out = mem_bio();
	if (!s->ssl || ktls_ssl_attach(s->ssl, why, sizeof(why)) != 0)
		fatal("SSL_new");
	BIO_up_ref(s->in);
	BIO_up_ref(s->out);
	SSL_set_bio(s->ssl, s->in, s->out);
}

static void side_free(struct side *s)
{
	SSL_free(s->ssl);
	BIO_free(s->in);
	BIO_free(s->out);
}

/* Moves up to n bytes in flight from `from` to `to` (n == 0: all of them). */
static void deliver(struct side *from, struct side *to, size_t n)
{
	size_t left = n ? n : SIZE_MAX, chunk;
	uint8_t buf[4096];
	int got;

	while (left > 0) {
		chunk = left < sizeof(buf) ? left : sizeof(buf);
		got = BIO_read(from->out, buf, (int)chunk);
		if (got <= 0)
			break;
		if (BIO_write(to->in, buf, got) != got)
			fatal("BIO_write");
		left -= (size_t)got;
	}
}

/* One step of an SSL call's outcome: want read/write is normal here; anything else ends it. */
static void outcome(struct side *s, int ret)
{
	int err = SSL_get_error(s->ssl, ret);

	if (ret <= 0 && err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
		s->dead = true;
	ERR_clear_error();
}

static bool handshake(struct side *srv, struct side *cli)
{
	int i, rs = 0, rc = 0;

	SSL_set_accept_state(srv->ssl);
	SSL_set_connect_state(cli->ssl);
	for (i = 0; i < 20 && (rs != 1 || rc != 1); i++) {
		if (rc != 1)
			rc = SSL_do_handshake(cli->ssl);
		deliver(cli, srv, 0);
		if (rs != 1)
			rs = SSL_do_handshake(srv->ssl);
		deliver(srv, cli, 0);
	}
	ERR_clear_error();
	return rs == 1 && rc == 1;
}

static void op_write(struct side *s, struct side *other, unsigned param)
{
	static uint8_t buf[40000];
	size_t n = param == 15 ? sizeof(buf) : (size_t)param * 1024 + 1;
	size_t written = 0;
	int ret = SSL_write_ex(s->ssl, buf, n, &written);

	outcome(s, ret);
	s->app_written += written;
}

static void op_read(struct side *s, struct side *other, unsigned param)
{
	uint8_t buf[16384];
	size_t n = param >= 14 ? sizeof(buf) : (size_t)1 << param, got;
	int ret;

	/* param 15: read until OpenSSL wants more bytes */
	do {
		got = 0;
		ret = SSL_read_ex(s->ssl, buf, n, &got);
		outcome(s, ret);
		s->app_read += got;
	} while (param == 15 && ret == 1 && !s->dead);
}

static void op_peek(struct side *s, struct side *other, unsigned param)
{
	uint8_t c;
	size_t got;

	outcome(s, SSL_peek_ex(s->ssl, &c, 1, &got));
}

static void op_key_update(struct side *s, struct side *other, unsigned param)
{
	if (SSL_version(s->ssl) != TLS1_3_VERSION)
		return;
	if (SSL_key_update(s->ssl, param & 1 ? SSL_KEY_UPDATE_REQUESTED
					     : SSL_KEY_UPDATE_NOT_REQUESTED) != 1) {
		ERR_clear_error();
		return;
	}
	outcome(s, SSL_do_handshake(s->ssl));
}

static void op_ticket(struct side *s, struct side *other, unsigned param)
{
	if (SSL_version(s->ssl) != TLS1_3_VERSION || !SSL_is_server(s->ssl))
		return;
	if (SSL_new_session_ticket(s->ssl) != 1) {
		ERR_clear_error();
		return;
	}
	outcome(s, SSL_do_handshake(s->ssl));
}

static void op_renegotiate(struct side *s, struct side *other, unsigned param)
{
	if (SSL_version(s->ssl) != TLS1_2_VERSION)
		return;
	if (SSL_renegotiate(s->ssl) != 1) {
		ERR_clear_error();
		return;
	}
	outcome(s, SSL_do_handshake(s->ssl));
}

/* TCP delivers what s wrote: all of it, or param * param + 1 bytes, cutting records anywhere. */
static void op_deliver_all(struct side *s, struct side *other, unsigned param)
{
	deliver(s, other, 0);
}

static void op_deliver_some(struct side *s, struct side *other, unsigned param)
{
	deliver(s, other, (size_t)param * param + 1);
}

enum actor { SERVER, CLIENT };

/* The operations an input byte's low nibble picks; the high nibble is the parameter. */
static const struct {
	void (*run)(struct side *s, struct side *other, unsigned param);
	enum actor who;
} ops[16] = {
    {op_write, SERVER},	      {op_write, CLIENT},	 {op_ticket, SERVER},
    {op_key_update, SERVER},  {op_key_update, CLIENT},	 {op_deliver_all, SERVER},
    {op_deliver_all, CLIENT}, {op_deliver_some, SERVER}, {op_deliver_some, CLIENT},
    {op_read, CLIENT},	      {op_read, SERVER},	 {op_renegotiate, SERVER},
    {op_renegotiate, CLIENT}, {op_peek, CLIENT},	 {op_peek, SERVER},
    {NULL, SERVER},
};

/* ---- records as the kernel sees them ---------------------------------------------------- */

struct keys {
	const struct ktls_cipher *c;
	const uint8_t *iv, *key, *salt; /* inside the kernel struct (linux/tls.h layout) */
	uint64_t seq;
};

static struct keys keys_of(const struct ktls_crypto *kc)
{
	struct keys k = {.c = kc->cipher, .seq = kc->seq};

	k.iv = kc->u.bytes + 4;
	k.key = k.iv + k.c->iv_len;
	k.salt = k.key + k.c->key_len;
	return k;
}

static const EVP_CIPHER *aead(const struct ktls_cipher *c)
{
	if (!strcmp(c->kname, "aes-gcm-128"))
		return EVP_aes_128_gcm();
	if (!strcmp(c->kname, "aes-gcm-256"))
		return EVP_aes_256_gcm();
	return EVP_chacha20_poly1305();
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = v & 0xff;
}

/* The per-record nonce (RFC 8446 §5.3, RFC 7905 §2; TLS 1.2 GCM: salt and the explicit part,
 * RFC 5288 §3) and, for TLS 1.2, the AAD (RFC 5246 §6.2.3.3). */
static bool tls12_explicit(const struct keys *k)
{
	return k->c->version == TLS_1_2_VERSION && k->c->salt_len;
}

static void nonce_of(const struct keys *k, const uint8_t *explicit_part, uint8_t nonce[12])
{
	uint8_t seq[8];

	put_be64(seq, k->seq);
	if (tls12_explicit(k)) {
		memcpy(nonce, k->salt, 4);
		memcpy(nonce + 4, explicit_part, 8);
		return;
	}
	memcpy(nonce, k->salt, k->c->salt_len);
	memcpy(nonce + k->c->salt_len, k->iv, k->c->iv_len);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] ^= seq[i];
}

/* Opens one record (header included) at k->seq: the inner content type (256: a handshake record
 * after which keys change), or -1; *content gets the plaintext length. */
static int open_record(const struct keys *k, const uint8_t *rec, size_t len, size_t *content)
{
	static uint8_t out[REC_MAX];
	bool tls12 = k->c->version == TLS_1_2_VERSION, expl = tls12_explicit(k);
	size_t ct_len, olen;
	uint8_t nonce[12], aad[13];
	const uint8_t *ct = rec + 5 + (expl ? 8 : 0);
	EVP_CIPHER_CTX *ctx;
	int n = 0, fin = 0, type = -1, ok;

	if (len < 5 + (expl ? 8u : 0u) + 16 + (tls12 ? 0 : 1))
		return -1;
	ct_len = len - 5 - (expl ? 8 : 0) - 16;
	nonce_of(k, rec + 5, nonce);
	if (tls12) {
		put_be64(aad, k->seq);
		memcpy(aad + 8, rec, 3);
		aad[11] = (uint8_t)(ct_len >> 8);
		aad[12] = (uint8_t)ct_len;
	} else {
		memcpy(aad, rec, 5);
	}
	ctx = EVP_CIPHER_CTX_new();
	ok = ctx && EVP_DecryptInit_ex(ctx, aead(k->c), NULL, NULL, NULL) &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) &&
	     EVP_DecryptInit_ex(ctx, NULL, NULL, k->key, nonce) &&
	     EVP_DecryptUpdate(ctx, NULL, &n, aad, tls12 ? 13 : 5) &&
	     EVP_DecryptUpdate(ctx, out, &n, ct, (int)ct_len) &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, (void *)(ct + ct_len)) &&
	     EVP_DecryptFinal_ex(ctx, out + n, &fin) == 1;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok)
		return -1;
	olen = ct_len;
	*content = ct_len;
	if (tls12) /* a handshake or ChangeCipherSpec: renegotiation, keys change after it */
		return rec[0] == KTLS_RT_APPLICATION_DATA || rec[0] == KTLS_RT_ALERT ? rec[0] : 256;
	/* TLSInnerPlaintext (RFC 8446 §5.2): content, type, zero padding. */
	while (olen > 0 && out[olen - 1] == 0)
		olen--;
	if (!olen)
		return -1;
	type = out[olen - 1];
	*content = olen - 1;
	if (type == KTLS_RT_HANDSHAKE) {
		struct ktls_record_info ri;

		ktls_record_classify((uint8_t)type, out, olen - 1, &ri);
		if (ri.kind == KTLS_REC_KEY_UPDATE)
			return 256; /* keys change after this record */
	}
	return type;
}

/* Seals application data `msg` at k->seq as one record into rec; returns its length. */
static size_t seal_record(const struct keys *k, const char *msg, uint8_t *rec)
{
	bool tls12 = k->c->version == TLS_1_2_VERSION, expl = tls12_explicit(k);
	size_t mlen = strlen(msg), plen = mlen + (tls12 ? 0 : 1), body;
	uint8_t nonce[12], aad[13], inner[64], *ct;
	EVP_CIPHER_CTX *ctx;
	int n = 0, ok;

	memcpy(inner, msg, mlen);
	if (!tls12)
		inner[mlen] = KTLS_RT_APPLICATION_DATA;
	body = (expl ? 8 : 0) + plen + 16;
	rec[0] = KTLS_RT_APPLICATION_DATA;
	rec[1] = 3;
	rec[2] = 3;
	rec[3] = (uint8_t)(body >> 8);
	rec[4] = (uint8_t)body;
	if (expl)
		put_be64(rec + 5, k->seq);
	ct = rec + 5 + (expl ? 8 : 0);
	nonce_of(k, rec + 5, nonce);
	if (tls12) {
		put_be64(aad, k->seq);
		memcpy(aad + 8, rec, 3);
		aad[11] = (uint8_t)(mlen >> 8);
		aad[12] = (uint8_t)mlen;
	} else {
		memcpy(aad, rec, 5);
	}
	ctx = EVP_CIPHER_CTX_new();
	ok = ctx && EVP_EncryptInit_ex(ctx, aead(k->c), NULL, NULL, NULL) &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) &&
	     EVP_EncryptInit_ex(ctx, NULL, NULL, k->key, nonce) &&
	     EVP_EncryptUpdate(ctx, NULL, &n, aad, tls12 ? 13 : 5) &&
	     EVP_EncryptUpdate(ctx, ct, &n, inner, (int)plen) &&
	     EVP_EncryptFinal_ex(ctx, ct + n, &n) &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, ct + plen);
	EVP_CIPHER_CTX_free(ctx);
	if (!ok)
		fatal("seal");
	return 5 + body;
}

/* Takes everything buffered in b (it stays there). */
static size_t bio_bytes(BIO *b, const uint8_t **p)
{
	char *data = NULL;
	long n = BIO_get_mem_data(b, &data);

	*p = (const uint8_t *)data;
	return n > 0 ? (size_t)n : 0;
}

/* RX: every whole record from *off on opens in order, at rx->seq and on; *off moves past them
 * and *app counts their application bytes. False where keys change (the kernel cannot follow;
 * the relay ends the connection there). */
static bool check_rx_stream(struct keys *rx, const uint8_t *p, size_t len, size_t *off,
			    uint64_t *app)
{
	size_t rlen, content = 0;
	int type;

	while (len - *off >= 5) {
		rlen = 5 + ((size_t)p[*off + 3] << 8 | p[*off + 4]);
		if (rlen > len - *off && rlen <= REC_MAX)
			break;
		type = rlen <= REC_MAX ? open_record(rx, p + *off, rlen, &content) : -1;
		if (type < 0) {
			fprintf(stderr,
				"record at offset %zu does not open with the exported RX key "
				"at sequence number %llu\n",
				*off, (unsigned long long)rx->seq);
			abort();
		}
		rx->seq++;
		*off += rlen;
		if (type == KTLS_RT_APPLICATION_DATA)
			*app += content;
		if (type == 256)
			return false;
	}
	return true;
}

static void check_export(struct side *me, struct side *peer, struct ktls_crypto *tx,
			 struct ktls_crypto *rx)
{
	const char *probe = "after the hand-over";
	struct keys krx = keys_of(rx), ktx = keys_of(tx);
	uint8_t rec[128], buf[16384];
	const uint8_t *p;
	size_t len, got, off = 0;
	uint64_t app = 0;
	int ret, i;

	if (tx->cipher != rx->cipher || tx->len != tx->cipher->info_len ||
	    tx->cipher->suite != SSL_CIPHER_get_protocol_id(SSL_get_current_cipher(me->ssl)))
		fatal("exported cipher");

	/* RX: bytes delivered to me but not read by OpenSSL come first, then those in flight,
	 * then one more record the peer writes now. OpenSSL must not have read any of a record
	 * (export refuses that), so the stream starts at a record boundary. And no byte may be
	 * lost in OpenSSL's buffers: what the peer wrote is what I read plus what is in flight. */
	deliver(peer, me, 0);
	len = bio_bytes(me->in, &p);
	if (check_rx_stream(&krx, p, len, &off, &app)) {
		if (peer->app_written != me->app_read + app) {
			fprintf(stderr,
				"peer wrote %llu application bytes; %llu were read through OpenSSL "
				"and %llu are in flight: %lld lost at the hand-over\n",
				(unsigned long long)peer->app_written,
				(unsigned long long)me->app_read, (unsigned long long)app,
				(long long)(peer->app_written - me->app_read - app));
			abort();
		}
		if (!peer->dead && SSL_write_ex(peer->ssl, probe, strlen(probe), &got) == 1) {
			deliver(peer, me, 0);
			len = bio_bytes(me->in, &p);
			check_rx_stream(&krx, p, len, &off, &app);
		}
	}
	ERR_clear_error();

	/* TX: my record after everything I wrote before; the peer must read it. */
	len = seal_record(&ktx, probe, rec);
	deliver(me, peer, 0);
	if (BIO_write(peer->in, rec, (int)len) != (int)len)
		fatal("BIO_write");
	/* A peer in the middle of a (re)handshake may refuse data for its own reasons. */
	if (peer->dead || !SSL_is_init_finished(peer->ssl))
		return;
	for (i = 0; i < 1000; i++) {
		got = 0;
		ret = SSL_read_ex(peer->ssl, buf, sizeof(buf), &got);
		if (ret == 1 && got == strlen(probe) && !memcmp(buf, probe, got))
			break;
		if (ret == 1)
			continue;
		/* A bad MAC can only be the record sealed here: OpenSSL wrote all the others. */
		if (ERR_GET_REASON(ERR_peek_last_error()) ==
		    SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC) {
			fprintf(stderr,
				"the peer cannot open a record sealed with the exported TX "
				"key at sequence number %llu\n",
				(unsigned long long)tx->seq);
			ERR_print_errors_fp(stderr);
			abort();
		}
		if (SSL_get_error(peer->ssl, ret) != SSL_ERROR_WANT_WRITE)
			break;
	}
	ERR_clear_error();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct side srv, cli, *me, *peer;
	struct ktls_crypto tx, rx;
	unsigned suite, op, param;
	char why[256] = "";
	size_t i;
	int ret;

	if (size < 1)
		return 0;
	if (size > MAX_OPS + 1)
		size = MAX_OPS + 1; /* longer scripts only cost time; the rest is ignored */
	suite = (data[0] & 7) % N_SUITES;
	side_init(&srv, server_ctx[suite]);
	side_init(&cli, client_ctx[suite]);
	SSL_set_num_tickets(srv.ssl, (data[0] >> 3) & 3);
	if (data[0] & 0x20) {
		SSL_clear_options(srv.ssl, SSL_OP_ENABLE_MIDDLEBOX_COMPAT);
		SSL_clear_options(cli.ssl, SSL_OP_ENABLE_MIDDLEBOX_COMPAT);
	}
	me = data[0] & 0x40 ? &srv : &cli;
	peer = me == &srv ? &cli : &srv;
	if (!handshake(&srv, &cli))
		fatal("handshake");

	for (i = 1; i < size && !srv.dead && !cli.dead; i++) {
		op = data[i] & 15;
		param = data[i] >> 4;
		if (ops[op].run)
			ops[op].run(ops[op].who == SERVER ? &srv : &cli,
				    ops[op].who == SERVER ? &cli : &srv, param);
	}
	if (!srv.dead && !cli.dead) {
		ret = ktls_ssl_export(me->ssl, &tx, &rx, why, sizeof(why));
		if (verbose)
			fprintf(stderr, "export %s: %s tx_seq=%llu rx_seq=%llu\n",
				me == &srv ? "server" : "client", ret ? why : "ok",
				ret ? 0ULL : (unsigned long long)tx.seq,
				ret ? 0ULL : (unsigned long long)rx.seq);
		if (ret == 0)
			check_export(me, peer, &tx, &rx);
		else if ((ret != -EAGAIN && ret != -EPROTO && ret != -EOPNOTSUPP) || !why[0])
			fatal("export refused without a reason");
		ktls_crypto_wipe(&tx);
		ktls_crypto_wipe(&rx);
	}
	side_free(&srv);
	side_free(&cli);
	ERR_clear_error();
	return 0;
}
