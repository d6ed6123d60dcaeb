/* fuzz_key_update.c - ktls_key_update_parse() and the control-record policy on any bytes.
 *
 * Input: first byte: flags for ktls_record_action()'s `can` (bits 0-1), then a handshake record
 * body as a peer would send it under the kTLS RX key. The body is copied to a buffer of exactly
 * its length, so ASan sees any read past it.
 *
 * Checked against RFC 8446 read independently here:
 * - ktls_key_update_parse() accepts exactly 24, 00 00 01, then 0 or 1 (§4.6.3); a fifth byte
 *   above 1 after a good header is illegal_parameter, anything else decode_error (§6.2); on
 *   success it never writes the alert, on failure never the request;
 * - ktls_key_update_build() output parses back to the same request;
 * - ktls_record_action() on the classified record: a KeyUpdate is followed only when both
 *   `can` bits are set, else ends after the bytes before it; a malformed record is answered
 *   with decode_error, illegal_parameter or unexpected_message; every reason is a terminated
 *   string that fits.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ktls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_parse(const uint8_t *b, size_t len)
{
	bool header = len >= 5 && b[0] == 24 && b[1] == 0 && b[2] == 0 && b[3] == 1;
	bool requested = true, want_req = header && b[4] == 1;
	uint8_t alert = 0xee;
	int ret = ktls_key_update_parse(b, len, &requested, &alert);

	if (header && b[4] <= 1) {
		if (ret != 0 || requested != want_req || alert != 0xee)
			abort();
		return;
	}
	if (ret != -EBADMSG || requested != true)
		abort();
	if (alert != (header ? KTLS_ALERT_ILLEGAL_PARAMETER : KTLS_ALERT_DECODE_ERROR))
		abort();
}

static void check_build(bool req)
{
	uint8_t msg[KTLS_KEY_UPDATE_LEN], alert;
	bool got = !req;

	ktls_key_update_build(msg, req);
	if (ktls_key_update_parse(msg, sizeof(msg), &got, &alert) != 0 || got != req)
		abort();
}

static void check_action(const uint8_t *b, size_t len, unsigned can)
{
	const unsigned both = KTLS_CAN_REKEY_KERNEL | KTLS_CAN_REKEY_SECRETS;
	struct ktls_record_info ri;
	enum ktls_action act;
	char why[200];
	uint8_t alert = 0xee;

	ktls_record_classify(KTLS_RT_HANDSHAKE, b, len, &ri);
	memset(why, 'x', sizeof(why));
	act = ktls_record_action(&ri, can, &alert, why, sizeof(why));
	if (!memchr(why, '\0', sizeof(why)) && act != KTLS_ACT_SKIP)
		abort();
	switch (ri.kind) {
	case KTLS_REC_NEW_SESSION_TICKET:
		if (act != KTLS_ACT_SKIP || alert != 0)
			abort();
		break;
	case KTLS_REC_KEY_UPDATE:
		if (act != ((can & both) == both ? KTLS_ACT_REKEY : KTLS_ACT_END_AFTER) || alert)
			abort();
		break;
	case KTLS_REC_MALFORMED:
		if (act != KTLS_ACT_ALERT || alert != ri.reply_alert ||
		    (alert != KTLS_ALERT_DECODE_ERROR && alert != KTLS_ALERT_ILLEGAL_PARAMETER &&
		     alert != KTLS_ALERT_UNEXPECTED_MESSAGE))
			abort();
		break;
	case KTLS_REC_HANDSHAKE:
		if (act != KTLS_ACT_END || alert != 0)
			abort();
		break;
	default:
		abort(); /* a handshake record is never data, an alert or another type */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *body;
	unsigned can;
	size_t len;

	if (size < 1)
		return 0;
	can = data[0] & 3;
	len = size - 1;
	body = malloc(len ? len : 1);
	if (!body)
		abort();
	memcpy(body, data + 1, len);
	check_parse(body, len);
	check_build(len && (body[0] & 1));
	check_action(body, len, can);
	free(body);
	return 0;
}
