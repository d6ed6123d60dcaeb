/* ktls.h - the kernel's TLS interface: what the kernel supports, keys in, records out.
 * Knows the kernel and OpenSSL; nothing of the relay. Functions return 0 or -errno, and those
 * taking (why, whylen) put a human reason there on failure, for the caller's log.
 *
 * How the relay uses it, for one connection:
 *
 *	ktls_ssl_ctx_prepare(ctx, why, len);	once per SSL_CTX, before any SSL_new() from it
 *	ssl = SSL_new(ctx); SSL_set_fd(ssl, fd);
 *	ktls_ssl_attach(ssl, why, len);		before the handshake
 *	... SSL_do_handshake(ssl) until it returns 1 ...
 *	ktls_ssl_offload(ssl, fd, 0, &off, why, len);
 *
 * After a successful offload both directions are in the kernel: plain send()/splice()/sendfile()
 * write application data, recv()/splice() read it. Never call SSL_read/SSL_write/SSL_shutdown on
 * that SSL again (OpenSSL's sequence numbers no longer match the wire); end the connection with
 * ktls_send_close_notify(), and read non-data records with ktls_recv_record() (splice() fails
 * with EINVAL when the next record is not application data). SSL_free() it when convenient:
 * OpenSSL still holds its own copy of the keys until then.
 */
#ifndef KTLS_H
#define KTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/tls.h>
#include <openssl/ssl.h>

#define KTLS_RECORD_MAX 16384 /* largest TLS plaintext record (RFC 8446 §5.1) */

/* Sizes of the fixed buffers that hold key material; cipher.c asserts at compile time that every
 * cipher the kernel headers define fits them. */
#define KTLS_KEY_MAX	 32  /* largest AEAD key (AES-256, ChaCha20) */
#define KTLS_IV_LEN	 12  /* TLS 1.3 per-record nonce material (RFC 8446 §5.3) */
#define KTLS_INFO_MAX	 128 /* largest struct tls12_crypto_info_* */
#define KTLS_SECRET_MAX	 48  /* largest TLS 1.3 traffic secret: SHA-384's length */

#define KTLS_RT_CHANGE_CIPHER_SPEC 20
#define KTLS_RT_ALERT		   21
#define KTLS_RT_HANDSHAKE	   22
#define KTLS_RT_APPLICATION_DATA   23

/* ---- ciphers (cipher.c) ---- */

/* One row per TLS cipher suite the kernel knows; the only place these facts live. The kernel's
 * tls12_crypto_info_* structs are all {version, cipher_type, iv, key, salt, rec_seq} with the
 * sizes below, so info_len == 4 + iv_len + key_len + salt_len + rec_seq_len. */
struct ktls_cipher {
	uint16_t suite;	      /* IANA id, == SSL_CIPHER_get_protocol_id() */
	uint16_t version;     /* TLS_1_2_VERSION or TLS_1_3_VERSION (linux/tls.h) */
	const char *iana;     /* "TLS_AES_128_GCM_SHA256" */
	const char *kname;    /* kernel-style short name: "aes-gcm-128" (as ss(8) prints it) */
	uint16_t kernel_type; /* TLS_CIPHER_AES_GCM_128, ... */
	uint8_t key_len;      /* kernel crypto_info sizes */
	uint8_t iv_len;
	uint8_t salt_len;
	uint8_t rec_seq_len;
	uint8_t tag_len;
	uint8_t fixed_iv_len; /* TLS 1.2 key block IV per side (RFC 5288: 4; RFC 7905: 12) */
	uint16_t info_len;  /* sizeof(struct tls12_crypto_info_...), the exact setsockopt optlen */
	const char *digest; /* hash of the suite: HKDF (1.3) or PRF (1.2) */
	bool offload;	    /* false: known to the kernel but we refuse to install it */
};

/* The cipher table itself, for listing (n rows). */
const struct ktls_cipher *ktls_cipher_table(size_t *n);
/* The row for this IANA suite id, or NULL. */
const struct ktls_cipher *ktls_cipher_by_suite(uint16_t suite);
/* The TLS 1.3 row for this kernel cipher type (each kernel cipher has one), or NULL. */
const struct ktls_cipher *ktls_cipher_by_kernel_type(uint16_t kernel_type);

/* ---- probe (probe.c) ---- */

/* What this kernel's TLS ULP can do, found once at start-up. */
struct ktls_probe {
	bool ulp;	     /* setsockopt(TCP_ULP, "tls") works */
	char why[128];	     /* when !ulp: why not, for the log ("kernel has no TLS ULP") */
	uint32_t ciphers;    /* bit (kernel_type - TLS_CIPHER_AES_GCM_128): TLS_TX accepted */
	bool rx;	     /* TLS_RX accepted (TLS 1.3, aes-gcm-128) */
	bool rx_no_pad;	     /* TLS_RX_EXPECT_NO_PAD accepted */
	bool tx_zerocopy_ro; /* TLS_TX_ZEROCOPY_RO accepted */
	bool rekey_tx;	     /* a second TLS_TX on one socket accepted (KeyUpdate support, 6.14+) */
	bool rekey_rx;	     /* a second TLS_RX on one socket accepted (6.14+) */
	char kernel[64];     /* uname release */
};

int ktls_probe(struct ktls_probe *out);
/* Does the probe say the kernel takes this cipher (TX and RX)? */
bool ktls_probe_has_cipher(const struct ktls_probe *p, const struct ktls_cipher *c);
/* One line for --version and the start-up log, e.g.
 * "kTLS: yes (kernel 6.1.0-56-cloud-amd64) ciphers=aes-gcm-128,aes-gcm-256,chacha20-poly1305
 *  rx=yes rx_no_pad=yes tx_zerocopy_ro=yes rekey_tx=no rekey_rx=no". Returns snprintf's length. */
int ktls_probe_format(const struct ktls_probe *p, char *buf, size_t len);

/* ---- keys (keys.c) ---- */

/* What goes into setsockopt(SOL_TLS, TLS_TX or TLS_RX): the kernel struct, built in place. */
struct ktls_crypto {
	const struct ktls_cipher *cipher;
	uint64_t seq; /* records already protected with this key (read only) */
	size_t len;   /* == cipher->info_len */
	union {
		struct tls_crypto_info info;
		uint8_t bytes[KTLS_INFO_MAX]; /* every struct tls12_crypto_info_* fits */
	} u;
};

/* RFC 8446 §7.3: key and iv (12 bytes) from a TLS 1.3 traffic secret, with the suite's hash. */
int ktls_tls13_key_iv(const struct ktls_cipher *c, const uint8_t *secret, size_t secret_len,
		      uint8_t *key, uint8_t *iv);
/* RFC 8446 §7.1 HKDF-Expand-Label(secret, label, context, out_len), label without "tls13 ". */
int ktls_hkdf_expand_label(const char *digest, const uint8_t *secret, size_t secret_len,
			   const char *label, const uint8_t *context, size_t context_len,
			   uint8_t *out, size_t out_len);
/* RFC 8446 §7.2: the next application traffic secret ("traffic upd") after a KeyUpdate; next
 * gets secret_len bytes (Hash.length of the suite). */
int ktls_tls13_next_secret(const struct ktls_cipher *c, const uint8_t *secret, size_t secret_len,
			   uint8_t *next);
/* RFC 5246 §6.3: the key block ("key expansion", server_random + client_random) for an AEAD
 * suite: client key, server key, client IV, server IV; 2 * (key_len + fixed_iv_len) bytes. */
int ktls_tls12_key_block(const struct ktls_cipher *c, const uint8_t *master, size_t master_len,
			 const uint8_t client_random[32], const uint8_t server_random[32],
			 uint8_t *out, size_t out_len);
/* Builds the kernel struct from key, 12-byte nonce material and sequence number. For TLS 1.2
 * GCM nonce is the 4-byte salt; the explicit nonce starts at seq (unique per record). */
int ktls_crypto_build(struct ktls_crypto *kc, const struct ktls_cipher *c, const uint8_t *key,
		      const uint8_t *nonce, uint64_t seq);
/* Sets the record number (rec_seq, and the TLS 1.2 GCM explicit nonce): never assign kc->seq. */
void ktls_crypto_set_seq(struct ktls_crypto *kc, uint64_t seq);
/* OPENSSL_cleanse() the whole struct. */
void ktls_crypto_wipe(struct ktls_crypto *kc);

/* ---- OpenSSL hand-over (ssl.c) ---- */

/* Hooks ctx's keylog callback to capture TLS 1.3 traffic secrets; a keylog callback already set
 * on ctx (SSLKEYLOGFILE) keeps being called, so set yours before this one, never after. */
int ktls_ssl_ctx_prepare(SSL_CTX *ctx, char *why, size_t whylen);
/* Per SSL, before the handshake: takes the SSL's msg callback (record counting) and attaches
 * the state that holds secrets and counts (freed, wiped, with the SSL). */
int ktls_ssl_attach(SSL *ssl, char *why, size_t whylen);

/* Keys and sequence numbers for both directions, computed from a finished handshake. Refuses
 * (-EOPNOTSUPP, -EAGAIN, -EPROTO) when the SSL cannot be handed over: not TLS 1.2/1.3, cipher
 * without a kernel row, bytes read or buffered by OpenSSL, secrets not captured, a KeyUpdate
 * already done. Wipes the captured secrets on success. Exposed for tests; offload uses it. */
int ktls_ssl_export(SSL *ssl, struct ktls_crypto *tx, struct ktls_crypto *rx, char *why,
		    size_t whylen);
struct ktls_rekey_state;
/* The same, and for TLS 1.3 keeps both traffic secrets in *keep for ktls_rekey() (TLS 1.2 has
 * no KeyUpdate: keep->cipher stays NULL). keep may be NULL; on failure it is wiped. */
int ktls_ssl_export_keep(SSL *ssl, struct ktls_crypto *tx, struct ktls_crypto *rx,
			 struct ktls_rekey_state *keep, char *why, size_t whylen);

enum ktls_mode { KTLS_USER = 0, KTLS_KERNEL = 1 };

struct ktls_offload {
	enum ktls_mode tx, rx;
	const struct ktls_cipher *cipher;
	uint64_t tx_seq, rx_seq; /* the record numbers installed, for the debug log */
};

#define KTLS_OFFLOAD_RX_NO_PAD 0x1 /* TLS_RX_EXPECT_NO_PAD (TLS 1.3): peer never pads records */

/* Installs TX and RX into the kernel for the established TCP socket fd after SSL_do_handshake()
 * returned 1. Every key and secret is wiped before it returns. On failure result says what was
 * installed: tx == rx == KTLS_USER means nothing changed and the connection may go on in user
 * space through OpenSSL; otherwise the socket is half-offloaded and must be closed. */
int ktls_ssl_offload(SSL *ssl, int fd, unsigned flags, struct ktls_offload *result, char *why,
		     size_t whylen);
/* The same, but on a kernel that can rekey (ktls_probe: rekey_tx and rekey_rx) pass keep, and the
 * TLS 1.3 traffic secrets stay in it for the connection's life, to follow KeyUpdates; wipe it with
 * ktls_rekey_wipe() when the connection ends. keep NULL: exactly ktls_ssl_offload(). */
int ktls_ssl_offload_keep(SSL *ssl, int fd, unsigned flags, struct ktls_rekey_state *keep,
			  struct ktls_offload *result, char *why, size_t whylen);

/* Lower level, used by ktls_ssl_offload: TCP_ULP "tls", TLS_TX, TLS_RX, optional no-pad. Either
 * of tx/rx may be NULL. Does not wipe. */
int ktls_install(int fd, const struct ktls_crypto *tx, const struct ktls_crypto *rx, unsigned flags,
		 struct ktls_offload *result, char *why, size_t whylen);

/* Lowest level: one key, dir TLS_TX or TLS_RX, on a socket that has the ULP. */
int ktls_install_key(int fd, int dir, const struct ktls_crypto *kc, char *why, size_t whylen);

/* ---- control records (records.c) ---- */

enum ktls_record_kind {
	KTLS_REC_DATA,		     /* application data */
	KTLS_REC_NEW_SESSION_TICKET, /* only NewSessionTicket messages: harmless, may be dropped */
	KTLS_REC_KEY_UPDATE,	     /* a KeyUpdate (possibly after tickets): keys change here */
	KTLS_REC_HANDSHAKE,	     /* any other handshake message (hs_type: the first such) */
	KTLS_REC_CLOSE_NOTIFY,	     /* alert close_notify */
	KTLS_REC_ALERT,		     /* any other alert */
	KTLS_REC_OTHER,		     /* a record type we do not know */
	KTLS_REC_MALFORMED,	     /* lengths that do not add up: a protocol error */
};

struct ktls_record_info {
	enum ktls_record_kind kind;
	uint8_t type;	       /* the record's content type */
	uint8_t hs_type;       /* handshake: type of the deciding message */
	unsigned hs_count;     /* handshake: messages in the record */
	bool update_requested; /* KeyUpdate: the peer asks us to update ours too */
	uint8_t alert_level;   /* alert: 1 warning, 2 fatal */
	uint8_t alert_desc;    /* alert: RFC 8446 §6 AlertDescription */
	uint8_t reply_alert;   /* MALFORMED: the alert to answer it with (RFC 8446 §6.2) */
};

/* Pure: what a decrypted record (type, plaintext bytes) is. A handshake message that does not
 * end inside the record is MALFORMED (kTLS hands us one record at a time). */
void ktls_record_classify(uint8_t type, const uint8_t *buf, size_t len,
			  struct ktls_record_info *out);
/* RFC 8446 §6 name of an AlertDescription: "decode_error"; "unknown" for others. */
const char *ktls_alert_name(uint8_t code);
/* "close_notify", "alert fatal bad_record_mac(20)", "KeyUpdate (update_requested)", ... */
int ktls_record_format(const struct ktls_record_info *ri, char *buf, size_t len);

/* Sends one alert record (type 21) through a kTLS TX socket; close_notify is (1, 0). */
int ktls_send_alert(int fd, uint8_t level, uint8_t desc);
int ktls_send_close_notify(int fd);
/* Reads at most one record from a kTLS RX socket with recvmsg() and its TLS_GET_RECORD_TYPE
 * cmsg: returns bytes read (0 at TCP EOF) or -errno; *type gets the record type (23 for data).
 * len should be KTLS_RECORD_MAX so a control record comes whole. flags: MSG_DONTWAIT, ... */
ssize_t ktls_recv_record(int fd, uint8_t *type, void *buf, size_t len, int flags);

/* Sends one record of this content type (alert, handshake) through a kTLS TX socket: the kernel
 * closes any open data record first and protects this one alone. -EIO when only part went. */
int ktls_send_record(int fd, uint8_t type, const void *buf, size_t len);

/* ---- TLS 1.3 KeyUpdate (rekey.c; kernel >= 6.14) ---- */

#define KTLS_HS_KEY_UPDATE	       24
#define KTLS_KEY_UPDATE_LEN	       5 /* type, 24-bit length 1, request_update */
#define KTLS_ALERT_UNEXPECTED_MESSAGE  10
#define KTLS_ALERT_ILLEGAL_PARAMETER   47
#define KTLS_ALERT_DECODE_ERROR	       50

/* RFC 8446 §4.6.3 on one handshake message (header included): returns 0 and *update_requested,
 * or -EBADMSG and *alert: decode_error for a wrong type, a length other than 1 or a message
 * that is cut, illegal_parameter for a request_update other than 0 or 1. */
int ktls_key_update_parse(const uint8_t *msg, size_t len, bool *update_requested, uint8_t *alert);
/* Our KeyUpdate message, KTLS_KEY_UPDATE_LEN bytes into out. */
void ktls_key_update_build(uint8_t out[KTLS_KEY_UPDATE_LEN], bool update_requested);
/* Sends it as one handshake record through a kTLS TX socket. */
int ktls_send_key_update(int fd, bool update_requested);

enum ktls_dir { KTLS_DIR_TX = 0, KTLS_DIR_RX = 1 };

/* What following KeyUpdates needs, kept by the caller for the connection's life (it holds the
 * current traffic secrets: wipe it with ktls_rekey_wipe() on every exit). */
struct ktls_rekey_state {
	const struct ktls_cipher *cipher; /* NULL: nothing kept, KeyUpdates cannot be followed */
	size_t secret_len;		  /* Hash.length of the suite */
	uint8_t secret[2][KTLS_SECRET_MAX]; /* current traffic secret per ktls_dir */
	uint64_t updates[2];		    /* KeyUpdates followed per ktls_dir */
};

/* Advances dir's secret to the next one (RFC 8446 §7.2) and builds its kernel struct, record
 * number 0 (the sequence restarts with every key, §5.3). Exposed for tests; ktls_rekey uses it. */
int ktls_rekey_next(struct ktls_rekey_state *rk, enum ktls_dir dir, struct ktls_crypto *kc);
/* Installs dir's next key on a kTLS socket (TLS_TX or TLS_RX again: same version and cipher).
 * After a peer's KeyUpdate the kernel refuses reads (EKEYEXPIRED) until the RX key is set. */
int ktls_rekey(int fd, struct ktls_rekey_state *rk, enum ktls_dir dir, char *why, size_t whylen);
/* Follows a peer's KeyUpdate: the next RX key; when update_requested and we may still write,
 * our own KeyUpdate (update_not_requested) through kTLS, then the next TX key, nothing sent in
 * between (RFC 8446 §4.6.3). */
int ktls_follow_key_update(int fd, struct ktls_rekey_state *rk, bool update_requested,
			   bool can_write, char *why, size_t whylen);
void ktls_rekey_wipe(struct ktls_rekey_state *rk);

/* ---- what to do with a control record (policy.c): one policy for every caller ---- */

enum ktls_action {
	KTLS_ACT_DATA,	    /* application data (read by recvmsg): deliver it like the rest */
	KTLS_ACT_SKIP,	    /* NewSessionTicket: nothing to do, read on */
	KTLS_ACT_EOF,	    /* close_notify: the peer's stream ended cleanly */
	KTLS_ACT_REKEY,	    /* KeyUpdate we can follow: ktls_follow_key_update(), read on */
	KTLS_ACT_END_AFTER, /* deliver every byte before it, then end with a reset (why) */
	KTLS_ACT_ALERT,	    /* malformed: send alert (fatal, *alert), end at once with a reset */
	KTLS_ACT_END,	    /* any other alert or record: end at once with a reset (why) */
};

#define KTLS_CAN_REKEY_KERNEL  0x1 /* this kernel takes new keys (probe: rekey_tx, rekey_rx) */
#define KTLS_CAN_REKEY_SECRETS 0x2 /* this connection kept its secrets (ktls_rekey_state) */

/* The action for a classified record; why gets the reason for any action that ends the
 * connection (and a note for a KeyUpdate that is followed), alert the alert to send. */
enum ktls_action ktls_record_action(const struct ktls_record_info *ri, unsigned can,
				    uint8_t *alert, char *why, size_t whylen);

/* ---- socket state (state.c) ---- */

struct ktls_state {
	enum ktls_mode tx, rx;
	bool ulp;			  /* TCP_ULP is "tls" */
	uint16_t version;		  /* TLS_1_2_VERSION, TLS_1_3_VERSION, 0 unknown */
	const struct ktls_cipher *cipher; /* NULL when neither direction is in the kernel */
	bool rx_no_pad;
};

/* Asks the kernel (getsockopt SOL_TLS, header only: no key leaves the kernel). */
int ktls_socket_state(int fd, struct ktls_state *st);
/* "tx=kernel rx=kernel version=TLSv1.3 cipher=TLS_AES_128_GCM_SHA256 (aes-gcm-128)" */
int ktls_state_format(const struct ktls_state *st, char *buf, size_t len);

#endif
