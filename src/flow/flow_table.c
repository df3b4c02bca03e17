/* Flow table (see cybersieve/flow.h).
 *
 * Flows live in one pool of fixed-size slots, addressed by 32-bit index:
 * a bucket array chains them by key hash, and each flow sits on one of four
 * intrusive LRU lists, one per timeout class, so that expiry and eviction
 * only ever look at list tails. Slots are recycled through a free list; the
 * pool is taken once at create time, so steady state allocates nothing but
 * out-of-order pieces (tcp_stream.c), whose bytes share the table's budget.
 * The flow being worked on is marked current and is never chosen to make
 * room, so a callback never sees its own flow vanish. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cybersieve/flow.h"
#include "cybersieve/util.h"

#define FLOW_NIL UINT32_MAX
/* The slots a small capture uses: kept off huge pages (flow_table_create). */
#define FLOW_POOL_SMALL ((size_t)2 << 20)
#define FLOW_ALIGN 16u
/* Flows evicted at most to make room for one out-of-order piece. */
#define FLOW_ROOM_MAX_EVICT 64u
#define FLOW_SEC 1000000000ull
/* Consumer bytes per flow: far above any real need, low enough that slot
 * arithmetic cannot overflow. */
#define FLOW_USER_MAX (1u << 20)

enum flow_state { FLOW_ST_NEW = 0, FLOW_ST_EST, FLOW_ST_CLOSED };

/* Timeout classes, one LRU list each. */
enum flow_lru_class { FLOW_LRU_TCP_NEW = 0, FLOW_LRU_TCP_EST, FLOW_LRU_CLOSED, FLOW_LRU_DGRAM,
		      FLOW_LRU_COUNT };

struct flow {
	struct flow_key key;
	uint32_t hash;
	uint32_t self;          /* slot index */
	uint32_t hnext;         /* bucket chain, or free list */
	uint32_t lru_prev, lru_next;
	uint8_t init_side;      /* key side (0 a, 1 b) of the initiator */
	uint8_t state;          /* enum flow_state */
	uint8_t lru;            /* enum flow_lru_class */
	uint8_t pad_;
	uint64_t first_ts, last_ts;
	uint64_t pkts[2], first_pkt[2], last_pkt[2];
	struct tcp_stream dir[2];
	/* user_size bytes follow at FLOW_USER_OFF */
};

#define FLOW_USER_OFF ((sizeof(struct flow) + FLOW_ALIGN - 1) & ~(size_t)(FLOW_ALIGN - 1))

struct flow_lru {
	uint32_t head, tail;    /* head = most recently used */
};

struct flow_table {
	struct flow_table_config cfg;
	struct flow_callbacks cb;
	uint8_t *pool;
	size_t slot_size;
	uint32_t nslots;
	uint32_t fresh;         /* slots [fresh, nslots) were never used */
	uint32_t free_head;
	uint32_t *bucket;       /* chain heads: slot + 1, 0 for none (util_alloc_zeroed) */
	uint32_t bmask;
	struct flow_lru lru[FLOW_LRU_COUNT];
	uint64_t timeout[FLOW_LRU_COUNT];
	struct flow *current;
	uint64_t next_expire_ns;
	struct tcp_reasm reasm; /* the one budget: buckets, slots, pieces */
	struct flow_stats st;
};

/* Where a direction's ordered bytes go. */
struct flow_sink {
	struct flow_table *ft;
	struct flow *f;
	enum flow_dir dir;
};

void flow_table_config_default(struct flow_table_config *c)
{
	memset(c, 0, sizeof(*c));
	c->mem_cap = 512ull << 20;
	c->max_flows = 1u << 20;
	c->dir_buf_max = 1u << 20;
	c->use_vlan = true;
	c->timeout_tcp_new_ns = 60 * FLOW_SEC;
	c->timeout_tcp_est_ns = 600 * FLOW_SEC;
	c->timeout_closed_ns = 60 * FLOW_SEC;
	c->timeout_udp_ns = 120 * FLOW_SEC;
	c->expire_every_ns = FLOW_SEC;
}

size_t flow_table_slot_size(uint32_t user_size)
{
	return FLOW_USER_OFF + (((size_t)user_size + FLOW_ALIGN - 1) & ~(size_t)(FLOW_ALIGN - 1));
}

static struct flow *flow_at(const struct flow_table *ft, uint32_t idx)
{
	return (struct flow *)(ft->pool + (size_t)idx * ft->slot_size);
}

/* ------------------------------------------------------------- lists --- */

static void lru_unlink(struct flow_table *ft, struct flow *f)
{
	struct flow_lru *l = &ft->lru[f->lru];

	if (f->lru_prev != FLOW_NIL)
		flow_at(ft, f->lru_prev)->lru_next = f->lru_next;
	else
		l->head = f->lru_next;
	if (f->lru_next != FLOW_NIL)
		flow_at(ft, f->lru_next)->lru_prev = f->lru_prev;
	else
		l->tail = f->lru_prev;
}

static void lru_push(struct flow_table *ft, struct flow *f, enum flow_lru_class c)
{
	struct flow_lru *l = &ft->lru[c];

	f->lru = (uint8_t)c;
	f->lru_prev = FLOW_NIL;
	f->lru_next = l->head;
	if (l->head != FLOW_NIL)
		flow_at(ft, l->head)->lru_prev = f->self;
	else
		l->tail = f->self;
	l->head = f->self;
}

static void lru_move(struct flow_table *ft, struct flow *f, enum flow_lru_class c)
{
	lru_unlink(ft, f);
	lru_push(ft, f, c);
}

static struct flow *flow_lookup(const struct flow_table *ft, const struct flow_key *key,
				uint32_t hash)
{
	for (uint32_t i = ft->bucket[hash & ft->bmask] - 1; i != FLOW_NIL;) {
		struct flow *f = flow_at(ft, i);
		if (f->hash == hash && memcmp(&f->key, key, sizeof(*key)) == 0)
			return f;
		i = f->hnext;
	}
	return NULL;
}

static void hash_unlink(struct flow_table *ft, struct flow *f)
{
	uint32_t *head = &ft->bucket[f->hash & ft->bmask];

	if (*head - 1 == f->self) {
		*head = f->hnext + 1; /* FLOW_NIL + 1: empty */
		return;
	}
	struct flow *p = flow_at(ft, *head - 1);
	while (p->hnext != f->self)
		p = flow_at(ft, p->hnext);
	p->hnext = f->hnext;
}

/* ------------------------------------------------------ close/remove --- */

static void flow_sink_data(void *arg, const uint8_t *data, size_t len, uint64_t offset,
			   uint64_t pkt_no, uint64_t ts_ns)
{
	struct flow_sink *s = arg;
	const struct flow_callbacks *cb = &s->ft->cb;

	if (cb->on_data)
		cb->on_data(s->f, s->dir, data, len, offset, pkt_no, ts_ns, cb->ctx);
}

static void flow_sink_gap(void *arg, uint64_t bytes)
{
	struct flow_sink *s = arg;
	const struct flow_callbacks *cb = &s->ft->cb;

	if (cb->on_gap)
		cb->on_gap(s->f, s->dir, bytes, cb->ctx);
}

/* Deliver what is buffered (with gaps), then on_close once. */
static void flow_close(struct flow_table *ft, struct flow *f, enum flow_close reason)
{
	if (f->state == FLOW_ST_CLOSED)
		return;
	for (int d = 0; d < 2; d++) {
		struct flow_sink sk = { ft, f, (enum flow_dir)d };
		struct tcp_sink k = { flow_sink_data, flow_sink_gap, &sk };
		tcp_stream_flush(&f->dir[d], &ft->reasm, &k);
	}
	f->state = FLOW_ST_CLOSED;
	lru_move(ft, f, FLOW_LRU_CLOSED);
	ft->st.closed[reason]++;
	if (ft->cb.on_close)
		ft->cb.on_close(f, reason, ft->cb.ctx);
}

static void flow_remove(struct flow_table *ft, struct flow *f, enum flow_close reason)
{
	flow_close(ft, f, reason);
	tcp_stream_release(&f->dir[0], &ft->reasm);
	tcp_stream_release(&f->dir[1], &ft->reasm);
	lru_unlink(ft, f);
	hash_unlink(ft, f);
	f->hnext = ft->free_head;
	ft->free_head = f->self;
	ft->reasm.mem_used -= ft->slot_size;
	ft->st.flows_active--;
}

/* The flow to give up for room: a closed one first (its consumer is done),
 * else the least recently used tail of any class; never the current flow. */
static struct flow *flow_victim(struct flow_table *ft)
{
	struct flow *best = NULL;

	for (int c = 0; c < FLOW_LRU_COUNT; c++) {
		struct flow *f;
		if (ft->lru[c].tail == FLOW_NIL)
			continue;
		f = flow_at(ft, ft->lru[c].tail);
		if (f == ft->current)
			f = f->lru_prev != FLOW_NIL ? flow_at(ft, f->lru_prev) : NULL;
		if (!f)
			continue;
		if (c == FLOW_LRU_CLOSED)
			return f;
		if (!best || f->last_ts < best->last_ts)
			best = f;
	}
	return best;
}

static bool flow_evict_one(struct flow_table *ft)
{
	struct flow *f = flow_victim(ft);

	if (!f)
		return false;
	flow_remove(ft, f, FLOW_CLOSE_EVICTED);
	ft->st.evictions_cap++;
	return true;
}

/* tcp_reasm.make_room: a piece does not fit the budget. */
static bool flow_make_room(void *arg, uint64_t bytes)
{
	struct flow_table *ft = arg;
	struct tcp_reasm *r = &ft->reasm;

	ft->st.cap_hits++;
	for (unsigned n = 0; r->mem_used + bytes > r->mem_cap && n < FLOW_ROOM_MAX_EVICT; n++)
		if (!flow_evict_one(ft))
			break;
	return r->mem_used + bytes <= r->mem_cap;
}

/* Memory a consumer holds for its flows outside the table (engine stream
 * state) counts against the same cap: make room by evicting other flows. */
bool flow_table_charge(struct flow_table *ft, uint64_t bytes)
{
	struct tcp_reasm *r = &ft->reasm;
	if (r->mem_used + bytes > r->mem_cap && !flow_make_room(ft, bytes))
		return false;
	r->mem_used += bytes;
	if (r->mem_used > r->mem_peak)
		r->mem_peak = r->mem_used;
	return true;
}

void flow_table_charge_soft(struct flow_table *ft, uint64_t bytes)
{
	struct tcp_reasm *r = &ft->reasm;
	r->mem_used += bytes;
	if (r->mem_used > r->mem_peak)
		r->mem_peak = r->mem_used;
}

void flow_table_enforce(struct flow_table *ft)
{
	if (ft->reasm.mem_used > ft->reasm.mem_cap)
		(void)flow_make_room(ft, 0);
}

void flow_table_uncharge(struct flow_table *ft, uint64_t bytes)
{
	struct tcp_reasm *r = &ft->reasm;
	r->mem_used = bytes < r->mem_used ? r->mem_used - bytes : 0;
}

/* -------------------------------------------------------------- create --- */

static uint32_t flow_pow2(uint64_t n)
{
	uint32_t p = 1;
	while (p < n && p < (1u << 31))
		p <<= 1;
	return p;
}

static enum cs_err flow_table_check(const struct flow_table_config *cfg, size_t slot,
				    struct cs_diag *d)
{
	uint64_t min = (uint64_t)flow_pow2(1) * sizeof(uint32_t) + slot;

	if (cfg->max_flows == 0 || cfg->max_flows >= FLOW_NIL) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "flow table: max_flows %u out of range",
			    cfg->max_flows);
		return CS_ERR_INVALID;
	}
	if (cfg->user_size > FLOW_USER_MAX) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE,
			    "flow table: user_size %u above %u", cfg->user_size, FLOW_USER_MAX);
		return CS_ERR_INVALID;
	}
	if (cfg->dir_buf_max == 0) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "flow table: dir_buf_max is 0");
		return CS_ERR_INVALID;
	}
	if (cfg->mem_cap < min) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE,
			    "flow table: memory cap %llu below one flow (%llu bytes)",
			    (unsigned long long)cfg->mem_cap, (unsigned long long)min);
		return CS_ERR_INVALID;
	}
	return CS_OK;
}

/* Bytes of the bucket array. */
static size_t bucket_bytes(const struct flow_table *ft)
{
	return ((size_t)ft->bmask + 1) * sizeof(uint32_t);
}

/* Slots: max_flows, fewer when the cap cannot hold them with their buckets. */
static void flow_table_size(struct flow_table *ft)
{
	uint64_t n = ft->cfg.max_flows;
	uint64_t buckets = flow_pow2(n);

	if (ft->cfg.mem_cap < buckets * sizeof(uint32_t) + ft->slot_size * n) {
		uint64_t room = ft->cfg.mem_cap > buckets * sizeof(uint32_t)
				? ft->cfg.mem_cap - buckets * sizeof(uint32_t) : 0;
		n = room / ft->slot_size;
		if (n == 0)
			n = 1; /* a smaller bucket array below makes room for it */
		buckets = flow_pow2(n);
	}
	ft->nslots = (uint32_t)n;
	ft->bmask = (uint32_t)buckets - 1;
}

enum cs_err flow_table_create(const struct flow_table_config *cfg, const struct flow_callbacks *cb,
			      struct flow_table **out, struct cs_diag *d)
{
	struct flow_table *ft = NULL;
	size_t slot = flow_table_slot_size(cfg->user_size);
	enum cs_err err = flow_table_check(cfg, slot, d);

	*out = NULL;
	if (err != CS_OK)
		return err;
	ft = calloc(1, sizeof(*ft));
	if (!ft)
		goto nomem;
	ft->cfg = *cfg;
	if (cb)
		ft->cb = *cb;
	ft->slot_size = slot;
	flow_table_size(ft);
	/* Zero is an empty bucket (heads are slot + 1): the array's pages cost
	 * nothing until a flow hashes into them, so a small capture does not pay
	 * for the million buckets sized for a large one. */
	ft->bucket = util_alloc_zeroed(bucket_bytes(ft));
	/* Untouched slots cost no resident memory until first used; the pool
	 * lies on huge pages where the kernel allows, so the slots that new flows
	 * take in turn fault in 2 MiB at a time, not a 4 KiB page per flow or two. */
	ft->pool = util_alloc_table((size_t)ft->nslots * slot);
	if (!ft->bucket || !ft->pool)
		goto nomem;
#ifdef MADV_NOHUGEPAGE
	/* But the first 2 MiB of slots on ordinary pages: a capture of a few
	 * flows then touches a page or two, not a huge page zeroed whole for
	 * each worker and each capture. */
	if ((size_t)ft->nslots * slot > FLOW_POOL_SMALL)
		(void)madvise(ft->pool, FLOW_POOL_SMALL, MADV_NOHUGEPAGE);
#endif
	ft->free_head = FLOW_NIL;
	for (int c = 0; c < FLOW_LRU_COUNT; c++)
		ft->lru[c].head = ft->lru[c].tail = FLOW_NIL;
	ft->timeout[FLOW_LRU_TCP_NEW] = cfg->timeout_tcp_new_ns;
	ft->timeout[FLOW_LRU_TCP_EST] = cfg->timeout_tcp_est_ns;
	ft->timeout[FLOW_LRU_CLOSED] = cfg->timeout_closed_ns;
	ft->timeout[FLOW_LRU_DGRAM] = cfg->timeout_udp_ns;
	ft->reasm.mem_cap = cfg->mem_cap;
	ft->reasm.mem_used = bucket_bytes(ft);
	ft->reasm.mem_peak = ft->reasm.mem_used;
	ft->reasm.dir_buf_max = cfg->dir_buf_max;
	ft->reasm.st = &ft->st.tcp;
	ft->reasm.make_room = flow_make_room;
	ft->reasm.room_arg = ft;
	*out = ft;
	return CS_OK;
nomem:
	cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "flow table: cannot allocate %u slots",
		    ft ? ft->nslots : 0);
	flow_table_destroy(ft);
	return CS_ERR_NOMEM;
}

void flow_table_destroy(struct flow_table *ft)
{
	if (!ft)
		return;
	if (ft->pool) {
		for (int c = 0; c < FLOW_LRU_COUNT; c++)
			for (uint32_t i = ft->lru[c].head; i != FLOW_NIL; i = flow_at(ft, i)->lru_next) {
				tcp_stream_release(&flow_at(ft, i)->dir[0], &ft->reasm);
				tcp_stream_release(&flow_at(ft, i)->dir[1], &ft->reasm);
			}
	}
	free(ft->pool);
	util_free_zeroed(ft->bucket, bucket_bytes(ft));
	free(ft);
}

/* ------------------------------------------------------------ packets --- */

static struct flow *flow_new(struct flow_table *ft, const struct flow_key *key, uint32_t hash)
{
	struct tcp_reasm *r = &ft->reasm;
	struct flow *f;
	uint32_t idx;

	if (ft->st.flows_active >= ft->nslots || r->mem_used + ft->slot_size > r->mem_cap) {
		ft->st.cap_hits++;
		while (ft->st.flows_active >= ft->nslots || r->mem_used + ft->slot_size > r->mem_cap)
			if (!flow_evict_one(ft))
				return NULL;
	}
	if (ft->free_head != FLOW_NIL) {
		idx = ft->free_head;
		ft->free_head = flow_at(ft, idx)->hnext;
	} else {
		idx = ft->fresh++;
	}
	f = flow_at(ft, idx);
	memset(f, 0, ft->slot_size);
	f->key = *key;
	f->hash = hash;
	f->self = idx;
	f->hnext = ft->bucket[hash & ft->bmask] - 1;
	ft->bucket[hash & ft->bmask] = idx + 1;
	r->mem_used += ft->slot_size;
	if (r->mem_used > r->mem_peak)
		r->mem_peak = r->mem_used;
	ft->st.flows_created++;
	if (++ft->st.flows_active > ft->st.flows_peak)
		ft->st.flows_peak = ft->st.flows_active;
	return f;
}

static bool flow_has_ports(uint8_t proto)
{
	return proto == 6 || proto == 17 || proto == 132;
}

/* Key side of the initiator, from the flow's first packet: a SYN names it;
 * else (picked up mid-stream) a packet from a well-known port to a higher
 * one is taken as the server's answer. */
static uint8_t flow_initiator(const struct pkt *p, unsigned src_side)
{
	if (p->ip_proto == 6 && (p->tcp_flags & TCP_FLAG_SYN))
		return (uint8_t)((p->tcp_flags & TCP_FLAG_ACK) ? !src_side : src_side);
	if (flow_has_ports(p->ip_proto) && p->sport < 1024 && p->dport >= 1024)
		return (uint8_t)!src_side;
	return (uint8_t)src_side;
}

static struct flow *flow_open(struct flow_table *ft, const struct pkt *p,
			      const struct flow_key *key, uint32_t hash, unsigned side,
			      uint64_t ts_ns)
{
	struct flow *f;

	if (p->ip_proto == 6 && (p->tcp_flags & TCP_FLAG_RST)) {
		ft->st.packets_ignored++; /* nothing to tear down */
		return NULL;
	}
	f = flow_new(ft, key, hash);
	if (!f) {
		ft->st.packets_no_room++;
		return NULL;
	}
	f->init_side = flow_initiator(p, side);
	f->state = FLOW_ST_NEW;
	f->first_ts = f->last_ts = ts_ns;
	tcp_stream_init(&f->dir[0]);
	tcp_stream_init(&f->dir[1]);
	lru_push(ft, f, p->ip_proto == 6 ? FLOW_LRU_TCP_NEW : FLOW_LRU_DGRAM);
	if (ft->cb.on_open)
		ft->cb.on_open(f, ft->cb.ctx);
	return f;
}

/* Payload bytes on the wire when the capture cut the packet short. */
static size_t flow_tcp_wire_len(const struct pkt *p)
{
#ifdef PKT_F_SNAPPED
	if ((p->flags & PKT_F_SNAPPED) && p->l3 && p->l3_len > p->l3_hlen + 12) {
		size_t thl = (size_t)(p->l3[p->l3_hlen + 12] >> 4) * 4;
		if (p->ip_len > p->l3_hlen + thl)
			return p->ip_len - p->l3_hlen - thl;
	}
#endif
	return p->payload_len;
}

/* A reset counts when it lies where the sender's stream is (RFC 5961 asks
 * for more; this keeps a blind reset with a random number from cutting off
 * the rest of a stream). */
static bool flow_rst_plausible(const struct tcp_stream *s, uint32_t seq)
{
	int32_t d = (int32_t)(seq - s->next_seq);

	return !(s->flags & TCP_STREAM_F_KNOWN) || (d >= -1 && d < (1 << 24));
}

static void flow_tcp(struct flow_table *ft, struct flow *f, enum flow_dir dir,
		     const struct pkt *p, uint64_t pkt_no, uint64_t ts_ns)
{
	struct flow_sink sk = { ft, f, dir };
	struct tcp_sink k = { flow_sink_data, flow_sink_gap, &sk };
	struct tcp_seg_in in = { .seq = p->tcp_seq, .flags = p->tcp_flags,
				 .data = p->payload, .len = p->payload ? p->payload_len : 0,
				 .wire_len = flow_tcp_wire_len(p), .pkt_no = pkt_no, .ts_ns = ts_ns };

	if (p->tcp_flags & TCP_FLAG_RST) {
		if (flow_rst_plausible(&f->dir[dir], p->tcp_seq))
			flow_close(ft, f, FLOW_CLOSE_RST);
		else
			ft->st.packets_ignored++;
		return;
	}
	tcp_stream_segment(&f->dir[dir], &ft->reasm, &in, &k);
	if (f->state == FLOW_ST_NEW && dir == FLOW_DIR_S2C) {
		f->state = FLOW_ST_EST;
		lru_move(ft, f, FLOW_LRU_TCP_EST);
	}
	if (tcp_stream_fin_done(&f->dir[0]) && tcp_stream_fin_done(&f->dir[1]))
		flow_close(ft, f, FLOW_CLOSE_FIN);
}

static void flow_dgram(struct flow_table *ft, struct flow *f, enum flow_dir dir,
		       const struct pkt *p, uint64_t pkt_no, uint64_t ts_ns)
{
	if (f->state == FLOW_ST_NEW && dir == FLOW_DIR_S2C)
		f->state = FLOW_ST_EST;
	if (!p->payload || p->payload_len == 0)
		return;
	ft->st.datagrams++;
	if (ft->cb.on_data)
		ft->cb.on_data(f, dir, p->payload, p->payload_len, f->dir[dir].offset, pkt_no,
			       ts_ns, ft->cb.ctx);
	f->dir[dir].offset += p->payload_len;
}

static void flow_account(struct flow_table *ft, struct flow *f, enum flow_dir dir,
			 uint64_t pkt_no, uint64_t ts_ns)
{
	if (f->pkts[dir]++ == 0)
		f->first_pkt[dir] = pkt_no;
	f->last_pkt[dir] = pkt_no;
	if (ts_ns > f->last_ts)
		f->last_ts = ts_ns;
	lru_move(ft, f, (enum flow_lru_class)f->lru);
}

struct flow *flow_table_packet(struct flow_table *ft, const struct pkt *p, uint64_t pkt_no,
			       uint64_t ts_ns, enum flow_dir *dirp)
{
	struct flow_key key;
	unsigned side;
	uint32_t hash;
	struct flow *f;
	enum flow_dir dir;

	ft->st.packets++;
	if (p->flags & PKT_F_FRAGMENT) {
		ft->st.packets_ignored++;
		return NULL;
	}
	if (ts_ns >= ft->next_expire_ns) {
		flow_table_expire(ft, ts_ns);
		ft->next_expire_ns = ts_ns + ft->cfg.expire_every_ns;
	}
	side = flow_key_from_pkt(p, ft->cfg.use_vlan, &key);
	hash = flow_hash_key(&key, ft->cfg.hash_seed);
	f = flow_lookup(ft, &key, hash);
	if (f && f->state == FLOW_ST_CLOSED && p->ip_proto == 6 &&
	    (p->tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN) {
		/* Port reuse: a new connection on a finished one's tuple. */
		flow_remove(ft, f, FLOW_CLOSE_FIN);
		f = NULL;
	}
	if (!f && !(f = flow_open(ft, p, &key, hash, side, ts_ns)))
		return NULL;
	dir = side == f->init_side ? FLOW_DIR_C2S : FLOW_DIR_S2C;
	flow_account(ft, f, dir, pkt_no, ts_ns);
	if (f->state == FLOW_ST_CLOSED) {
		ft->st.packets_ignored++;
	} else {
		ft->current = f;
		if (p->ip_proto == 6)
			flow_tcp(ft, f, dir, p, pkt_no, ts_ns);
		else
			flow_dgram(ft, f, dir, p, pkt_no, ts_ns);
		ft->current = NULL;
	}
	if (dirp)
		*dirp = dir;
	return f;
}

size_t flow_table_expire(struct flow_table *ft, uint64_t now_ns)
{
	size_t n = 0;

	for (int c = 0; c < FLOW_LRU_COUNT; c++) {
		while (ft->lru[c].tail != FLOW_NIL) {
			struct flow *f = flow_at(ft, ft->lru[c].tail);
			if (f == ft->current || now_ns < f->last_ts ||
			    now_ns - f->last_ts < ft->timeout[c])
				break;
			flow_remove(ft, f, FLOW_CLOSE_TIMEOUT);
			ft->st.evictions_timeout++;
			n++;
		}
	}
	return n;
}

void flow_table_flush(struct flow_table *ft)
{
	for (int c = 0; c < FLOW_LRU_COUNT; c++)
		while (ft->lru[c].tail != FLOW_NIL)
			flow_remove(ft, flow_at(ft, ft->lru[c].tail), FLOW_CLOSE_END);
}

void flow_table_stats(const struct flow_table *ft, struct flow_stats *out)
{
	*out = ft->st;
	out->mem_in_use = ft->reasm.mem_used;
	out->mem_peak = ft->reasm.mem_peak;
	out->mem_cap = ft->reasm.mem_cap;
}

/* ----------------------------------------------------------- accessors --- */

void flow_get_tuple(const struct flow *f, struct flow_tuple *out)
{
	const uint8_t *ca = f->init_side ? f->key.addr_b : f->key.addr_a;
	const uint8_t *sa = f->init_side ? f->key.addr_a : f->key.addr_b;

	memset(out, 0, sizeof(*out));
	out->client.family = out->server.family = f->key.family;
	memcpy(out->client.bytes, ca, 16);
	memcpy(out->server.bytes, sa, 16);
	out->client_port = f->init_side ? f->key.port_b : f->key.port_a;
	out->server_port = f->init_side ? f->key.port_a : f->key.port_b;
	out->proto = f->key.proto;
	out->vlan = f->key.vlan;
}

uint8_t flow_proto(const struct flow *f) { return f->key.proto; }
void *flow_user(struct flow *f) { return (uint8_t *)f + FLOW_USER_OFF; }
uint32_t flow_hash(const struct flow *f) { return f->hash; }
uint64_t flow_first_ts(const struct flow *f) { return f->first_ts; }
uint64_t flow_last_ts(const struct flow *f) { return f->last_ts; }
uint64_t flow_packets(const struct flow *f, enum flow_dir dir) { return f->pkts[dir]; }
uint64_t flow_first_pkt(const struct flow *f, enum flow_dir dir) { return f->first_pkt[dir]; }
uint64_t flow_last_pkt(const struct flow *f, enum flow_dir dir) { return f->last_pkt[dir]; }
uint64_t flow_stream_offset(const struct flow *f, enum flow_dir dir) { return f->dir[dir].offset; }
bool flow_is_closed(const struct flow *f) { return f->state == FLOW_ST_CLOSED; }
