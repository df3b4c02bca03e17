/* Streaming gzip decoding, one member per restart (src/ingest/inflate.h).
 * Both engines are asked to parse the gzip wrapper and verify the trailer
 * themselves (ISA-L: ISAL_GZIP, zlib: windowBits 15+16), so a member ends
 * only after its CRC-32 and ISIZE matched. The struct owns the engine state;
 * one thread at a time. */
#include <stdlib.h>

#include "ingest/inflate.h"

#ifdef CS_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#else
#define ZLIB_CONST
#include <zlib.h>
#endif

/* Both engines count window sizes in 32 bits. */
#define INFLATE_WINDOW_MAX ((size_t)UINT32_MAX)

static size_t inflate_clamp(size_t n)
{
	return n < INFLATE_WINDOW_MAX ? n : INFLATE_WINDOW_MAX;
}

#ifdef CS_HAVE_ISAL

struct inflate_stream {
	struct inflate_state st;
};

const char *inflate_engine_name(void)
{
	return "isa-l";
}

enum cs_err inflate_create(struct inflate_stream **out)
{
	struct inflate_stream *z = malloc(sizeof(*z));

	*out = NULL;
	if (!z)
		return CS_ERR_NOMEM;
	isal_inflate_init(&z->st);
	z->st.crc_flag = ISAL_GZIP;
	*out = z;
	return CS_OK;
}

void inflate_destroy(struct inflate_stream *z)
{
	free(z);
}

void inflate_restart(struct inflate_stream *z)
{
	isal_inflate_reset(&z->st);
	z->st.crc_flag = ISAL_GZIP;
}

static const char *inflate_isal_reason(int ret)
{
	switch (ret) {
	case ISAL_INVALID_BLOCK: return "invalid deflate block";
	case ISAL_INVALID_SYMBOL: return "invalid deflate symbol";
	case ISAL_INVALID_LOOKBACK: return "invalid back-reference distance";
	case ISAL_INVALID_WRAPPER: return "invalid gzip header";
	case ISAL_UNSUPPORTED_METHOD: return "unknown compression method";
	case ISAL_INCORRECT_CHECKSUM: return "CRC-32 or length check failed";
	case ISAL_NEED_DICT: return "preset dictionary required";
	}
	return "inflate error";
}

enum inflate_status inflate_run(struct inflate_stream *z, struct inflate_io *io,
				const char **reason)
{
	size_t in_len = inflate_clamp(io->in_len);
	size_t out_cap = inflate_clamp(io->out_cap);

	/* ISA-L does not write through next_in; its field is just not const. */
	z->st.next_in = (uint8_t *)io->in;
	z->st.avail_in = (uint32_t)in_len;
	z->st.next_out = io->out;
	z->st.avail_out = (uint32_t)out_cap;
	int ret = isal_inflate(&z->st);
	/* After an error ISA-L may hand back more input than it was given. */
	io->in_used = z->st.avail_in <= in_len ? in_len - z->st.avail_in : 0;
	io->out_made = out_cap - z->st.avail_out;
	if (ret < 0 || ret == ISAL_NEED_DICT) {
		*reason = inflate_isal_reason(ret);
		return INFLATE_BAD;
	}
	if (z->st.block_state == ISAL_BLOCK_FINISH)
		return INFLATE_MEMBER_END;
	return INFLATE_MORE;
}

#else /* zlib */

struct inflate_stream {
	z_stream zs;
};

const char *inflate_engine_name(void)
{
	return "zlib";
}

enum cs_err inflate_create(struct inflate_stream **out)
{
	struct inflate_stream *z = calloc(1, sizeof(*z));

	*out = NULL;
	if (!z)
		return CS_ERR_NOMEM;
	/* 15 + 16: gzip wrapper only, so a zlib or raw stream is an error. */
	if (inflateInit2(&z->zs, 15 + 16) != Z_OK) {
		free(z);
		return CS_ERR_NOMEM;
	}
	*out = z;
	return CS_OK;
}

void inflate_destroy(struct inflate_stream *z)
{
	if (!z)
		return;
	inflateEnd(&z->zs);
	free(z);
}

void inflate_restart(struct inflate_stream *z)
{
	inflateReset(&z->zs);
}

enum inflate_status inflate_run(struct inflate_stream *z, struct inflate_io *io,
				const char **reason)
{
	size_t in_len = inflate_clamp(io->in_len);
	size_t out_cap = inflate_clamp(io->out_cap);

	z->zs.next_in = io->in;
	z->zs.avail_in = (uInt)in_len;
	z->zs.next_out = io->out;
	z->zs.avail_out = (uInt)out_cap;
	int ret = inflate(&z->zs, Z_NO_FLUSH);
	io->in_used = in_len - z->zs.avail_in;
	io->out_made = out_cap - z->zs.avail_out;
	switch (ret) {
	case Z_STREAM_END:
		return INFLATE_MEMBER_END;
	case Z_OK:
	case Z_BUF_ERROR: /* no progress possible: needs input or output */
		return INFLATE_MORE;
	case Z_NEED_DICT:
		*reason = "preset dictionary required";
		return INFLATE_BAD;
	case Z_MEM_ERROR:
		*reason = "out of memory";
		return INFLATE_BAD;
	default:
		*reason = z->zs.msg ? z->zs.msg : "inflate error";
		return INFLATE_BAD;
	}
}

#endif
