/* ktlsstat_diag.c - the kernel's list of TLS ULP sockets, through NETLINK_SOCK_DIAG (libnl-3).
 *
 * tcp_diag adds INET_DIAG_ULP_INFO (nested: INET_ULP_INFO_NAME, INET_ULP_INFO_TLS with the
 * TLS_INFO_* attributes of tls_get_info()) only when the request asks for INET_DIAG_INFO and
 * the asking socket has CAP_NET_ADMIN (tcp_diag_get_aux's net_admin): that is why ss(8) shows
 * tcp-ulp-tls only with -i and as root. */
#include "ktlsstat.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <linux/tls.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

struct dump_ctx {
	struct ktlsstat_list *list;
	int err;
	unsigned long canary; /* inode of our own listening socket */
	bool canary_seen;
};

static void fill_addr(struct sockaddr_storage *ss, int family, const __be32 *addr, __be16 port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = port;
		memcpy(&sin->sin_addr, addr, 4);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = port;
		memcpy(&sin6->sin6_addr, addr, 16);
	}
}

static int list_push(struct ktlsstat_list *l, const struct ktlsstat_sock *s)
{
	struct ktlsstat_sock *v;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;

		v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *s;
	return 0;
}

static void parse_tls(struct ktlsstat_sock *s, struct nlattr *nest)
{
	struct nlattr *tb[TLS_INFO_MAX + 1];

	if (nla_parse_nested(tb, TLS_INFO_MAX, nest, NULL) < 0)
		return;
	if (tb[TLS_INFO_VERSION])
		s->version = nla_get_u16(tb[TLS_INFO_VERSION]);
	if (tb[TLS_INFO_CIPHER])
		s->cipher_type = nla_get_u16(tb[TLS_INFO_CIPHER]);
	if (tb[TLS_INFO_TXCONF])
		s->txconf = nla_get_u16(tb[TLS_INFO_TXCONF]);
	if (tb[TLS_INFO_RXCONF])
		s->rxconf = nla_get_u16(tb[TLS_INFO_RXCONF]);
	s->zc_ro_tx = tb[TLS_INFO_ZC_RO_TX] != NULL;
	s->rx_no_pad = tb[TLS_INFO_RX_NO_PAD] != NULL;
}

static int on_msg(struct nl_msg *msg, void *arg)
{
	struct dump_ctx *ctx = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[INET_DIAG_MAX + 1], *ulp[INET_ULP_INFO_MAX + 1];
	struct inet_diag_msg *r;
	struct ktlsstat_sock s;
	int ret;

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY)
		return NL_SKIP;
	r = nlmsg_data(nlh);
	ctx->list->tcp_seen++;
	if (r->idiag_inode == ctx->canary)
		ctx->canary_seen = true;
	if (nlmsg_parse(nlh, sizeof(*r), tb, INET_DIAG_MAX, NULL) < 0 || !tb[INET_DIAG_ULP_INFO])
		return NL_OK;
	ctx->list->ulp_info_seen = true;
	if (nla_parse_nested(ulp, INET_ULP_INFO_MAX, tb[INET_DIAG_ULP_INFO], NULL) < 0 ||
	    !ulp[INET_ULP_INFO_NAME] || strcmp(nla_get_string(ulp[INET_ULP_INFO_NAME]), "tls"))
		return NL_OK;
	memset(&s, 0, sizeof(s));
	s.family = r->idiag_family;
	s.state = r->idiag_state;
	s.inode = r->idiag_inode;
	s.uid = r->idiag_uid;
	fill_addr(&s.local, s.family, r->id.idiag_src, r->id.idiag_sport);
	fill_addr(&s.peer, s.family, r->id.idiag_dst, r->id.idiag_dport);
	if (ulp[INET_ULP_INFO_TLS])
		parse_tls(&s, ulp[INET_ULP_INFO_TLS]);
	ret = list_push(ctx->list, &s);
	if (ret < 0) {
		ctx->err = ret;
		return NL_STOP;
	}
	return NL_OK;
}

static int dump_family(struct nl_sock *sk, int family, struct dump_ctx *ctx, char *why,
		       size_t whylen)
{
	struct inet_diag_req_v2 req = {
	    .sdiag_family = family,
	    .sdiag_protocol = IPPROTO_TCP,
	    .idiag_ext = 1 << (INET_DIAG_INFO - 1),
	    .idiag_states = ~0u,
	};
	int ret;

	ret = nl_send_simple(sk, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, &req, sizeof(req));
	if (ret < 0)
		goto out;
	ret = nl_recvmsgs_default(sk);
out:
	if (ret < 0) {
		/* The kernel's ENOENT (no handler for this family/protocol) arrives as
		 * NLE_OBJ_NOTFOUND: inet_diag or tcp_diag is missing. */
		bool missing = ret == -NLE_OBJ_NOTFOUND;

		snprintf(why, whylen, "%s sock_diag dump failed: %s%s",
			 family == AF_INET ? "IPv4" : "IPv6", nl_geterror(ret),
			 missing ? " (this kernel has no inet_diag/tcp_diag for TCP)" : "");
		return missing ? -ENOENT : -EIO;
	}
	return ctx->err;
}

/* Without tcp_diag, a dump may answer with no socket and no error (inet_diag ignores the
 * missing handler on 6.1): a listening socket of our own that does not show up tells. */
static int open_canary(struct dump_ctx *ctx)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct stat st;

	if (fd < 0 || listen(fd, 1) < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ctx->canary = st.st_ino;
	return fd;
}

int ktlsstat_diag_dump(struct ktlsstat_list *out, char *why, size_t whylen)
{
	struct dump_ctx ctx = {.list = out};
	struct nl_sock *sk;
	int ret, canary;

	memset(out, 0, sizeof(*out));
	canary = open_canary(&ctx);
	sk = nl_socket_alloc();
	if (!sk) {
		snprintf(why, whylen, "nl_socket_alloc failed");
		if (canary >= 0)
			close(canary);
		return -ENOMEM;
	}
	ret = nl_connect(sk, NETLINK_SOCK_DIAG);
	if (ret < 0) {
		snprintf(why, whylen, "cannot open a NETLINK_SOCK_DIAG socket: %s",
			 nl_geterror(ret));
		ret = -ENOENT;
		goto out;
	}
	/* One answer per socket: a busy host has many, so a larger buffer means fewer reads. */
	nl_socket_set_msg_buf_size(sk, 32768);
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_msg, &ctx);
	ret = dump_family(sk, AF_INET, &ctx, why, whylen);
	if (ret < 0)
		goto out;
	if (canary >= 0 && !ctx.canary_seen) {
		snprintf(why, whylen,
			 "sock_diag does not list TCP sockets: this kernel has no "
			 "inet_diag/tcp_diag for TCP (modprobe tcp_diag)");
		ret = -ENOENT;
		goto out;
	}
	ret = dump_family(sk, AF_INET6, &ctx, why, whylen);
	/* A kernel without IPv6 has no handler for it: IPv4 answered, so that is not an error. */
	if (ret == -ENOENT)
		ret = 0;
out:
	nl_socket_free(sk);
	if (canary >= 0)
		close(canary);
	return ret;
}

void ktlsstat_list_free(struct ktlsstat_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}
