/* test_ktls_records.c - ktls_record_classify() on crafted records, and the cipher table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ktls.h"

static struct ktls_record_info classify(uint8_t type, const uint8_t *buf, size_t len)
{
	struct ktls_record_info ri;

	ktls_record_classify(type, buf, len, &ri);
	return ri;
}

static void application_data_is_data(void **state)
{
	const uint8_t b[] = {1, 2, 3};

	assert_int_equal(classify(KTLS_RT_APPLICATION_DATA, b, 3).kind, KTLS_REC_DATA);
}

static void two_tickets_in_one_record_are_tickets(void **state)
{
	/* RFC 8446 §4: type 4, 24-bit length, body. */
	const uint8_t b[] = {4, 0, 0, 2, 0xaa, 0xbb, 4, 0, 0, 1, 0xcc};
	struct ktls_record_info ri = classify(KTLS_RT_HANDSHAKE, b, sizeof(b));

	assert_int_equal(ri.kind, KTLS_REC_NEW_SESSION_TICKET);
	assert_int_equal(ri.hs_count, 2);
}

static void key_update_says_whether_requested(void **state)
{
	const uint8_t no[] = {24, 0, 0, 1, 0}, yes[] = {24, 0, 0, 1, 1};
	struct ktls_record_info ri;

	ri = classify(KTLS_RT_HANDSHAKE, no, sizeof(no));
	assert_int_equal(ri.kind, KTLS_REC_KEY_UPDATE);
	assert_false(ri.update_requested);
	ri = classify(KTLS_RT_HANDSHAKE, yes, sizeof(yes));
	assert_int_equal(ri.kind, KTLS_REC_KEY_UPDATE);
	assert_true(ri.update_requested);
}

static void key_update_after_a_ticket_is_key_update(void **state)
{
	const uint8_t b[] = {4, 0, 0, 1, 0xaa, 24, 0, 0, 1, 1};
	struct ktls_record_info ri = classify(KTLS_RT_HANDSHAKE, b, sizeof(b));

	assert_int_equal(ri.kind, KTLS_REC_KEY_UPDATE);
	assert_true(ri.update_requested);
	assert_int_equal(ri.hs_count, 2);
}

static void bad_key_updates_are_malformed(void **state)
{
	const uint8_t value2[] = {24, 0, 0, 1, 2}, long_body[] = {24, 0, 0, 2, 0, 0};
	const uint8_t data_after[] = {24, 0, 0, 1, 0, 4, 0, 0, 0};

	assert_int_equal(classify(KTLS_RT_HANDSHAKE, value2, 5).kind, KTLS_REC_MALFORMED);
	assert_int_equal(classify(KTLS_RT_HANDSHAKE, long_body, 6).kind, KTLS_REC_MALFORMED);
	/* A message after KeyUpdate would be under the next key (RFC 8446 §5.1). */
	assert_int_equal(classify(KTLS_RT_HANDSHAKE, data_after, 9).kind, KTLS_REC_MALFORMED);
}

static void other_handshake_message_is_handshake(void **state)
{
	/* CertificateRequest (13), post-handshake authentication. */
	const uint8_t b[] = {4, 0, 0, 0, 13, 0, 0, 1, 0};
	struct ktls_record_info ri = classify(KTLS_RT_HANDSHAKE, b, sizeof(b));

	assert_int_equal(ri.kind, KTLS_REC_HANDSHAKE);
	assert_int_equal(ri.hs_type, 13);
}

static void truncated_handshake_is_malformed(void **state)
{
	const uint8_t header_only[] = {4, 0, 0}, short_body[] = {4, 0, 0, 5, 1, 2};

	assert_int_equal(classify(KTLS_RT_HANDSHAKE, header_only, 3).kind, KTLS_REC_MALFORMED);
	assert_int_equal(classify(KTLS_RT_HANDSHAKE, short_body, 6).kind, KTLS_REC_MALFORMED);
	assert_int_equal(classify(KTLS_RT_HANDSHAKE, NULL, 0).kind, KTLS_REC_MALFORMED);
}

static void alerts_close_notify_and_others(void **state)
{
	const uint8_t close[] = {1, 0}, mac[] = {2, 20}, three[] = {2, 20, 0};
	struct ktls_record_info ri;
	char text[64];

	assert_int_equal(classify(KTLS_RT_ALERT, close, 2).kind, KTLS_REC_CLOSE_NOTIFY);
	ri = classify(KTLS_RT_ALERT, mac, 2);
	assert_int_equal(ri.kind, KTLS_REC_ALERT);
	assert_int_equal(ri.alert_level, 2);
	assert_int_equal(ri.alert_desc, 20);
	ktls_record_format(&ri, text, sizeof(text));
	assert_string_equal(text, "alert fatal bad_record_mac(20)");
	assert_int_equal(classify(KTLS_RT_ALERT, three, 3).kind, KTLS_REC_MALFORMED);
	assert_int_equal(classify(KTLS_RT_ALERT, close, 1).kind, KTLS_REC_MALFORMED);
}

static void unknown_type_is_other(void **state)
{
	assert_int_equal(classify(99, NULL, 0).kind, KTLS_REC_OTHER);
	assert_int_equal(classify(KTLS_RT_CHANGE_CIPHER_SPEC, (const uint8_t *)"\1", 1).kind,
			 KTLS_REC_OTHER);
}

/* Every row's sizes add up to the kernel struct, TLS 1.3 names one row per kernel cipher, and
 * the lookups find the rows the relay will ask for. */
static void cipher_table_is_consistent(void **state)
{
	const struct ktls_cipher *t = NULL, *c;
	size_t n = 0, i, j;

	t = ktls_cipher_table(&n);
	assert_true(n >= 7);
	for (i = 0; i < n; i++) {
		assert_int_equal(t[i].info_len,
				 4 + t[i].iv_len + t[i].key_len + t[i].salt_len + t[i].rec_seq_len);
		assert_int_equal(t[i].salt_len + t[i].iv_len, 12);
		assert_int_equal(t[i].tag_len, 16);
		for (j = 0; j < i; j++)
			assert_int_not_equal(t[i].suite, t[j].suite);
		c = ktls_cipher_by_kernel_type(t[i].kernel_type);
		assert_non_null(c);
		assert_int_equal(c->version, TLS_1_3_VERSION);
		assert_string_equal(c->kname, t[i].kname);
	}
	c = ktls_cipher_by_suite(0x1301);
	assert_string_equal(c->iana, "TLS_AES_128_GCM_SHA256");
	assert_string_equal(c->kname, "aes-gcm-128");
	assert_int_equal(c->kernel_type, TLS_CIPHER_AES_GCM_128);
	c = ktls_cipher_by_suite(0x1302);
	assert_string_equal(c->kname, "aes-gcm-256");
	assert_string_equal(c->digest, "SHA384");
	c = ktls_cipher_by_suite(0x1303);
	assert_string_equal(c->kname, "chacha20-poly1305");
	assert_int_equal(c->iv_len, 12);
	c = ktls_cipher_by_suite(0x1304);
	assert_string_equal(c->kname, "aes-ccm-128");
	assert_false(c->offload);
	assert_null(ktls_cipher_by_suite(0x1305)); /* CCM_8: the kernel has no such cipher */
}

static void probe_line_without_ulp_says_why(void **state)
{
	struct ktls_probe p = {.ulp = false, .why = "kernel has no TLS ULP", .kernel = "6.18"};
	char line[256];

	ktls_probe_format(&p, line, sizeof(line));
	assert_string_equal(line, "kTLS: no (kernel 6.18): kernel has no TLS ULP");
	p.ulp = true;
	p.rx = true;
	p.ciphers = 1u << (TLS_CIPHER_CHACHA20_POLY1305 - TLS_CIPHER_AES_GCM_128);
	ktls_probe_format(&p, line, sizeof(line));
	assert_non_null(strstr(line, "kTLS: yes (kernel 6.18) ciphers=chacha20-poly1305 rx=yes"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(application_data_is_data),
	    cmocka_unit_test(two_tickets_in_one_record_are_tickets),
	    cmocka_unit_test(key_update_says_whether_requested),
	    cmocka_unit_test(key_update_after_a_ticket_is_key_update),
	    cmocka_unit_test(bad_key_updates_are_malformed),
	    cmocka_unit_test(other_handshake_message_is_handshake),
	    cmocka_unit_test(truncated_handshake_is_malformed),
	    cmocka_unit_test(alerts_close_notify_and_others),
	    cmocka_unit_test(unknown_type_is_other),
	    cmocka_unit_test(cipher_table_is_consistent),
	    cmocka_unit_test(probe_line_without_ulp_says_why),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
