/* test_ktls_handover.c - the keys and record sequence numbers ktls_ssl_export() computes are
 * the ones OpenSSL really used: two SSL objects handshake over a socketpair, then a record
 * each side writes is opened with plain EVP using the exported key and sequence number.
 * No kernel TLS needed; this proves the keys AND the counts (server NewSessionTickets). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "ktls.h"

struct pair {
	SSL_CTX *sctx, *cctx;
	SSL *s, *c;
	int sfd, cfd;
};

static int server_keylog_lines;

static void count_keylog(const SSL *ssl, const char *line)
{
	server_keylog_lines++;
}

/* An ECDSA and an RSA certificate: the TLS 1.2 rows of the cipher table need either. */
static EVP_PKEY *pkey, *rsa_pkey;
static X509 *cert, *rsa_cert;

static X509 *self_signed(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *name;

	if (!key || !x)
		return x;
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"test", -1, -1,
				   0);
	X509_set_issuer_name(x, name);
	X509_sign(x, key, EVP_sha256());
	return x;
}

static int make_cert(void **state)
{
	pkey = EVP_EC_gen("P-256");
	rsa_pkey = EVP_RSA_gen(2048);
	cert = self_signed(pkey);
	rsa_cert = self_signed(rsa_pkey);
	return pkey && rsa_pkey && cert && rsa_cert ? 0 : -1;
}

static int free_cert(void **state)
{
	X509_free(cert);
	X509_free(rsa_cert);
	EVP_PKEY_free(pkey);
	EVP_PKEY_free(rsa_pkey);
	return 0;
}

/* Non-blocking socketpair, both sides stepped in turn until both handshakes are done. */
static void handshake(struct pair *p, int version, const char *suites)
{
	char why[256];
	int fds[2], rs = 0, rc = 0, i;

	memset(p, 0, sizeof(*p));
	p->sctx = SSL_CTX_new(TLS_server_method());
	p->cctx = SSL_CTX_new(TLS_client_method());
	assert_non_null(p->sctx);
	assert_non_null(p->cctx);
	SSL_CTX_set_min_proto_version(p->sctx, version);
	SSL_CTX_set_max_proto_version(p->sctx, version);
	SSL_CTX_set_min_proto_version(p->cctx, version);
	SSL_CTX_set_max_proto_version(p->cctx, version);
	if (version == TLS1_3_VERSION) {
		assert_int_equal(SSL_CTX_set_ciphersuites(p->sctx, suites), 1);
		assert_int_equal(SSL_CTX_set_ciphersuites(p->cctx, suites), 1);
	} else {
		assert_int_equal(SSL_CTX_set_cipher_list(p->sctx, suites), 1);
		assert_int_equal(SSL_CTX_set_cipher_list(p->cctx, suites), 1);
	}
	assert_int_equal(SSL_CTX_use_certificate(p->sctx, cert), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(p->sctx, pkey), 1);
	assert_int_equal(SSL_CTX_use_certificate(p->sctx, rsa_cert), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(p->sctx, rsa_pkey), 1);
	SSL_CTX_set_dh_auto(p->sctx, 1);
	/* An SSLKEYLOGFILE-style callback set before ours must keep being called. */
	SSL_CTX_set_keylog_callback(p->sctx, count_keylog);
	assert_int_equal(ktls_ssl_ctx_prepare(p->sctx, why, sizeof(why)), 0);
	assert_int_equal(ktls_ssl_ctx_prepare(p->cctx, why, sizeof(why)), 0);

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
	p->sfd = fds[0];
	p->cfd = fds[1];
	p->s = SSL_new(p->sctx);
	p->c = SSL_new(p->cctx);
	SSL_set_fd(p->s, p->sfd);
	SSL_set_fd(p->c, p->cfd);
	assert_int_equal(ktls_ssl_attach(p->s, why, sizeof(why)), 0);
	assert_int_equal(ktls_ssl_attach(p->c, why, sizeof(why)), 0);
	SSL_set_accept_state(p->s);
	SSL_set_connect_state(p->c);
	for (i = 0; i < 100 && (rs != 1 || rc != 1); i++) {
		if (rc != 1)
			rc = SSL_do_handshake(p->c);
		if (rs != 1)
			rs = SSL_do_handshake(p->s);
	}
	assert_int_equal(rs, 1);
	assert_int_equal(rc, 1);
}

static void pair_free(struct pair *p)
{
	SSL_free(p->s);
	SSL_free(p->c);
	SSL_CTX_free(p->sctx);
	SSL_CTX_free(p->cctx);
	close(p->sfd);
	close(p->cfd);
}

/* Reads one whole record off the raw socket (the peer wrote it with OpenSSL). */
static size_t read_record(int fd, uint8_t *rec, size_t max)
{
	size_t got = 0, want = 5;
	ssize_t n;

	while (got < want) {
		n = read(fd, rec + got, want - got);
		assert_true(n > 0);
		got += n;
		if (got == 5)
			want = 5 + ((size_t)rec[3] << 8 | rec[4]);
		assert_true(want <= max);
	}
	return got;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = v & 0xff;
}

/* Opens a record with the key and nonce material of a kernel crypto_info and sequence number
 * seq, as the kernel would (RFC 8446 §5.2-5.3; RFC 5288 §3; RFC 7905 §2). Returns the inner
 * content type, or -1 when authentication fails. */
static int open_record(const struct ktls_crypto *kc, uint64_t seq, const uint8_t *rec, size_t len,
		       uint8_t *out, size_t *out_len)
{
	const struct ktls_cipher *c = kc->cipher;
	const uint8_t *iv = kc->u.bytes + 4, *key = iv + c->iv_len, *salt = key + c->key_len;
	const EVP_CIPHER *ev = !strcmp(c->kname, "aes-gcm-128")	  ? EVP_aes_128_gcm()
			       : !strcmp(c->kname, "aes-gcm-256") ? EVP_aes_256_gcm()
								  : EVP_chacha20_poly1305();
	bool tls12 = c->version == TLS_1_2_VERSION, explicit_nonce = tls12 && c->salt_len;
	uint8_t nonce[12], aad[13], seqb[8];
	const uint8_t *ct;
	size_t body = len - 5, aad_len = 5, i;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int outl = 0, fin = 0, type = -1;

	put_be64(seqb, seq);
	if (explicit_nonce) {
		memcpy(nonce, salt, 4);
		memcpy(nonce + 4, rec + 5, 8);
		body -= 8;
	} else {
		memcpy(nonce, salt, c->salt_len);
		memcpy(nonce + c->salt_len, iv, c->iv_len);
		for (i = 0; i < 8; i++)
			nonce[4 + i] ^= seqb[i];
	}
	body -= 16;
	if (tls12) {
		memcpy(aad, seqb, 8);
		memcpy(aad + 8, rec, 3);
		aad[11] = body >> 8;
		aad[12] = body & 0xff;
		aad_len = 13;
	} else {
		memcpy(aad, rec, 5);
	}
	assert_int_equal(EVP_DecryptInit_ex(ctx, ev, NULL, NULL, NULL), 1);
	EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL);
	assert_int_equal(EVP_DecryptInit_ex(ctx, NULL, NULL, key, nonce), 1);
	EVP_DecryptUpdate(ctx, NULL, &outl, aad, aad_len);
	ct = rec + 5 + (explicit_nonce ? 8 : 0);
	EVP_DecryptUpdate(ctx, out, &outl, ct, body);
	EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, (void *)(ct + body));
	if (EVP_DecryptFinal_ex(ctx, out + outl, &fin) == 1) {
		*out_len = body;
		if (tls12) {
			type = rec[0];
		} else {
			/* TLSInnerPlaintext: content, type, zero padding. */
			while (*out_len > 0 && out[*out_len - 1] == 0)
				(*out_len)--;
			type = out[--(*out_len)];
		}
	}
	EVP_CIPHER_CTX_free(ctx);
	return type;
}

/* The record `writer` writes next opens under kc at its sequence number, and not at that number
 * plus one: the check can tell a wrong count. Advances kc->seq as the kernel would. */
static void assert_next_record_opens(SSL *writer, int reader_fd, struct ktls_crypto *kc,
				     const char *msg)
{
	uint8_t rec[512], out[512];
	size_t len, out_len = 0;

	assert_int_equal(SSL_write(writer, msg, strlen(msg)), (int)strlen(msg));
	len = read_record(reader_fd, rec, sizeof(rec));
	assert_int_equal(open_record(kc, kc->seq + 1, rec, len, out, &out_len), -1);
	assert_int_equal(open_record(kc, kc->seq, rec, len, out, &out_len),
			 KTLS_RT_APPLICATION_DATA);
	assert_int_equal(out_len, strlen(msg));
	assert_memory_equal(out, msg, out_len);
	ktls_crypto_set_seq(kc, kc->seq + 1);
}

/* Reads the tickets a TLS 1.3 server sent after its Finished, as the client's kernel would
 * first see them: under the client's RX key from its exported sequence number on. */
static void assert_tickets_open(int fd, struct ktls_crypto *rx, unsigned count)
{
	struct ktls_record_info ri;
	uint8_t rec[4096], out[4096];
	size_t len, out_len;
	unsigned i;

	for (i = 0; i < count; i++) {
		len = read_record(fd, rec, sizeof(rec));
		assert_int_equal(open_record(rx, rx->seq, rec, len, out, &out_len),
				 KTLS_RT_HANDSHAKE);
		ktls_record_classify(KTLS_RT_HANDSHAKE, out, out_len, &ri);
		assert_int_equal(ri.kind, KTLS_REC_NEW_SESSION_TICKET);
		ktls_crypto_set_seq(rx, rx->seq + 1);
	}
}

static void check_suite(int version, const char *suites, uint16_t suite, uint64_t server_tx_seq,
			uint64_t other_seq)
{
	struct ktls_crypto stx, srx, ctx_, crx;
	struct pair p;
	char why[256] = "";

	server_keylog_lines = 0;
	handshake(&p, version, suites);
	assert_true(server_keylog_lines > 0);
	assert_int_equal(ktls_ssl_export(p.s, &stx, &srx, why, sizeof(why)), 0);
	assert_int_equal(ktls_ssl_export(p.c, &ctx_, &crx, why, sizeof(why)), 0);
	assert_int_equal(stx.cipher->suite, suite);
	assert_int_equal(stx.seq, server_tx_seq);
	assert_int_equal(srx.seq, other_seq);
	assert_int_equal(ctx_.seq, other_seq);
	assert_int_equal(crx.seq, other_seq);

	if (version == TLS1_3_VERSION)
		assert_tickets_open(p.cfd, &crx, server_tx_seq);
	/* Each direction is checked with the writer's TX and the reader's RX export. */
	assert_next_record_opens(p.s, p.cfd, &stx, "server to client");
	ktls_crypto_set_seq(&crx, crx.seq + 1);
	assert_next_record_opens(p.s, p.cfd, &crx, "server to client again");
	assert_next_record_opens(p.c, p.sfd, &ctx_, "client to server");
	ktls_crypto_set_seq(&srx, srx.seq + 1);
	assert_next_record_opens(p.c, p.sfd, &srx, "client to server again");
	ktls_crypto_wipe(&stx);
	ktls_crypto_wipe(&srx);
	ktls_crypto_wipe(&ctx_);
	ktls_crypto_wipe(&crx);
	pair_free(&p);
}

/* The names OpenSSL takes for a row: TLS 1.3 suites by their IANA names, TLS 1.2 cipher lists
 * by OpenSSL's own. */
static const char *openssl_suite(const struct ktls_cipher *c)
{
	return c->version == TLS_1_3_VERSION ? c->iana : OPENSSL_cipher_name(c->iana);
}

/* Every row the kernel may take, as the kernel selftest runs every variant. TLS 1.3: OpenSSL 3.0
 * sends two NewSessionTickets after the handshake, so server TX starts at 2. TLS 1.2: Finished
 * is record 0 under the new keys on each side, so both start at 1. */
static void every_offloaded_suite_exports_keys_and_seq(void **state)
{
	const struct ktls_cipher *t;
	size_t i, n, done = 0;

	t = ktls_cipher_table(&n);
	for (i = 0; i < n; i++) {
		if (!t[i].offload)
			continue;
		print_message("%s\n", t[i].iana);
		if (t[i].version == TLS_1_3_VERSION)
			check_suite(TLS1_3_VERSION, openssl_suite(&t[i]), t[i].suite, 2, 0);
		else
			check_suite(TLS1_2_VERSION, openssl_suite(&t[i]), t[i].suite, 1, 1);
		done++;
	}
	assert_true(done >= 6);
}

/* More tickets, more records: the count follows what the server really sent. */
static void tls13_ticket_count_follows_num_tickets(void **state)
{
	struct ktls_crypto tx, rx;
	struct pair p;
	char why[256];

	memset(&p, 0, sizeof(p));
	handshake(&p, TLS1_3_VERSION, "TLS_AES_128_GCM_SHA256");
	/* Tickets on demand after the handshake are records under the same key, too. */
	assert_int_equal(SSL_new_session_ticket(p.s), 1);
	assert_int_equal(SSL_do_handshake(p.s), 1);
	assert_int_equal(ktls_ssl_export(p.s, &tx, &rx, why, sizeof(why)), 0);
	assert_int_equal(tx.seq, 3);
	rx = tx;
	ktls_crypto_set_seq(&rx, 0);
	assert_tickets_open(p.cfd, &rx, 3);
	assert_next_record_opens(p.s, p.cfd, &tx, "after three tickets");
	pair_free(&p);
}

/* Reads the next raw record from fd and opens it under kc at seq: returns its type, its
 * plaintext in out (NUL-terminated). */
static int open_next(int fd, const struct ktls_crypto *kc, uint64_t seq, uint8_t *out,
		     size_t *out_len)
{
	uint8_t rec[512];
	size_t len = read_record(fd, rec, sizeof(rec));
	int type = open_record(kc, seq, rec, len, out, out_len);

	if (type >= 0)
		out[*out_len] = '\0';
	return type;
}

/* One KeyUpdate written by OpenSSL (SSL_key_update, then a record of data): the KeyUpdate comes
 * under the writer's current key and says whether it asks for an update; the record after it
 * opens only under the key ktls_rekey_next() derives for the reader's RX, at record 0 -- and that
 * key is the one ktls_rekey_next() derives for the writer's TX. */
static void openssl_key_update_opens_with_next_key(SSL *writer, int reader_fd, int request,
						   struct ktls_rekey_state *wkeep,
						   struct ktls_rekey_state *rkeep,
						   struct ktls_crypto *rx)
{
	struct ktls_crypto next_rx, next_tx;
	struct ktls_record_info ri;
	uint8_t out[512];
	size_t out_len;

	assert_int_equal(SSL_key_update(writer, request), 1);
	assert_int_equal(SSL_write(writer, "after the update", 16), 16);
	assert_int_equal(open_next(reader_fd, rx, rx->seq, out, &out_len), KTLS_RT_HANDSHAKE);
	ktls_record_classify(KTLS_RT_HANDSHAKE, out, out_len, &ri);
	assert_int_equal(ri.kind, KTLS_REC_KEY_UPDATE);
	assert_int_equal(ri.update_requested, request == SSL_KEY_UPDATE_REQUESTED);

	assert_int_equal(ktls_rekey_next(rkeep, KTLS_DIR_RX, &next_rx), 0);
	assert_int_equal(ktls_rekey_next(wkeep, KTLS_DIR_TX, &next_tx), 0);
	assert_int_equal(next_rx.seq, 0);
	assert_int_equal(next_rx.len, next_tx.len);
	assert_memory_equal(next_rx.u.bytes, next_tx.u.bytes, next_rx.len);
	assert_int_equal(open_next(reader_fd, &next_rx, 0, out, &out_len),
			 KTLS_RT_APPLICATION_DATA);
	assert_string_equal((char *)out, "after the update");
	/* Later records of the same key follow on from 1. */
	*rx = next_rx;
	ktls_crypto_set_seq(rx, 1);
	ktls_crypto_wipe(&next_tx);
}

/* Every TLS 1.3 row: three KeyUpdates each way, asked for and not, each checked against the
 * records OpenSSL really writes after its own key update (RFC 8446 §4.6.3, §7.2). */
static void key_updates_follow_openssl_for_every_suite(void **state)
{
	struct ktls_rekey_state skeep, ckeep;
	struct ktls_crypto stx, srx, ctx_, crx;
	const struct ktls_cipher *t;
	struct pair p;
	char why[256] = "";
	size_t i, n;
	int k;

	t = ktls_cipher_table(&n);
	for (i = 0; i < n; i++) {
		if (!t[i].offload || t[i].version != TLS_1_3_VERSION)
			continue;
		print_message("%s\n", t[i].iana);
		handshake(&p, TLS1_3_VERSION, t[i].iana);
		assert_int_equal(ktls_ssl_export_keep(p.s, &stx, &srx, &skeep, why, sizeof(why)),
				 0);
		assert_int_equal(ktls_ssl_export_keep(p.c, &ctx_, &crx, &ckeep, why, sizeof(why)),
				 0);
		assert_ptr_equal(skeep.cipher, &t[i]);
		assert_int_equal(skeep.secret_len, strcmp(t[i].digest, "SHA384") ? 32 : 48);
		assert_tickets_open(p.cfd, &crx, 2);
		for (k = 0; k < 3; k++) {
			openssl_key_update_opens_with_next_key(
			    p.s, p.cfd, k % 2 ? SSL_KEY_UPDATE_REQUESTED : SSL_KEY_UPDATE_NOT_REQUESTED,
			    &skeep, &ckeep, &crx);
			openssl_key_update_opens_with_next_key(
			    p.c, p.sfd, k % 2 ? SSL_KEY_UPDATE_NOT_REQUESTED : SSL_KEY_UPDATE_REQUESTED,
			    &ckeep, &skeep, &srx);
		}
		assert_int_equal(skeep.updates[KTLS_DIR_TX], 3);
		assert_int_equal(skeep.updates[KTLS_DIR_RX], 3);
		ktls_rekey_wipe(&skeep);
		ktls_rekey_wipe(&ckeep);
		ktls_crypto_wipe(&stx);
		ktls_crypto_wipe(&srx);
		ktls_crypto_wipe(&ctx_);
		ktls_crypto_wipe(&crx);
		pair_free(&p);
	}
}

/* TLS 1.2 has no KeyUpdate: nothing is kept, and a KeyUpdate cannot be derived. */
static void tls12_keeps_no_secret(void **state)
{
	struct ktls_rekey_state keep;
	struct ktls_crypto tx, rx, next;
	struct pair p;
	char why[256] = "";
	size_t i;

	handshake(&p, TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256");
	memset(&keep, 0x5a, sizeof(keep));
	keep.cipher = NULL;
	keep.secret_len = 0;
	assert_int_equal(ktls_ssl_export_keep(p.s, &tx, &rx, &keep, why, sizeof(why)), 0);
	assert_null(keep.cipher);
	assert_int_equal(ktls_rekey_next(&keep, KTLS_DIR_TX, &next), -ENOKEY);
	ktls_rekey_wipe(&keep);
	for (i = 0; i < sizeof(keep); i++)
		assert_int_equal(((uint8_t *)&keep)[i], 0);
	ktls_crypto_wipe(&tx);
	ktls_crypto_wipe(&rx);
	pair_free(&p);
}

static void refuses_when_openssl_buffered_bytes(void **state)
{
	struct ktls_crypto tx, rx;
	struct pair p;
	char why[256] = "", c;

	handshake(&p, TLS1_3_VERSION, "TLS_AES_128_GCM_SHA256");
	assert_int_equal(SSL_write(p.s, "abc", 3), 3);
	assert_int_equal(SSL_read(p.c, &c, 1), 1);
	assert_int_equal(ktls_ssl_export(p.c, &tx, &rx, why, sizeof(why)), -EAGAIN);
	assert_non_null(strstr(why, "buffered 2 bytes"));
	pair_free(&p);
}

/* Rows known to the kernel but not offloaded (AES-CCM) are refused with their name. */
static void refuses_every_suite_not_offloaded(void **state)
{
	struct ktls_crypto tx, rx;
	const struct ktls_cipher *t;
	struct pair p;
	char why[256] = "", want[128];
	size_t i, n;

	t = ktls_cipher_table(&n);
	for (i = 0; i < n; i++) {
		if (t[i].offload || !openssl_suite(&t[i]))
			continue;
		print_message("%s\n", t[i].iana);
		handshake(&p, t[i].version == TLS_1_3_VERSION ? TLS1_3_VERSION : TLS1_2_VERSION,
			  openssl_suite(&t[i]));
		assert_int_equal(ktls_ssl_export(p.s, &tx, &rx, why, sizeof(why)), -EOPNOTSUPP);
		snprintf(want, sizeof(want), "cipher %s not supported by the kernel", t[i].iana);
		assert_string_equal(why, want);
		pair_free(&p);
	}
}

static void refuses_without_attach(void **state)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = SSL_new(ctx);
	struct ktls_crypto tx, rx;
	char why[256] = "";

	assert_int_equal(ktls_ssl_attach(ssl, why, sizeof(why)), -EINVAL);
	assert_int_equal(ktls_ssl_export(ssl, &tx, &rx, why, sizeof(why)), -EINVAL);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
}

/* On this host kernel there is no TLS ULP: offload refuses with nothing installed, so the
 * connection can go on in user space. Skipped where the kernel has kTLS. */
static void offload_refusal_leaves_connection_in_user_space(void **state)
{
	struct ktls_rekey_state keep;
	struct ktls_offload off;
	struct ktls_probe pr;
	struct pair p;
	char why[256] = "", buf[64];
	int ret;

	ktls_probe(&pr);
	if (pr.ulp)
		skip();
	handshake(&p, TLS1_3_VERSION, "TLS_AES_128_GCM_SHA256");
	/* socketpair is not TCP: the ULP is refused either way; state stays user/user, and the
	 * secrets asked to be kept are wiped. */
	memset(&keep, 0x5a, sizeof(keep));
	ret = ktls_ssl_offload_keep(p.c, p.cfd, 0, &keep, &off, why, sizeof(why));
	assert_true(ret < 0);
	for (size_t i = 0; i < sizeof(keep); i++)
		assert_int_equal(((uint8_t *)&keep)[i], 0);
	assert_int_equal(off.tx, KTLS_USER);
	assert_int_equal(off.rx, KTLS_USER);
	assert_int_equal(SSL_write(p.s, "still", 5), 5);
	while ((ret = SSL_read(p.c, buf, sizeof(buf))) <= 0)
		assert_int_equal(SSL_get_error(p.c, ret), SSL_ERROR_WANT_READ);
	assert_int_equal(ret, 5);
	pair_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_offloaded_suite_exports_keys_and_seq),
	    cmocka_unit_test(tls13_ticket_count_follows_num_tickets),
	    cmocka_unit_test(key_updates_follow_openssl_for_every_suite),
	    cmocka_unit_test(tls12_keeps_no_secret),
	    cmocka_unit_test(refuses_when_openssl_buffered_bytes),
	    cmocka_unit_test(refuses_every_suite_not_offloaded),
	    cmocka_unit_test(refuses_without_attach),
	    cmocka_unit_test(offload_refusal_leaves_connection_in_user_space),
	};

	return cmocka_run_group_tests(tests, make_cert, free_cert);
}
