/* DNS names from a message: question names (and, on request, answer owner
 * and target names) as lower-case dotted text, with compression pointers
 * followed only strictly backwards so that no message can make us loop.
 * Also the TCP framer that cuts a stream into length-prefixed messages.
 * Owner: the caller owns message bytes, framer state and stats; one thread. */
#include <stdlib.h>
#include <string.h>

#include "cybersieve/app.h"

#define DNS_HDR 12
#define DNS_T_NS 2
#define DNS_T_CNAME 5
#define DNS_T_PTR 12
#define DNS_T_MX 15
#define DNS_T_SRV 33
#define DNS_T_DNAME 39

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static bool label_byte_ok(uint8_t c)
{
	return c > 0x20 && c < 0x7f && c != '.';
}

/* Copy one label as lower-case text after a dot when not first. */
static enum app_dns_fault put_label(const uint8_t *lab, size_t n, char *out, size_t *olen)
{
	size_t o = *olen;

	if (o + (o ? 1 : 0) + n > APP_NAME_MAX)
		return APP_DNS_FAULT_TOO_LONG;
	if (o)
		out[o++] = '.';
	for (size_t i = 0; i < n; i++) {
		uint8_t c = lab[i];

		if (!label_byte_ok(c))
			return APP_DNS_FAULT_CHARS;
		out[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	*olen = o;
	return APP_DNS_FAULT_NONE;
}

/* A pointer must land before the start of the labels run that holds it:
 * every jump then lowers `floor`, so the walk ends on any input. A bad
 * character is remembered but the walk goes on so that *next is right. */
enum app_dns_fault app_dns_name_read(const uint8_t *msg, size_t len, size_t off,
				     size_t *next, char *out, size_t *out_len)
{
	size_t pos = off, floor = off, o = 0, after = 0;
	unsigned jumps = 0;
	enum app_dns_fault late = APP_DNS_FAULT_NONE;

	for (;;) {
		if (pos >= len)
			return APP_DNS_FAULT_SHORT;
		uint8_t c = msg[pos];

		if (c == 0) {
			if (!jumps)
				after = pos + 1;
			break;
		}
		if ((c & 0xc0) == 0xc0) {
			if (pos + 1 >= len)
				return APP_DNS_FAULT_SHORT;
			size_t target = ((size_t)(c & 0x3f) << 8) | msg[pos + 1];

			if (!jumps)
				after = pos + 2;
			if (++jumps > APP_DNS_MAX_POINTERS)
				return APP_DNS_FAULT_LOOP;
			if (target >= floor)
				return APP_DNS_FAULT_POINTER;
			pos = floor = target;
			continue;
		}
		if (c & 0xc0)
			return APP_DNS_FAULT_LABEL_TYPE;
		if (pos + 1 + c > len)
			return APP_DNS_FAULT_SHORT;
		enum app_dns_fault f = put_label(msg + pos + 1, c, out, &o);

		if (f == APP_DNS_FAULT_TOO_LONG)
			return f;
		if (f != APP_DNS_FAULT_NONE && late == APP_DNS_FAULT_NONE) {
			late = f;
			/* keep the length check working without the text */
			o += (o ? 1 : 0) + c;
			if (o > APP_NAME_MAX)
				return APP_DNS_FAULT_TOO_LONG;
		}
		pos += 1u + c;
	}
	if (next)
		*next = after;
	if (late != APP_DNS_FAULT_NONE)
		return late;
	if (o == 0)
		out[o++] = '.';
	out[o] = '\0';
	*out_len = o;
	return APP_DNS_FAULT_NONE;
}

struct dns_walk {
	const uint8_t *msg;
	size_t len;
	app_dns_name_fn fn;
	void *user;
	struct app_dns_info *info;
	struct app_dns_stats *stats;
	bool stop;
};

static void note_fault(struct dns_walk *w, enum app_dns_fault f)
{
	if (w->info->fault == APP_DNS_FAULT_NONE)
		w->info->fault = f;
	if (w->stats)
		w->stats->faults[f]++;
}

/* Report a name already read (f is its read result). Returns false when the
 * structure is broken and the message cannot be walked further. */
static bool report_name(struct dns_walk *w, const char *buf, size_t n, enum app_dns_fault f,
			enum app_dns_section sec, bool rdata, uint16_t type, uint16_t idx)
{
	if (f == APP_DNS_FAULT_CHARS) {
		note_fault(w, f);
		return true;
	}
	if (f != APP_DNS_FAULT_NONE) {
		note_fault(w, f);
		return false;
	}
	struct app_dns_name nm = {
		.name = buf, .len = n, .section = sec, .in_rdata = rdata,
		.type = type, .index = idx,
	};
	w->info->names++;
	if (w->stats)
		w->stats->names++;
	if (w->fn && !w->fn(w->user, &nm))
		w->stop = true;
	return true;
}

static bool walk_questions(struct dns_walk *w, size_t *pos)
{
	for (uint16_t i = 0; i < w->info->qdcount && !w->stop; i++) {
		char buf[APP_NAME_BUF];
		size_t next = 0, n = 0;
		enum app_dns_fault f = app_dns_name_read(w->msg, w->len, *pos, &next, buf, &n);

		if (f != APP_DNS_FAULT_NONE && f != APP_DNS_FAULT_CHARS)
			return report_name(w, buf, n, f, APP_DNS_QUESTION, false, 0, i);
		if (next + 4 > w->len) {
			note_fault(w, APP_DNS_FAULT_SHORT);
			return false;
		}
		report_name(w, buf, n, f, APP_DNS_QUESTION, false, rd16(w->msg + next), i);
		*pos = next + 4;
	}
	return true;
}

/* Where in an answer's RDATA a name starts, or 0 when it holds none. */
static size_t rdata_name_skip(uint16_t type, bool *has)
{
	*has = true;
	switch (type) {
	case DNS_T_NS: case DNS_T_CNAME: case DNS_T_PTR: case DNS_T_DNAME:
		return 0;
	case DNS_T_MX:
		return 2;
	case DNS_T_SRV:
		return 6;
	default:
		*has = false;
		return 0;
	}
}

/* The target name inside an answer's RDATA, confined to that RDATA. */
static bool answer_target(struct dns_walk *w, size_t rd, uint16_t rdlen, uint16_t type,
			  uint16_t idx)
{
	bool has;
	size_t skip = rdata_name_skip(type, &has);
	char buf[APP_NAME_BUF];
	size_t next = 0, n = 0;

	if (!has || skip >= rdlen)
		return true;
	enum app_dns_fault f = app_dns_name_read(w->msg, rd + rdlen, rd + skip, &next, buf, &n);

	return report_name(w, buf, n, f, APP_DNS_ANSWER, true, type, idx);
}

static bool walk_answers(struct dns_walk *w, size_t *pos)
{
	for (uint16_t i = 0; i < w->info->ancount && !w->stop; i++) {
		char buf[APP_NAME_BUF];
		size_t next = 0, n = 0;
		enum app_dns_fault f = app_dns_name_read(w->msg, w->len, *pos, &next, buf, &n);

		if (f != APP_DNS_FAULT_NONE && f != APP_DNS_FAULT_CHARS)
			return report_name(w, buf, n, f, APP_DNS_ANSWER, false, 0, i);
		if (next + 10 > w->len) {
			note_fault(w, APP_DNS_FAULT_SHORT);
			return false;
		}
		uint16_t type = rd16(w->msg + next);
		uint16_t rdlen = rd16(w->msg + next + 8);
		size_t rd = next + 10;

		if (rd + rdlen > w->len) {
			note_fault(w, APP_DNS_FAULT_SHORT);
			return false;
		}
		report_name(w, buf, n, f, APP_DNS_ANSWER, false, type, i);
		if (!w->stop && !answer_target(w, rd, rdlen, type, i))
			return false;
		*pos = rd + rdlen;
	}
	return true;
}

enum cs_err app_dns_parse(const uint8_t *msg, size_t len, unsigned flags,
			  app_dns_name_fn fn, void *user,
			  struct app_dns_info *info, struct app_dns_stats *stats)
{
	struct app_dns_info local;

	if (!msg && len)
		return CS_ERR_INVALID;
	if (!info)
		info = &local;
	memset(info, 0, sizeof(*info));
	if (stats)
		stats->messages++;
	struct dns_walk w = {
		.msg = msg, .len = len, .fn = fn, .user = user, .info = info, .stats = stats,
	};
	if (len < DNS_HDR) {
		note_fault(&w, APP_DNS_FAULT_SHORT);
		return CS_ERR_FORMAT;
	}
	info->id = rd16(msg);
	info->flags = rd16(msg + 2);
	info->qdcount = rd16(msg + 4);
	info->ancount = rd16(msg + 6);

	size_t pos = DNS_HDR;

	if (!walk_questions(&w, &pos))
		return CS_ERR_FORMAT;
	if ((flags & APP_DNS_WANT_ANSWERS) && !w.stop && !walk_answers(&w, &pos))
		return CS_ERR_FORMAT;
	return info->fault == APP_DNS_FAULT_NONE ? CS_OK : CS_ERR_FORMAT;
}

/* ------------------------------------------------------------ TCP framer */

void app_dns_tcp_init(struct app_dns_tcp *t)
{
	memset(t, 0, sizeof(*t));
}

void app_dns_tcp_fini(struct app_dns_tcp *t)
{
	if (!t)
		return;
	free(t->buf);
	t->buf = NULL;
}

static void framer_deliver(struct app_dns_tcp *t, const uint8_t *msg, size_t len,
			   app_dns_msg_fn fn, void *user, struct app_dns_stats *stats)
{
	if (stats)
		stats->tcp_messages++;
	if (fn)
		fn(user, msg, len);
	t->need = 0;
	t->have = 0;
	t->pfx_have = 0;
}

/* Gather or skip the body of the current message; returns bytes used. */
static size_t framer_body(struct app_dns_tcp *t, const uint8_t *p, size_t n,
			  app_dns_msg_fn fn, void *user, struct app_dns_stats *stats)
{
	if (t->skip) {
		size_t k = n < t->skip ? n : t->skip;

		t->skip -= (uint32_t)k;
		if (!t->skip) {
			t->need = 0;
			t->pfx_have = 0;
		}
		return k;
	}
	if (t->have == 0 && n >= t->need) {
		framer_deliver(t, p, t->need, fn, user, stats);
		return 0; /* caller advances by the length it saw */
	}
	if (!t->buf) {
		t->buf = malloc(APP_DNS_TCP_BUF);
		if (!t->buf) {
			if (stats)
				stats->tcp_nomem++;
			t->skip = t->need;
			return 0;
		}
	}
	size_t k = t->need - t->have;

	if (k > n)
		k = n;
	memcpy(t->buf + t->have, p, k);
	t->have += (uint32_t)k;
	if (t->have == t->need)
		framer_deliver(t, t->buf, t->need, fn, user, stats);
	return k;
}

bool app_dns_tcp_feed(struct app_dns_tcp *t, const uint8_t *p, size_t n,
		      app_dns_msg_fn fn, void *user, struct app_dns_stats *stats)
{
	while (n && !t->dead) {
		if (t->pfx_have < 2) {
			t->pfx[t->pfx_have++] = *p++;
			n--;
			if (t->pfx_have == 2) {
				t->need = rd16(t->pfx);
				if (t->need == 0)
					t->pfx_have = 0; /* empty message: nothing to hand over */
			}
			continue;
		}
		uint32_t need = t->need;
		bool whole = t->have == 0 && !t->skip && n >= need;
		size_t used = framer_body(t, p, n, fn, user, stats);

		if (whole)
			used = need;
		p += used;
		n -= used;
	}
	return !t->dead;
}

void app_dns_tcp_gap(struct app_dns_tcp *t, uint64_t n, struct app_dns_stats *stats)
{
	if (!n || t->dead)
		return;
	/* a gap inside a message of known length keeps the framing: the
	 * message is lost, the next prefix is where the framing says */
	if (t->pfx_have == 2 && t->need && !t->skip && n <= (uint64_t)(t->need - t->have)) {
		t->skip = t->need - t->have - (uint32_t)n;
		t->have = 0;
		if (!t->skip) {
			t->need = 0;
			t->pfx_have = 0;
		}
		return;
	}
	if (stats)
		stats->tcp_gaps++;
	t->dead = true;
}
