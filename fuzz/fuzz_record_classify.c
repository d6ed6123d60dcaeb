/* fuzz_record_classify.c - ktls_record_classify() and ktls_record_format() on any record.
 *
 * Input: the record's content type (first byte), then its decrypted body: what
 * ktls_recv_record() hands the relay when a peer sends a control record under the kTLS RX key.
 * The body is copied to a buffer of exactly its length, so ASan sees any read past it.
 *
 * The classification is checked against RFC 8446 read independently here:
 * - 23 is data; 21 (alert) is two bytes, close_notify when the description is 0; types other
 *   than 21, 22, 23 are OTHER;
 * - 22 (handshake): the messages (type, 24-bit length, body; §4) must tile the record. Only
 *   tickets (type 4) is NEW_SESSION_TICKET; a KeyUpdate (24) must have a one-byte body of 0 or 1
 *   and end the record (§4.6.3, §5.1) and makes the record KEY_UPDATE; anything else is
 *   HANDSHAKE; every other record is MALFORMED.
 * ktls_record_format() must write a terminated line into any buffer size and return the length
 * it wanted, as snprintf does.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ktls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Walks the handshake messages: false when they do not tile the record. */
struct walk {
	unsigned count;	      /* messages */
	unsigned key_updates; /* of them KeyUpdates */
	bool only_tickets;
	uint8_t first_other; /* the first type that is not a ticket */
	size_t last_off;     /* where the last message starts */
};

static bool tile(const uint8_t *b, size_t len, struct walk *w)
{
	size_t off = 0, body;

	memset(w, 0, sizeof(*w));
	w->only_tickets = true;
	while (off < len) {
		if (len - off < 4)
			return false;
		body = (size_t)b[off + 1] << 16 | (size_t)b[off + 2] << 8 | b[off + 3];
		if (body > len - off - 4)
			return false;
		w->count++;
		w->key_updates += b[off] == 24;
		if (b[off] != 4 && w->only_tickets) {
			w->only_tickets = false;
			w->first_other = b[off];
		}
		w->last_off = off;
		off += 4 + body;
	}
	return len > 0;
}

/* The last message is a KeyUpdate with a one-byte body of 0 or 1 (RFC 8446 §4.6.3). */
static bool ends_with_good_key_update(const uint8_t *b, size_t len, const struct walk *w)
{
	return b[w->last_off] == 24 && w->last_off + 5 == len && b[w->last_off + 1] == 0 &&
	       b[w->last_off + 2] == 0 && b[w->last_off + 3] == 1 && b[len - 1] <= 1;
}

static void check_handshake(const uint8_t *b, size_t len, const struct ktls_record_info *ri)
{
	struct walk w;
	bool tiles = tile(b, len, &w);

	switch (ri->kind) {
	case KTLS_REC_NEW_SESSION_TICKET:
		if (!tiles || !w.only_tickets || ri->hs_count != w.count || ri->hs_type != 4)
			abort();
		break;
	case KTLS_REC_HANDSHAKE:
		if (!tiles || w.only_tickets || w.key_updates || ri->hs_count != w.count ||
		    ri->hs_type != w.first_other)
			abort();
		break;
	case KTLS_REC_KEY_UPDATE:
		if (!tiles || w.key_updates != 1 || !ends_with_good_key_update(b, len, &w) ||
		    ri->update_requested != (b[len - 1] == 1) || ri->hs_type != 24 ||
		    ri->hs_count != w.count)
			abort();
		break;
	case KTLS_REC_MALFORMED:
		/* Malformed only if the record does not tile, or holds a KeyUpdate that is not
		 * the only one, well formed, at the end. */
		if (tiles && (!w.key_updates ||
			      (w.key_updates == 1 && ends_with_good_key_update(b, len, &w))))
			abort();
		break;
	default:
		abort();
	}
}

static void check_format(const struct ktls_record_info *ri, size_t cut)
{
	char full[256], small[256];
	int want, got;

	memset(full, 'x', sizeof(full));
	want = ktls_record_format(ri, full, sizeof(full));
	if (want <= 0 || (size_t)want >= sizeof(full) || full[want] != '\0' ||
	    strlen(full) != (size_t)want)
		abort();
	cut %= sizeof(small);
	memset(small, 'x', sizeof(small));
	got = ktls_record_format(ri, small, cut);
	if (got != want)
		abort();
	if (cut > 0 && (small[cut - 1 < (size_t)want ? cut - 1 : (size_t)want] != '\0' ||
			strncmp(small, full, cut - 1) != 0))
		abort();
	if (cut < sizeof(small) && small[cut] != 'x')
		abort(); /* wrote past the size it was given */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ktls_record_info ri;
	uint8_t type, *body;
	size_t len;

	if (size < 1)
		return 0;
	type = data[0];
	len = size - 1;
	/* An exact-size copy (malloc(0) may return NULL: give it one byte it must not read). */
	body = malloc(len ? len : 1);
	if (!body)
		abort();
	memcpy(body, data + 1, len);
	memset(&ri, 0xa5, sizeof(ri));
	ktls_record_classify(type, body, len, &ri);
	if (ri.type != type)
		abort();
	switch (type) {
	case KTLS_RT_APPLICATION_DATA:
		if (ri.kind != KTLS_REC_DATA)
			abort();
		break;
	case KTLS_RT_ALERT:
		if (len != 2 ? ri.kind != KTLS_REC_MALFORMED
			     : ri.kind != (body[1] == 0 ? KTLS_REC_CLOSE_NOTIFY : KTLS_REC_ALERT) ||
				   ri.alert_level != body[0] || ri.alert_desc != body[1])
			abort();
		break;
	case KTLS_RT_HANDSHAKE:
		check_handshake(body, len, &ri);
		break;
	default:
		if (ri.kind != KTLS_REC_OTHER)
			abort();
		break;
	}
	check_format(&ri, len ? body[len - 1] : 0);
	free(body);
	return 0;
}
