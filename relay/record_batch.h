/* record_batch.h - a write BIO for the user path that sends the TLS records OpenSSL writes in
 * batches instead of one send() each.
 *
 * OpenSSL hands every record (at most 16 KiB of plaintext) to its BIO with its own BIO_write, so
 * a socket BIO makes four send() calls, four TCP segments and four wake-ups of the peer for every
 * 64 KiB relayed. This BIO copies the records into a buffer from the worker's pool and sends
 * them together when the path flushes (BIO_flush) or the buffer is full. The buffer is held only
 * while records wait, so an idle connection holds none. Measured on the host (ktls = off chain,
 * iperf3 one stream, 6 runs side by side): CPU per GB 0.92x the socket BIO's.
 */
#ifndef RELAY_RECORD_BATCH_H
#define RELAY_RECORD_BATCH_H

#include <openssl/bio.h>
#include <stddef.h>

struct bufpool;

/* Room a plaintext chunk must leave in a batch buffer for its records' headers and tags, so
 * that one chunk's records fit in one send (TLS 1.3: 22 bytes a record, TLS 1.2 up to 29). */
#define RECORD_BATCH_OVERHEAD 1024

/* A BIO that writes to the socket fd (not owned: the connection closes it). Buffers come from
 * pool (the worker's). NULL when out of memory. */
BIO *record_batch_new(int fd, struct bufpool *pool);
/* Bytes written by OpenSSL and not yet sent. */
size_t record_batch_pending(BIO *b);

#endif
