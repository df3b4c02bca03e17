/* Application fields: DNS names, TLS ClientHello SNI/ALPN, HTTP/1.x request
 * lines, hosts and body digests, read from in-order stream bytes (TCP) or
 * whole datagrams (UDP DNS).
 *
 * Nothing here allocates per packet. Field values are pointers into the
 * caller's bytes where a field lies within one fed piece, else into small
 * bounded buffers of the state; either way they are valid only during the
 * callback (or until the next feed for TLS results).
 * Heap use, all per flow direction and lazily: the TCP DNS framer's 64 KiB
 * buffer (only when a message spans pieces), the HTTP header buffer (only when
 * a header block spans pieces, up to header_cap), and per HTTP body the
 * inflate state (freed at body end) and the EVP digest contexts (allocated at
 * the first body, reused for later bodies, freed by _fini).
 * Malformed input is counted in the caller's stats struct, never fatal.
 * Owner: the flow owns its states (inline, fixed size); the worker owns the
 * stats and the env. One thread per state; an env is read-only once built. */
#ifndef CYBERSIEVE_APP_H
#define CYBERSIEVE_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cybersieve/error.h"

struct evp_md_st;
struct evp_md_ctx_st;
struct md5_lanes;
struct z_stream_s;

/* Direction of a stream within a flow: client to server, server to client. */
enum app_dir { APP_DIR_C2S = 0, APP_DIR_S2C = 1 };

/* Longest dotted name we return (RFC 1035: 255 octets on the wire, 253 as
 * text); buffers for names are APP_NAME_BUF bytes with the terminating NUL. */
#define APP_NAME_MAX 253
#define APP_NAME_BUF 256

/* ---------------------------------------------------------------- DNS --- */

/* Why a name or a message was refused; each has a counter in app_dns_stats. */
enum app_dns_fault {
	APP_DNS_FAULT_NONE = 0,
	APP_DNS_FAULT_SHORT,      /* message ends inside a header, name or record */
	APP_DNS_FAULT_LABEL_TYPE, /* label length byte 0x40..0xbf (reserved types) */
	APP_DNS_FAULT_POINTER,    /* compression pointer not strictly backwards */
	APP_DNS_FAULT_LOOP,       /* more than APP_DNS_MAX_POINTERS pointers */
	APP_DNS_FAULT_TOO_LONG,   /* name longer than APP_NAME_MAX as text */
	APP_DNS_FAULT_CHARS,      /* a label holds a byte not printable, or a dot */
	APP_DNS_FAULT_COUNT
};

#define APP_DNS_MAX_POINTERS 32

enum app_dns_section { APP_DNS_QUESTION = 0, APP_DNS_ANSWER = 1 };

/* One name seen in a message. name is lower-case dotted text without the
 * final dot ("." for the root), NUL-terminated, valid during the callback. */
struct app_dns_name {
	const char *name;
	size_t len;
	enum app_dns_section section;
	bool in_rdata;   /* answers: the target of a CNAME/NS/PTR/DNAME/MX/SRV */
	uint16_t type;   /* QTYPE or the record's TYPE */
	uint16_t index;  /* position of the record in its section */
};

/* What the header said and how far parsing got. */
struct app_dns_info {
	uint16_t id;
	uint16_t flags;  /* QR, opcode, AA, TC, RD, RA, Z, RCODE as on the wire */
	uint16_t qdcount, ancount;
	uint16_t names;  /* names handed to the callback */
	enum app_dns_fault fault; /* the first fault met, or NONE */
};

struct app_dns_stats {
	uint64_t messages;
	uint64_t names;
	uint64_t faults[APP_DNS_FAULT_COUNT];
	uint64_t tcp_messages;
	uint64_t tcp_nomem;    /* framer buffer could not be had: message skipped */
	uint64_t tcp_gaps;     /* framing lost after a gap: direction abandoned */
};

/* Return false to stop parsing the message. */
typedef bool (*app_dns_name_fn)(void *user, const struct app_dns_name *n);

#define APP_DNS_WANT_ANSWERS 0x1u

/* Parse one DNS message (UDP payload, or a framed TCP message without its
 * length prefix). fn gets every question name and, with APP_DNS_WANT_ANSWERS,
 * the answer names. A name that fails validation is skipped and counted; a
 * fault that breaks the structure stops the parse. Returns CS_OK when the
 * header and every record read were well formed, CS_ERR_FORMAT otherwise
 * (info->fault says why; names before the fault were still reported),
 * CS_ERR_INVALID for a NULL argument. stats and info may be NULL. */
enum cs_err app_dns_parse(const uint8_t *msg, size_t len, unsigned flags,
			  app_dns_name_fn fn, void *user,
			  struct app_dns_info *info, struct app_dns_stats *stats);

/* Read the (possibly compressed) name at msg[off] into out[APP_NAME_BUF] as
 * lower-case dotted text. *next is the offset just after the name in the
 * record (after its first pointer, if any). */
enum app_dns_fault app_dns_name_read(const uint8_t *msg, size_t len, size_t off,
				     size_t *next, char *out, size_t *out_len);

/* TCP DNS framer, one per direction: 2-byte length prefix, then the message.
 * A message wholly inside a fed piece is handed over in place; one spanning
 * pieces is gathered in a 64 KiB buffer allocated at first need. */
struct app_dns_tcp {
	uint8_t *buf;      /* heap, APP_DNS_TCP_BUF bytes, or NULL */
	uint32_t have;     /* bytes of the current message gathered */
	uint32_t need;     /* length of the current message, 0 = reading prefix */
	uint32_t skip;     /* bytes of a message being skipped (no buffer) */
	uint8_t pfx[2];
	uint8_t pfx_have;
	bool dead;         /* sync lost: feed ignores everything */
};

#define APP_DNS_TCP_BUF 65535u

typedef void (*app_dns_msg_fn)(void *user, const uint8_t *msg, size_t len);

void app_dns_tcp_init(struct app_dns_tcp *t);
void app_dns_tcp_fini(struct app_dns_tcp *t);
/* Feed stream bytes; fn gets each complete message (without the prefix).
 * Returns false once the direction is abandoned (the caller may stop). */
bool app_dns_tcp_feed(struct app_dns_tcp *t, const uint8_t *p, size_t n,
		      app_dns_msg_fn fn, void *user, struct app_dns_stats *stats);
/* n stream bytes are missing: framing cannot be trusted any more. */
void app_dns_tcp_gap(struct app_dns_tcp *t, uint64_t n, struct app_dns_stats *stats);

/* ---------------------------------------------------------------- TLS --- */

enum app_tls_status {
	APP_TLS_MORE = 0,     /* keep feeding */
	APP_TLS_DONE,         /* ClientHello parsed: read sni / alpn; stop feeding */
	APP_TLS_NOT_TLS,      /* the bytes are not a TLS handshake: stop feeding */
	APP_TLS_NOT_HELLO,    /* TLS, but the first handshake is not a ClientHello */
	APP_TLS_GAVE_UP,      /* malformed, over the size cap, or a gap: stop */
};

/* ClientHello cap: a hello longer than this is given up on (counted). */
#define APP_TLS_HELLO_CAP 16384u
#define APP_TLS_SNI_RAW 300   /* first bytes of the server_name extension kept */
#define APP_TLS_ALPN_RAW 96   /* first bytes of the ALPN extension kept */

struct app_tls_stats {
	uint64_t hellos;       /* ClientHellos parsed to the end */
	uint64_t sni;          /* of which carried a valid host_name */
	uint64_t not_tls;
	uint64_t not_hello;
	uint64_t too_big;      /* hello over APP_TLS_HELLO_CAP */
	uint64_t malformed;    /* a length field disagrees with its container */
	uint64_t bad_sni;      /* server_name present but not a usable host name */
	uint64_t gaps;
};

/* Per direction (only the client side matters). The ClientHello is walked as
 * a stream: no copy of it is kept, only the SNI and ALPN extension bytes. */
struct app_tls {
	uint32_t hello_len;    /* handshake body length from its header */
	uint32_t hello_pos;    /* handshake bytes consumed (header included) */
	uint32_t skip;         /* handshake bytes to pass over */
	uint16_t rec_left;     /* bytes left in the current record */
	uint16_t ext_left;     /* bytes left in the extensions block */
	uint16_t ext_type;
	uint16_t ext_len;      /* current extension's length */
	uint16_t ext_got;      /* bytes of it kept */
	uint8_t rec_hdr[5];
	uint8_t rec_hdr_have;
	uint8_t step;          /* position in the ClientHello layout */
	uint8_t want;          /* bytes wanted in fld for the current step */
	uint8_t fld_have;
	uint8_t fld[4];
	uint8_t status;        /* enum app_tls_status */
	uint8_t sni_len;       /* 0 = none */
	uint8_t alpn_len;      /* 0 = none */
	char sni[APP_TLS_SNI_RAW];   /* raw extension, then the host name text */
	char alpn[APP_TLS_ALPN_RAW]; /* raw extension, then "h2,http/1.1" */
};

void app_tls_init(struct app_tls *t);
/* Feed client-side stream bytes in order, in pieces of any size. Once the
 * result is not APP_TLS_MORE, further feeds return it unchanged. */
enum app_tls_status app_tls_feed(struct app_tls *t, const uint8_t *p, size_t n,
				 struct app_tls_stats *stats);
void app_tls_gap(struct app_tls *t, uint64_t n, struct app_tls_stats *stats);
/* After APP_TLS_DONE: the host name (lower case, NUL-terminated) or NULL. */
const char *app_tls_sni(const struct app_tls *t, size_t *len);
/* After APP_TLS_DONE: the offered protocols joined by ',' or NULL. Only the
 * protocols within the first APP_TLS_ALPN_RAW bytes of the list are kept. */
const char *app_tls_alpn(const struct app_tls *t, size_t *len);

/* --------------------------------------------------------------- HTTP --- */

/* Content coding removed before hashing. */
enum app_body_enc {
	APP_ENC_IDENTITY = 0,
	APP_ENC_GZIP,
	APP_ENC_DEFLATE,      /* zlib-wrapped or raw: told apart by the first bytes */
	APP_ENC_UNSUPPORTED,  /* br, zstd, lzma ...: hashed as sent */
};

/* Content codings removed at most from one body ("gzip, deflate, gzip"). */
#define APP_BODY_LAYERS 3

/* Flags of a finished body. Any of TRUNCATED's causes means the digests are
 * NOT those of the whole object: never report them as a full-body digest. */
#define APP_BODY_TRUNCATED 0x01u  /* digests cover only part of the body */
#define APP_BODY_GAP 0x02u        /* stream bytes were missing */
#define APP_BODY_CAPPED 0x04u     /* decoded size reached body_cap */
#define APP_BODY_DECODE_ERR 0x08u /* the content coding was corrupt */
#define APP_BODY_CUT 0x10u        /* stream ended before the framing said */
#define APP_BODY_UNDECODED 0x20u  /* coding not supported: digests of sent form */
#define APP_BODY_ENC_DIGESTS 0x40u /* enc_* digests are set (see env flags) */

struct app_body_result {
	enum app_dir dir;
	uint32_t req_seq;        /* request this body belongs to (0-based) */
	unsigned flags;
	enum app_body_enc enc;
	uint64_t decoded_len;    /* bytes hashed */
	uint64_t encoded_len;    /* bytes after removing chunked framing */
	uint64_t wire_len;       /* message-body bytes on the wire */
	uint8_t md5[16], sha1[20], sha256[32];
	/* With APP_HTTP_HASH_ENCODED and a content coding that is decoded: the
	 * digests of the body as sent (after chunked framing, before decoding). */
	uint8_t enc_md5[16], enc_sha1[20], enc_sha256[32];
};

/* A request or response head, valid during the callback. Strings are not
 * NUL-terminated; absent ones have len 0. */
struct app_http_msg {
	enum app_dir dir;
	uint32_t seq;            /* request number; for a response, its request's */
	const char *method; size_t method_len;
	const char *uri; size_t uri_len;
	const char *host; size_t host_len;
	const char *content_type; size_t content_type_len;
	const char *content_encoding; size_t content_encoding_len;
	int version_minor;       /* HTTP/1.x */
	int status;              /* responses */
	int64_t content_length;  /* -1 when absent */
	bool chunked;
};

struct app_http_stats {
	uint64_t requests, responses, bodies;
	uint64_t bodies_truncated;
	uint64_t header_too_long;   /* header block over header_cap: message skipped */
	uint64_t bad_start_line;
	uint64_t bad_framing;       /* bad chunk line, bad Content-Length */
	uint64_t resyncs;           /* times a direction looked for the next message */
	uint64_t gaps;
	uint64_t decode_errors;
	uint64_t capped;
	uint64_t undecoded;         /* bodies with an unsupported content coding */
	uint64_t pipeline_overflow; /* more than 64 requests ahead of responses */
	uint64_t tunnels;           /* CONNECT 2xx or 101: stream no longer HTTP */
	uint64_t nomem;
};

#define APP_HTTP_HASH_ENCODED 0x1u /* also hash bodies in their sent form */
/* Inflate gzip/deflate bodies even when no digest is wanted, so that
 * on_body_data gets the decoded bytes of every coded body (up to body_cap);
 * without it, and with no digest wanted, a coded body reaches on_body_data as
 * sent. If the inflate state cannot be had, the body gets no on_body_data. */
#define APP_HTTP_DECODE_BODIES 0x2u

/* What a worker sets up once: limits, digest algorithms, callbacks. The
 * callbacks get the `user` given to app_http_feed (e.g. the flow). */
struct app_http_env {
	uint32_t header_cap;     /* default 16 KiB, at most 1 MiB */
	uint64_t body_cap;       /* decoded bytes hashed per body, default 256 MiB */
	unsigned flags;
	const struct evp_md_st *md[3]; /* MD5, SHA-1, SHA-256: fetched by _init */
	struct md5_lanes *md5_lanes;   /* MD5 of many bodies side by side, made by
					* _init where the CPU has AVX-512, else NULL;
					* one thread uses the environment */
	void (*on_request)(void *user, const struct app_http_msg *m);
	void (*on_response)(void *user, const struct app_http_msg *m);
	void (*on_body_data)(void *user, enum app_dir dir, const uint8_t *p, size_t n);
	void (*on_body_done)(void *user, const struct app_body_result *r);
	/* The data of a chunk of a chunked body ended (its CRLF read); may be NULL. */
	void (*on_chunk_end)(void *user, enum app_dir dir);
	struct app_http_stats *stats; /* may be NULL */
};

/* Defaults, no callbacks, and the three digest algorithms fetched. */
enum cs_err app_http_env_init(struct app_http_env *e, struct cs_diag *d);
void app_http_env_fini(struct app_http_env *e);

/* Body pipeline of one direction: transfer-decoded bytes in, content coding
 * removed, digests updated as the bytes stream. */
struct body_layer;

struct app_body {
	struct body_layer *layer;         /* heap while a coded body is open: one
					   * per coding, the outermost first */
	struct evp_md_ctx_st *ctx[3];     /* heap from the first body to _fini */
	struct evp_md_ctx_st *enc_ctx[3]; /* same, with APP_HTTP_HASH_ENCODED */
	struct md5_lanes *lanes;          /* the set md5_lane and enc_md5_lane are in */
	uint8_t md5_lane, enc_md5_lane;   /* slot + 1 when MD5 goes there, not to ctx[0] */
	uint64_t decoded_len, encoded_len;
	unsigned flags;
	uint8_t enc;          /* enum app_body_enc: the outermost coding */
	uint8_t n_layer;
	bool open;
	bool hashing;         /* false once capped or broken */
	bool enc_hashing;
	uint32_t z_bytes;     /* heap the inflate engines' states hold */
};

void app_body_init(struct app_body *b);
void app_body_fini(struct app_body *b);
/* Heap bytes b holds (inflate state, digest contexts; app_http_mem). zlib
 * allocates through b, so b must not move while a coded body is open. */
size_t app_body_mem(const struct app_body *b);
/* Start a body; on allocation failure the body is still framed but not
 * hashed (CS_ERR_NOMEM, counted by the caller). */
enum cs_err app_body_begin(struct app_body *b, const struct app_http_env *e,
			   enum app_body_enc enc);
/* The same with the codings of a Content-Encoding list, in the order they
 * were applied (n <= APP_BODY_LAYERS; gzip or deflate each). Each is
 * removed in turn, the last first, and each layer is told by its first
 * bytes (gzip, zlib or raw deflate); a layer named but not there (a
 * "gzip" layer that does not start like gzip, a "deflate" one that fails
 * at once) is passed over, as lenient clients do. */
enum cs_err app_body_begin_layers(struct app_body *b, const struct app_http_env *e,
				  const enum app_body_enc *codings, size_t n);
void app_body_update(struct app_body *b, const struct app_http_env *e, void *user,
		     enum app_dir dir, const uint8_t *p, size_t n);
/* Bytes of the body are missing: what follows cannot be decoded. */
void app_body_gap(struct app_body *b);
/* Close the body: r gets the digests and lengths; extra_flags are or-ed in. */
void app_body_end(struct app_body *b, const struct app_http_env *e,
		  unsigned extra_flags, struct app_body_result *r);

enum app_http_status {
	APP_HTTP_MORE = 0,   /* keep feeding */
	APP_HTTP_STOP,       /* not HTTP, or a tunnel/upgrade: stop feeding */
};

/* One direction's parser. */
struct app_http_half {
	char *hbuf;          /* heap header buffer (lazy; grows by doubling up to header_cap) */
	uint32_t hlen;       /* bytes gathered in hbuf */
	uint32_t hcap;       /* bytes allocated at hbuf */
	uint32_t hseen;      /* header bytes seen for this message (also skipped) */
	uint8_t state;
	uint8_t eoh;         /* end-of-header scanner state */
	uint8_t chunk_line;  /* chunk-size line: 0 digits, 1 extension, 2 CR */
	bool chunk_digits;
	bool started;        /* a message head was accepted on this direction */
	bool body_gap;
	bool body_chunked;   /* the body under way comes in chunks (the head said so,
			      * or, where it was unclear, the body's start) */
	uint16_t trailer_line; /* bytes in the current trailer line */
	uint32_t msgs;       /* heads accepted */
	uint32_t body_seq;
	uint64_t left;       /* body or chunk bytes left */
	uint64_t wire;       /* message-body bytes seen on the wire */
	uint32_t line_len;   /* chunk-size line length, capped */
	struct app_body body;
};

/* Both directions of one flow, with the request methods still awaiting
 * their response (HEAD and CONNECT change the response's framing). */
struct app_http {
	struct app_http_half half[2];
	uint64_t pend_head;     /* bit seq%64: request was HEAD */
	uint64_t pend_connect;  /* bit seq%64: request was CONNECT */
	uint32_t responses;     /* final responses seen */
	bool stopped;
};

void app_http_init(struct app_http *h);
/* Ends any open body (reported as cut) without callbacks, frees heap. */
void app_http_fini(struct app_http *h);

/* Heap bytes h holds now: head buffers, inflate state and digest contexts
 * (those at an estimate of APP_MD_CTX_BYTES each), for a caller that counts
 * its flows' memory against a cap. */
#define APP_MD_CTX_BYTES 512
size_t app_http_mem(const struct app_http *h);
enum app_http_status app_http_feed(struct app_http *h, const struct app_http_env *e,
				   void *user, enum app_dir dir,
				   const uint8_t *p, size_t n);
/* n bytes missing in dir: the open body becomes truncated (APP_BODY_GAP);
 * framing is kept when the gap lies inside a body of known length, else the
 * direction looks for the next message start. */
void app_http_gap(struct app_http *h, const struct app_http_env *e, void *user,
		  enum app_dir dir, uint64_t n);
/* The direction ended (FIN/RST/flow expiry): a read-until-close body is
 * complete; a body still expecting bytes is reported cut. */
void app_http_close(struct app_http *h, const struct app_http_env *e, void *user,
		    enum app_dir dir);

/* URL from a request: absolute-form URIs ("http://x/y") are taken as they
 * are, origin-form ("/y") gets "http://" + host. Scheme and host are lower
 * case. CS_ERR_INVALID without a host for origin-form; CS_ERR_UNSUPPORTED for
 * authority-form (CONNECT) and "*"; CS_ERR_LIMIT when cap is too small. */
enum cs_err app_http_build_url(char *out, size_t cap, size_t *out_len,
			       const char *uri, size_t uri_len,
			       const char *host, size_t host_len);

#endif
