/* verify.c - stunnel's peer verification on an SSL_CTX: the policy travels with the context (a
 * private copy in its ex_data), and one verify callback applies it. */
#include "tlspeer.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

/* Allocated once per process, read-only afterwards. */
static pthread_once_t index_once = PTHREAD_ONCE_INIT;
static int policy_index = -1;

static void policy_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	free(ptr);
}

static void policy_index_init(void)
{
	policy_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, policy_free);
}

void tlspeer_policy_level(struct tlspeer_policy *p, int level)
{
	bool valid = level >= 0 && level <= 4;

	p->request = valid;
	p->require = valid && level >= 2;
	p->chain = valid && level >= 1 && level <= 3;
	p->peer = valid && level >= 3;
}

static bool list_empty(char *const *list)
{
	return !list || !list[0];
}

bool tlspeer_policy_checks(const struct tlspeer_policy *p)
{
	return p->chain || p->peer || !list_empty(p->check_host) || !list_empty(p->check_ip);
}

/* --- the copy kept with the context: one block, freed with it ----------------------------- */

static size_t list_size(char *const *list, size_t *count)
{
	size_t size = 0;

	*count = 0;
	for (; list && *list; list++, (*count)++)
		size += strlen(*list) + 1;
	return size;
}

static char **list_copy(char *const *list, size_t count, char ***slots, char **text)
{
	char **out = *slots;

	for (size_t i = 0; i < count; i++) {
		out[i] = strcpy(*text, list[i]);
		*text += strlen(list[i]) + 1;
	}
	out[count] = NULL;
	*slots += count + 1;
	return out;
}

static struct tlspeer_policy *policy_copy(const struct tlspeer_policy *p)
{
	size_t nh, ni, text = list_size(p->check_host, &nh) + list_size(p->check_ip, &ni);
	struct tlspeer_policy *q;
	char **slots, *chars;

	q = malloc(sizeof(*q) + (nh + 1 + ni + 1) * sizeof(char *) + text);
	if (!q)
		return NULL;
	*q = *p;
	/* used at set-up only */
	q->ca_file = q->ca_path = q->crl_file = q->crl_path = NULL;
	slots = (char **)(q + 1);
	chars = (char *)(slots + nh + 1 + ni + 1);
	q->check_host = list_copy(p->check_host, nh, &slots, &chars);
	q->check_ip = list_copy(p->check_ip, ni, &slots, &chars);
	return q;
}

/* --- the callback ---------------------------------------------------------------------------- */

/* verifyPeer: the certificate itself, not only its issuer, must be in the store. */
static bool cert_in_store(X509_STORE_CTX *store, X509 *cert)
{
	STACK_OF(X509) *certs = X509_STORE_CTX_get1_certs(store, X509_get_subject_name(cert));
	bool found = false;

	for (int i = 0; certs && i < sk_X509_num(certs) && !found; i++)
		found = X509_cmp(sk_X509_value(certs, i), cert) == 0;
	sk_X509_pop_free(certs, X509_free);
	return found;
}

/* checkHost and checkIP together: any one name matching is enough, as in stunnel. */
static bool cert_matches_names(const struct tlspeer_policy *p, X509 *cert)
{
	for (char *const *h = p->check_host; h && *h; h++)
		if (X509_check_host(cert, *h, 0, 0, NULL) == 1)
			return true;
	for (char *const *ip = p->check_ip; ip && *ip; ip++)
		if (X509_check_ip_asc(cert, *ip, 0) == 1)
			return true;
	return list_empty(p->check_host) && list_empty(p->check_ip);
}

/* Without verifyChain, an error about the peer's own certificate is forgiven only when it says
 * no more than "issuer unknown": verifyPeer then decides. Any other (self-signed, expired, bad
 * signature) refuses it with OpenSSL's own error, hence its alert: a self-signed client
 * certificate not in CAfile gets unknown_ca, as from stunnel 5.68 (seen with s_client -msg). */
static bool leaf_error_forgivable(X509_STORE_CTX *store)
{
	switch (X509_STORE_CTX_get_error(store)) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		return true;
	default:
		return false;
	}
}

static int verify_callback(int ok, X509_STORE_CTX *store)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
	const struct tlspeer_policy *p = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), policy_index);
	X509 *cert = X509_STORE_CTX_get_current_cert(store);

	if (!ok && p->peer && X509_STORE_CTX_get_error_depth(store) == 0 &&
	    !leaf_error_forgivable(store))
		return 0;
	if (!ok && !p->chain)
		ok = 1;
	/* The peer's own certificate (depth 0) is checked once the chain has been walked. */
	if (!ok || X509_STORE_CTX_get_error_depth(store) > 0)
		return ok;
	if (p->peer && !cert_in_store(store, cert)) {
		X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
		return 0;
	}
	if (!cert_matches_names(p, cert)) {
		X509_STORE_CTX_set_error(store, X509_V_ERR_HOSTNAME_MISMATCH);
		return 0;
	}
	return 1;
}

/* --- set-up ---------------------------------------------------------------------------------- */

static int load_cas(SSL_CTX *ctx, const struct tlspeer_policy *p, char *why, size_t whylen)
{
	char what[4200];

	if (p->ca_file || p->ca_path) {
		if (SSL_CTX_load_verify_locations(ctx, p->ca_file, p->ca_path) == 1)
			return 0;
		snprintf(what, sizeof(what), "cannot load %s%s%s%s%s", p->ca_file ? "CAfile " : "",
			 p->ca_file ? p->ca_file : "", p->ca_file && p->ca_path ? " and " : "",
			 p->ca_path ? "CApath " : "", p->ca_path ? p->ca_path : "");
		tlspeer_error_text(what, why, whylen);
		return -EINVAL;
	}
	if (tlspeer_policy_checks(p) && SSL_CTX_set_default_verify_paths(ctx) != 1) {
		tlspeer_error_text("cannot load the default CA paths", why, whylen);
		return -EINVAL;
	}
	return 0;
}

/* As stunnel: the CRLs join the trusted store and every certificate of the chain is checked (a
 * CA without a CRL then fails the chain, "unable to get certificate CRL"). A file is read now; a
 * directory is looked up by issuer hash when a certificate needs it. A reload builds a new
 * context, which reads them again. */
static int load_crls(SSL_CTX *ctx, const struct tlspeer_policy *p, char *why, size_t whylen)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	X509_LOOKUP *lookup;
	char what[4200];

	if (!p->crl_file && !p->crl_path)
		return 0;
	if (p->crl_file) {
		lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());
		if (!lookup || X509_load_crl_file(lookup, p->crl_file, X509_FILETYPE_PEM) < 1) {
			snprintf(what, sizeof(what), "cannot load CRLfile %s", p->crl_file);
			tlspeer_error_text(what, why, whylen);
			return -EINVAL;
		}
	}
	if (p->crl_path) {
		lookup = X509_STORE_add_lookup(store, X509_LOOKUP_hash_dir());
		if (!lookup || !X509_LOOKUP_add_dir(lookup, p->crl_path, X509_FILETYPE_PEM)) {
			snprintf(what, sizeof(what), "cannot use CRLpath %s", p->crl_path);
			tlspeer_error_text(what, why, whylen);
			return -EINVAL;
		}
	}
	X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
	return 0;
}

int tlspeer_ctx_setup(SSL_CTX *ctx, bool server, const struct tlspeer_policy *p, char *why,
		      size_t whylen)
{
	struct tlspeer_policy *copy;
	int mode = SSL_VERIFY_NONE, ret;

	pthread_once(&index_once, policy_index_init);
	if (policy_index < 0) {
		tlspeer_error_text("no OpenSSL ex_data index for the peer policy", why, whylen);
		return -ENOMEM;
	}
	ret = load_cas(ctx, p, why, whylen);
	if (ret == 0)
		ret = load_crls(ctx, p, why, whylen);
	if (ret < 0)
		return ret;
	if (tlspeer_policy_checks(p) || (server && (p->request || p->require)))
		mode = SSL_VERIFY_PEER;
	if (server && p->require)
		mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	/* The CAs a server names in its CertificateRequest: a client with several certificates
	 * picks by them. Only a nicety: a file OpenSSL cannot list leaves the list empty. */
	if (server && p->ca_file && mode != SSL_VERIFY_NONE) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(p->ca_file);

		if (names)
			SSL_CTX_set_client_CA_list(ctx, names);
		ERR_clear_error();
	}
	copy = policy_copy(p);
	free(SSL_CTX_get_ex_data(ctx, policy_index)); /* set up again: the newer policy wins */
	if (!copy || !SSL_CTX_set_ex_data(ctx, policy_index, copy)) {
		free(copy);
		snprintf(why, whylen, "out of memory for the peer policy");
		return -ENOMEM;
	}
	SSL_CTX_set_verify(ctx, mode, mode == SSL_VERIFY_NONE ? NULL : verify_callback);
	return 0;
}
