/* conf_tls.c - TLS parameters: certificate checks (stunnel's verify levels, verifyChain,
 * verifyPeer, checkHost, checkIP), protocol versions, OpenSSL options and the client's SNI. */
#include "conf_parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <openssl/ssl.h>

/* ---- certificate checks ---------------------------------------------------------------- */

/* stunnel's legacy levels (its options.c): 0 request and ignore, 1 verify if present, 2 verify
 * the chain, 3 the chain and the locally installed peer, 4 only the peer. */
int conf_parse_verify(struct parse *p, const struct conf_opt *opt, const char *value)
{
	struct conf_service *s = p->svc;
	long n;

	if (!conf_parse_number(value, 0, 4, &n))
		return conf_fail(p, "'verify': expected a level 0 to 4, got '%s'", value);
	s->request_cert = true;
	s->require_cert = n >= 2;
	s->verify_chain = n >= 1 && n <= 3;
	s->verify_peer = n >= 3;
	return 0;
}

/* verifyChain/verifyPeer/requireCert = yes also ask for and require a certificate (stunnel). */
int conf_parse_verify_flag(struct parse *p, const struct conf_opt *opt, const char *value)
{
	bool *flag = conf_field(p, opt, sizeof(*flag));
	int ret = flag ? conf_parse_bool(p, opt, value) : -EINVAL;

	if (!ret && *flag) {
		p->svc->request_cert = true;
		p->svc->require_cert = true;
	}
	return ret;
}

int conf_parse_check_host(struct parse *p, const struct conf_opt *opt, const char *value)
{
	if (!p->meta->check_line)
		p->meta->check_line = p->line;
	return conf_list_add(p, &p->svc->check_host, value);
}

int conf_parse_check_ip(struct parse *p, const struct conf_opt *opt, const char *value)
{
	unsigned char bin[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, value, bin) != 1 && inet_pton(AF_INET6, value, bin) != 1)
		return conf_fail(p, "'checkIP': '%s' is not an IP address", value);
	if (!p->meta->check_line)
		p->meta->check_line = p->line;
	return conf_list_add(p, &p->svc->check_ip, value);
}

/* ---- TLS parameters -------------------------------------------------------------------- */

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static const struct keyword tls_versions[] = {
    {"all", 0},
    {"TLSv1", TLS1_VERSION},
    {"TLSv1.1", TLS1_1_VERSION},
    {"TLSv1.2", TLS1_2_VERSION},
    {"TLSv1.3", TLS1_3_VERSION},
    {NULL, 0},
};

static int tls_version(struct parse *p, const char *opt, const char *value, int *out)
{
	const struct keyword *w;
	char names[128];

	if (!strcasecmp(value, "SSLv2") || !strcasecmp(value, "SSLv3"))
		return conf_fail(p, "'%s': %s is insecure and not supported", opt, value);
	w = conf_keyword_find(tls_versions, value);
	if (!w) {
		conf_keyword_list(tls_versions, names, sizeof(names));
		return conf_fail(p, "'%s': expected %s, got '%s'", opt, names, value);
	}
	*out = w->value;
	return 0;
}

const char *conf_tls_version_name(int v)
{
	for (const struct keyword *w = tls_versions; w->name; w++)
		if (w->value == v)
			return w->name;
	return "?";
}

bool conf_service_allows_version(const struct conf_service *svc, int version)
{
	return (!svc->version_min || svc->version_min <= version) &&
	       (!svc->version_max || svc->version_max >= version);
}

int conf_parse_ssl_version(struct parse *p, const struct conf_opt *opt, const char *value)
{
	int v, ret = tls_version(p, opt->name, value, &v);

	if (!ret) {
		p->svc->version_min = v;
		p->svc->version_max = v;
	}
	return ret;
}

int conf_parse_version_bound(struct parse *p, const struct conf_opt *opt, const char *value)
{
	int *bound = conf_field(p, opt, sizeof(*bound));
	int v, ret = bound ? tls_version(p, opt->name, value, &v) : -EINVAL;

	if (!ret)
		*bound = v;
	return ret;
}

struct ssl_op {
	const char *name;
	uint64_t value;
};

/* OpenSSL 3.0's SSL_OP_ names, spelt as stunnel does (without the prefix). The obsolete ones
 * are 0 in OpenSSL 3.0; they stay accepted so that old stunnel files still load. */
static const struct ssl_op ssl_ops[] = {
    {"ALL", SSL_OP_ALL},
    {"ALLOW_CLIENT_RENEGOTIATION", SSL_OP_ALLOW_CLIENT_RENEGOTIATION},
    {"ALLOW_NO_DHE_KEX", SSL_OP_ALLOW_NO_DHE_KEX},
    {"ALLOW_UNSAFE_LEGACY_RENEGOTIATION", SSL_OP_ALLOW_UNSAFE_LEGACY_RENEGOTIATION},
    {"CIPHER_SERVER_PREFERENCE", SSL_OP_CIPHER_SERVER_PREFERENCE},
    {"CISCO_ANYCONNECT", SSL_OP_CISCO_ANYCONNECT},
    {"CLEANSE_PLAINTEXT", SSL_OP_CLEANSE_PLAINTEXT},
    {"COOKIE_EXCHANGE", SSL_OP_COOKIE_EXCHANGE},
    {"CRYPTOPRO_TLSEXT_BUG", SSL_OP_CRYPTOPRO_TLSEXT_BUG},
    {"DISABLE_TLSEXT_CA_NAMES", SSL_OP_DISABLE_TLSEXT_CA_NAMES},
    {"DONT_INSERT_EMPTY_FRAGMENTS", SSL_OP_DONT_INSERT_EMPTY_FRAGMENTS},
    {"ENABLE_KTLS", SSL_OP_ENABLE_KTLS},
    {"ENABLE_MIDDLEBOX_COMPAT", SSL_OP_ENABLE_MIDDLEBOX_COMPAT},
    {"IGNORE_UNEXPECTED_EOF", SSL_OP_IGNORE_UNEXPECTED_EOF},
    {"LEGACY_SERVER_CONNECT", SSL_OP_LEGACY_SERVER_CONNECT},
    {"NO_ANTI_REPLAY", SSL_OP_NO_ANTI_REPLAY},
    {"NO_COMPRESSION", SSL_OP_NO_COMPRESSION},
    {"NO_DTLSv1", SSL_OP_NO_DTLSv1},
    {"NO_DTLSv1_2", SSL_OP_NO_DTLSv1_2},
    {"NO_ENCRYPT_THEN_MAC", SSL_OP_NO_ENCRYPT_THEN_MAC},
    {"NO_EXTENDED_MASTER_SECRET", SSL_OP_NO_EXTENDED_MASTER_SECRET},
    {"NO_QUERY_MTU", SSL_OP_NO_QUERY_MTU},
    {"NO_RENEGOTIATION", SSL_OP_NO_RENEGOTIATION},
    {"NO_SESSION_RESUMPTION_ON_RENEGOTIATION", SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION},
    {"NO_SSLv2", SSL_OP_NO_SSLv2},
    {"NO_SSLv3", SSL_OP_NO_SSLv3},
    {"NO_TICKET", SSL_OP_NO_TICKET},
    {"NO_TLSv1", SSL_OP_NO_TLSv1},
    {"NO_TLSv1_1", SSL_OP_NO_TLSv1_1},
    {"NO_TLSv1_2", SSL_OP_NO_TLSv1_2},
    {"NO_TLSv1_3", SSL_OP_NO_TLSv1_3},
    {"PRIORITIZE_CHACHA", SSL_OP_PRIORITIZE_CHACHA},
    {"SAFARI_ECDHE_ECDSA_BUG", SSL_OP_SAFARI_ECDHE_ECDSA_BUG},
    {"TLSEXT_PADDING", SSL_OP_TLSEXT_PADDING},
    {"TLS_ROLLBACK_BUG", SSL_OP_TLS_ROLLBACK_BUG},
    /* obsolete, 0 in OpenSSL 3.0 */
    {"EPHEMERAL_RSA", SSL_OP_EPHEMERAL_RSA},
    {"MICROSOFT_BIG_SSLV3_BUFFER", SSL_OP_MICROSOFT_BIG_SSLV3_BUFFER},
    {"MICROSOFT_SESS_ID_BUG", SSL_OP_MICROSOFT_SESS_ID_BUG},
    {"MSIE_SSLV2_RSA_PADDING", SSL_OP_MSIE_SSLV2_RSA_PADDING},
    {"NETSCAPE_CA_DN_BUG", SSL_OP_NETSCAPE_CA_DN_BUG},
    {"NETSCAPE_CHALLENGE_BUG", SSL_OP_NETSCAPE_CHALLENGE_BUG},
    {"NETSCAPE_DEMO_CIPHER_CHANGE_BUG", SSL_OP_NETSCAPE_DEMO_CIPHER_CHANGE_BUG},
    {"NETSCAPE_REUSE_CIPHER_CHANGE_BUG", SSL_OP_NETSCAPE_REUSE_CIPHER_CHANGE_BUG},
    {"PKCS1_CHECK_1", SSL_OP_PKCS1_CHECK_1},
    {"PKCS1_CHECK_2", SSL_OP_PKCS1_CHECK_2},
    {"SINGLE_DH_USE", SSL_OP_SINGLE_DH_USE},
    {"SINGLE_ECDH_USE", SSL_OP_SINGLE_ECDH_USE},
    {"SSLEAY_080_CLIENT_DH_BUG", SSL_OP_SSLEAY_080_CLIENT_DH_BUG},
    {"SSLREF2_REUSE_CERT_TYPE_BUG", SSL_OP_SSLREF2_REUSE_CERT_TYPE_BUG},
    {"TLS_BLOCK_PADDING_BUG", SSL_OP_TLS_BLOCK_PADDING_BUG},
    {"TLS_D5_BUG", SSL_OP_TLS_D5_BUG},
    {NULL, 0},
};

int conf_parse_ssl_options(struct parse *p, const struct conf_opt *opt, const char *value)
{
	bool clear = value[0] == '-';
	const char *name = clear ? value + 1 : value;
	const struct ssl_op *op;

	for (op = ssl_ops; op->name; op++)
		if (!strcasecmp(op->name, name))
			break;
	if (!op->name)
		return conf_fail(p, "'options': unknown OpenSSL option '%s'", name);
	if (clear) {
		p->svc->options_clear |= op->value;
		p->svc->options_set &= ~(unsigned long long)op->value;
	} else {
		p->svc->options_set |= op->value;
		p->svc->options_clear &= ~(unsigned long long)op->value;
	}
	return 0;
}

/* 16 or 32 bytes in hexadecimal, a colon allowed between two bytes (stunnel's syntax). */
int conf_parse_secret(struct parse *p, const struct conf_opt *opt, const char *value)
{
	struct conf_secret *secret = conf_field(p, opt, sizeof(*secret));
	struct conf_secret got = {0};
	const char *s = value;

	if (!secret)
		return -EINVAL;
	while (*s) {
		int hi, lo;

		if (got.len && *s == ':')
			s++;
		hi = hex_digit(s[0]);
		lo = hi < 0 ? -1 : hex_digit(s[1]);
		if (lo < 0 || got.len == sizeof(got.bytes)) {
			explicit_bzero(&got, sizeof(got));
			return conf_fail(p,
					 "'%s': expected 16 or 32 bytes in hexadecimal (32 or 64 "
					 "digits, colons allowed between bytes)",
					 opt->name);
		}
		got.bytes[got.len++] = (unsigned char)(hi << 4 | lo);
		s += 2;
	}
	if (got.len != 16 && got.len != 32) {
		size_t len = got.len;

		explicit_bzero(&got, sizeof(got));
		return conf_fail(p,
				 "'%s': %zu bytes; it must be 16 or 32 bytes (32 or 64 hexadecimal "
				 "digits)",
				 opt->name, len);
	}
	*secret = got;
	explicit_bzero(&got, sizeof(got));
	return 0;
}

/* OpenSSL's levels 0 to 5 (SSL_CTX_set_security_level), as stunnel. */
int conf_parse_security_level(struct parse *p, const struct conf_opt *opt, const char *value)
{
	int *level = conf_field(p, opt, sizeof(*level));
	long n;

	if (!level)
		return -EINVAL;
	if (!conf_parse_number(value, 0, 5, &n))
		return conf_fail(p, "'%s': expected a level 0 to 5, got '%s'", opt->name, value);
	*level = (int)n;
	return 0;
}

/* reset = yes is what the relay always does: an error, a timeout or an unclean TLS end resets
 * the other side. stunnel's reset = no (a FIN instead) would make a truncated transfer look
 * complete to the program behind the relay: refused, with the reason. */
int conf_parse_reset(struct parse *p, const struct conf_opt *opt, const char *value)
{
	const struct keyword *w = conf_keyword_find(conf_yes_no, value);

	if (!w)
		return conf_fail(p, "'reset': expected yes or no, got '%s'", value);
	if (!w->value)
		return conf_fail(
		    p, "'reset = no' is not supported: ktlsrelay always resets the other "
		       "side after an error, a timeout or a TLS end without close_notify, "
		       "so that a truncated transfer never ends cleanly");
	return 0;
}

/* Client mode only; server mode's `sni = service:pattern` is checked once `client` is known. */
int conf_parse_sni(struct parse *p, const struct conf_opt *opt, const char *value)
{
	p->meta->sni_line = p->line;
	return conf_set_string(p, &p->svc->sni, value);
}
