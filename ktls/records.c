/* records.c - control records on a kTLS socket: classify, send alerts, receive with type. */
#include "ktls.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ktls_compat.h"

#define HS_NEW_SESSION_TICKET 4
#define HS_KEY_UPDATE	      24

/* RFC 8446 §4.6.3: KeyUpdateRequest update_not_requested(0), update_requested(1). */
static void classify_handshake(const uint8_t *buf, size_t len, struct ktls_record_info *out)
{
	size_t off = 0, body;
	bool only_tickets = true;

	out->kind = KTLS_REC_MALFORMED;
	if (len == 0)
		return;
	while (off < len) {
		/* RFC 8446 §4: msg_type (1), length (3), body. */
		if (len - off < 4)
			return;
		body = (size_t)buf[off + 1] << 16 | (size_t)buf[off + 2] << 8 | buf[off + 3];
		if (len - off - 4 < body)
			return;
		out->hs_count++;
		if (buf[off] == HS_KEY_UPDATE) {
			if (body != 1 || buf[off + 4] > 1)
				return;
			out->hs_type = HS_KEY_UPDATE;
			out->update_requested = buf[off + 4] == 1;
			/* Whatever follows a KeyUpdate is under the next key (§5.1): it must end
			 * the record. */
			if (off + 4 + body != len)
				return;
			out->kind = KTLS_REC_KEY_UPDATE;
			return;
		}
		if (buf[off] != HS_NEW_SESSION_TICKET && only_tickets) {
			only_tickets = false;
			out->hs_type = buf[off];
		}
		off += 4 + body;
	}
	if (only_tickets)
		out->hs_type = HS_NEW_SESSION_TICKET;
	out->kind = only_tickets ? KTLS_REC_NEW_SESSION_TICKET : KTLS_REC_HANDSHAKE;
}

void ktls_record_classify(uint8_t type, const uint8_t *buf, size_t len,
			  struct ktls_record_info *out)
{
	memset(out, 0, sizeof(*out));
	out->type = type;
	switch (type) {
	case KTLS_RT_APPLICATION_DATA:
		out->kind = KTLS_REC_DATA;
		break;
	case KTLS_RT_HANDSHAKE:
		classify_handshake(buf, len, out);
		break;
	case KTLS_RT_ALERT:
		/* RFC 8446 §6: struct { AlertLevel level; AlertDescription description; }, and
		 * one alert per record. */
		if (len != 2) {
			out->kind = KTLS_REC_MALFORMED;
			break;
		}
		out->alert_level = buf[0];
		out->alert_desc = buf[1];
		out->kind = buf[1] == 0 ? KTLS_REC_CLOSE_NOTIFY : KTLS_REC_ALERT;
		break;
	default:
		out->kind = KTLS_REC_OTHER;
		break;
	}
}

static const struct {
	uint8_t code;
	const char *name;
} alert_names[] = {
    {0, "close_notify"},
    {10, "unexpected_message"},
    {20, "bad_record_mac"},
    {22, "record_overflow"},
    {40, "handshake_failure"},
    {42, "bad_certificate"},
    {43, "unsupported_certificate"},
    {44, "certificate_revoked"},
    {45, "certificate_expired"},
    {46, "certificate_unknown"},
    {47, "illegal_parameter"},
    {48, "unknown_ca"},
    {49, "access_denied"},
    {50, "decode_error"},
    {51, "decrypt_error"},
    {70, "protocol_version"},
    {71, "insufficient_security"},
    {80, "internal_error"},
    {86, "inappropriate_fallback"},
    {90, "user_canceled"},
    {109, "missing_extension"},
    {110, "unsupported_extension"},
    {112, "unrecognized_name"},
    {113, "bad_certificate_status_response"},
    {115, "unknown_psk_identity"},
    {116, "certificate_required"},
    {120, "no_application_protocol"},
};

static const char *alert_name(uint8_t code)
{
	size_t i;

	for (i = 0; i < sizeof(alert_names) / sizeof(alert_names[0]); i++)
		if (alert_names[i].code == code)
			return alert_names[i].name;
	return "unknown";
}

int ktls_record_format(const struct ktls_record_info *ri, char *buf, size_t len)
{
	switch (ri->kind) {
	case KTLS_REC_DATA:
		return snprintf(buf, len, "application data");
	case KTLS_REC_NEW_SESSION_TICKET:
		return snprintf(buf, len, "NewSessionTicket x%u", ri->hs_count);
	case KTLS_REC_KEY_UPDATE:
		return snprintf(buf, len, "KeyUpdate (%s)",
				ri->update_requested ? "update_requested" : "update_not_requested");
	case KTLS_REC_HANDSHAKE:
		return snprintf(buf, len, "handshake message type %u", ri->hs_type);
	case KTLS_REC_CLOSE_NOTIFY:
		return snprintf(buf, len, "close_notify");
	case KTLS_REC_ALERT:
		return snprintf(buf, len, "alert %s %s(%u)",
				ri->alert_level == 2 ? "fatal" : "warning",
				alert_name(ri->alert_desc), ri->alert_desc);
	case KTLS_REC_OTHER:
		return snprintf(buf, len, "record type %u", ri->type);
	case KTLS_REC_MALFORMED:
		break;
	}
	return snprintf(buf, len, "malformed record (type %u)", ri->type);
}

int ktls_send_alert(int fd, uint8_t level, uint8_t desc)
{
	/* The kernel sends a non-data record when sendmsg() carries TLS_SET_RECORD_TYPE. */
	uint8_t body[2] = {level, desc}, type = KTLS_RT_ALERT;
	char cbuf[CMSG_SPACE(sizeof(type))] = {0};
	struct iovec iov = {.iov_base = body, .iov_len = sizeof(body)};
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	ssize_t n;

	cmsg->cmsg_level = SOL_TLS;
	cmsg->cmsg_type = TLS_SET_RECORD_TYPE;
	cmsg->cmsg_len = CMSG_LEN(sizeof(type));
	memcpy(CMSG_DATA(cmsg), &type, sizeof(type));
	n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	if (n < 0)
		return -errno;
	return n == sizeof(body) ? 0 : -EIO;
}

int ktls_send_close_notify(int fd)
{
	return ktls_send_alert(fd, 1, 0);
}

ssize_t ktls_recv_record(int fd, uint8_t *type, void *buf, size_t len, int flags)
{
	char cbuf[CMSG_SPACE(sizeof(uint8_t))];
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *cmsg;
	ssize_t n;

	*type = KTLS_RT_APPLICATION_DATA;
	n = recvmsg(fd, &msg, flags);
	if (n < 0)
		return -errno;
	/* The kernel returns one record type per call and says which in this cmsg. */
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg))
		if (cmsg->cmsg_level == SOL_TLS && cmsg->cmsg_type == TLS_GET_RECORD_TYPE)
			*type = *CMSG_DATA(cmsg);
	return n;
}
