/* Front end: `cybersieve scan`. Parses options, loads packs, builds the matcher,
 * expands inputs, opens the evidence folder, runs the batch pipeline, writes the
 * summary and maps the outcome to the exit status. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_keygen.h"
#include "cli_build.h"
#include "cli_common.h"
#include "cli_allow.h"
#include "cli_rules.h"
#include "cybersieve/batch.h"
#include "cybersieve/capture.h"
#include "cybersieve/ingest.h"
#include "cybersieve/manifest.h"
#include "cybersieve/packet.h"
#include "cybersieve/pseudo.h"
#include "cybersieve/summary.h"
#include "cybersieve/util.h"

#define CHUNK_DEFAULT ((size_t)4 << 20)
#define CHUNK_PDQ ((size_t)32 << 20)

struct scan_cfg {
	const char *out;        /* NULL = default folder, "-" = stdout */
	const char *summary_path;
	const char *key_path, *operator_name, *sensor_id;
	const char *pseudo_path;  /* --pseudonymise KEYFILE */
	unsigned threads;
	bool threads_given;     /* --threads N: every input gets N workers */
	unsigned shard_k, shard_n;
	bool strict, quiet;
	size_t context, chunk_size, max_line;
	size_t flow_memory;     /* 0 = the flow table's default */
	struct cli_allow allow; /* --allow FILE */
};

static volatile sig_atomic_t g_stop;
static pthread_mutex_t g_print_mu = PTHREAD_MUTEX_INITIALIZER;
static bool g_progress_shown;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static bool parse_shard(const char *s, unsigned *k, unsigned *n)
{
	unsigned a, b;
	char tail;
	if (sscanf(s, "%u/%u%c", &a, &b, &tail) != 2 || b == 0 || a < 1 || a > b)
		return false;
	*k = a - 1;
	*n = b;
	return true;
}

static void clear_progress(void)
{
	if (g_progress_shown) {
		fputs("\r\033[K", stderr);
		g_progress_shown = false;
	}
}

static void on_event(void *ctx, const struct cs_diag *d)
{
	(void)ctx;
	char tmp[1600];
	cs_diag_format(d, tmp, sizeof(tmp));
	pthread_mutex_lock(&g_print_mu);
	clear_progress();
	fprintf(stderr, "cybersieve: %s\n", tmp);
	pthread_mutex_unlock(&g_print_mu);
}

static void on_progress(void *ctx, const struct batch_progress *p)
{
	(void)ctx;
	double rate = p->seconds > 0 ? (double)p->raw_done / 1e6 / p->seconds : 0;
	pthread_mutex_lock(&g_print_mu);
	if (p->raw_total && p->raw_done <= p->raw_total && rate > 0) {
		double eta = (double)(p->raw_total - p->raw_done) / 1e6 / rate;
		fprintf(stderr, "\r\033[K%.1f of %.1f MB  %.1f MB/s  ETA %.0f s  %llu matches",
			(double)p->raw_done / 1e6, (double)p->raw_total / 1e6, rate, eta,
			(unsigned long long)p->matches);
	} else {
		fprintf(stderr, "\r\033[K%.1f MB  %.1f MB/s  %llu matches", (double)p->raw_done / 1e6,
			rate, (unsigned long long)p->matches);
	}
	g_progress_shown = true;
	pthread_mutex_unlock(&g_print_mu);
}

enum { OPT_RULES = 256, OPT_OUT, OPT_THREADS, OPT_SHARD, OPT_STRICT, OPT_CONTEXT, OPT_CHUNK,
       OPT_MAXLINE, OPT_SUMMARY, OPT_KEY, OPT_OPERATOR, OPT_SENSOR, OPT_FLOWMEM, OPT_PSEUDO,
       OPT_ALLOW };

static const struct option scan_options[] = {
	{"rules", required_argument, NULL, OPT_RULES},
	{"allow", required_argument, NULL, OPT_ALLOW},
	{"out", required_argument, NULL, OPT_OUT},
	{"threads", required_argument, NULL, OPT_THREADS},
	{"shard", required_argument, NULL, OPT_SHARD},
	{"strict", no_argument, NULL, OPT_STRICT},
	{"context", required_argument, NULL, OPT_CONTEXT},
	{"chunk-size", required_argument, NULL, OPT_CHUNK},
	{"max-line", required_argument, NULL, OPT_MAXLINE},
	{"summary", required_argument, NULL, OPT_SUMMARY},
	{"flow-memory", required_argument, NULL, OPT_FLOWMEM},
	{"key", required_argument, NULL, OPT_KEY},
	{"pseudonymise", required_argument, NULL, OPT_PSEUDO},
	{"operator", required_argument, NULL, OPT_OPERATOR},
	{"sensor-id", required_argument, NULL, OPT_SENSOR},
	{"quiet", no_argument, NULL, 'q'},
	{NULL, 0, NULL, 0},
};

static int bad_option(const char *what, const char *value)
{
	fprintf(stderr, "cybersieve scan: invalid %s '%s'\n", what, value);
	return -1;
}

/* Parse options; packs are loaded as their options come. 0 ok, -1 fatal. */
static int parse_args(int argc, char **argv, struct scan_cfg *c, struct cli_rules *r)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	*c = (struct scan_cfg){.threads = ncpu > 0 ? (unsigned)ncpu : 1, .context = 64,
			       .chunk_size = 0, .max_line = 128u << 20};
	/* --strict applies to every pack whatever its position: look ahead for it. */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--strict") == 0)
			c->strict = true;
	int opt;
	size_t v;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+e:f:q", scan_options, NULL)) != -1) {
		switch (opt) {
		case OPT_RULES:
			if (!cli_rules_add_path(r, optarg, c->strict))
				return -1;
			break;
		case 'e':
			if (!cli_rules_add_e(r, optarg, c->strict))
				return -1;
			break;
		case 'f':
			if (!cli_rules_add_f(r, optarg, c->strict))
				return -1;
			break;
		case OPT_ALLOW:
			if (!cli_allow_add(&c->allow, "scan", optarg))
				return -1;
			break;
		case OPT_OUT: c->out = optarg; break;
		case OPT_SUMMARY: c->summary_path = optarg; break;
		case OPT_KEY: c->key_path = optarg; break;
		case OPT_PSEUDO: c->pseudo_path = optarg; break;
		case OPT_OPERATOR: c->operator_name = optarg; break;
		case OPT_SENSOR: c->sensor_id = optarg; break;
		case OPT_STRICT: c->strict = true; break;
		case 'q': c->quiet = true; break;
		case OPT_THREADS:
			if (!cli_parse_size(optarg, &v) || v < 1 || v > 256)
				return bad_option("--threads", optarg);
			c->threads = (unsigned)v;
			c->threads_given = true;
			break;
		case OPT_SHARD:
			if (!parse_shard(optarg, &c->shard_k, &c->shard_n))
				return bad_option("--shard (want K/N with 1 <= K <= N)", optarg);
			break;
		case OPT_CONTEXT:
			if (!cli_parse_size(optarg, &c->context) || c->context > 4096)
				return bad_option("--context (0-4096)", optarg);
			break;
		case OPT_CHUNK:
			if (!cli_parse_size(optarg, &c->chunk_size) || c->chunk_size < 4096 ||
			    c->chunk_size > (1ull << 30))
				return bad_option("--chunk-size (4K-1G)", optarg);
			break;
		case OPT_FLOWMEM:
			if (!cli_parse_size(optarg, &c->flow_memory) || c->flow_memory < (1u << 20))
				return bad_option("--flow-memory (at least 1M)", optarg);
			break;
		case OPT_MAXLINE:
			if (!cli_parse_size(optarg, &c->max_line) || c->max_line < 4096 ||
			    c->max_line > (4ull << 30))
				return bad_option("--max-line (4K-4G)", optarg);
			break;
		default:
			return -1;
		}
	}
	return 0;
}

/* The chunk size when --chunk-size is not given: 4 MiB, a ring of chunks that
 * stays in the caches the workers read it from; 32 MiB when the rules hold PDQ
 * hashes, whose lookups go in one batch per chunk, each batch reading the
 * whole index once (bench/README.md: a log full of PDQ hashes scans in a third
 * of the time it took in 4 MiB chunks). Never past --max-line. */
static void pick_chunk_size(struct scan_cfg *c, const struct matcher *m)
{
	if (!c->chunk_size)
		c->chunk_size = matcher_type_count(m, IND_PDQ) ? CHUNK_PDQ : CHUNK_DEFAULT;
	if (c->max_line < c->chunk_size)
		c->chunk_size = c->max_line;
}

static int exit_code(const struct batch_result *res, size_t n_pack_errors)
{
	if (res->output_failed)
		return CLI_EXIT_FATAL;
	bool trouble = n_pack_errors > 0;
	for (size_t i = 0; i < res->n_inputs; i++)
		trouble |= res->inputs[i].status != INPUT_COMPLETE;
	if (res->matches)
		return trouble ? CLI_EXIT_MATCH_TROUBLE : CLI_EXIT_MATCH;
	return trouble ? CLI_EXIT_NOMATCH_TROUBLE : CLI_EXIT_NOMATCH;
}

struct scan_run {
	struct scan_cfg cfg;
	struct cli_rules rules;
	struct matcher *m;
	struct combo_set *combos;
	struct window_set *windows;
	struct pseudo_key *pseudo;  /* NULL without --pseudonymise */
	struct walk_list inputs;
	struct source *first_src; /* inputs.v[0] opened early; handed to batch_run */
	/* The packet workers' engine scratch, cfg.threads slots, each made when a
	 * capture first has that many workers and lent to every capture's run
	 * (packet_opts.scratch). */
	struct matcher_scratch **pk_scratch;
	struct ev_writer *w;
	struct cli_seal seal;   /* dir_fd -1 with --out - */
	struct batch_result res;
	char run_id[40];
	char started[40], finished[40];
	char out_dir[PATH_MAX];
	char cmdline[8192];
};

/* A hint only (the reader decides by content later): does one of the first
 * inputs start with a capture magic? Gzip files are not opened for this. */
static bool inputs_have_capture(const struct walk_list *l)
{
	for (size_t i = 0; i < l->n && i < 256; i++) {
		if (l->v[i].status != WALK_FILE || strcmp(l->v[i].path, "-") == 0)
			continue;
		/* Only regular files: opening a FIFO would disturb whoever writes to it. */
		struct stat st;
		if (stat(l->v[i].path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		uint8_t head[4];
		int fd = open(l->v[i].path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, head, sizeof(head));
		close(fd);
		if (n == 4 && capture_detect(head, 4) != CAPTURE_FMT_UNKNOWN)
			return true;
	}
	return false;
}

static int prepare(struct scan_run *s, int argc, char **argv)
{
	if (parse_args(argc, argv, &s->cfg, &s->rules) != 0)
		return -1;
	if (!cli_rules_finish(&s->rules))
		return -1;
	if (optind >= argc) {
		fprintf(stderr, "cybersieve scan: no input PATH given (use - for stdin)\n");
		return -1;
	}
	if (s->rules.n == 0) {
		fprintf(stderr, "cybersieve scan: no indicators: give --rules PATH, -e TYPE:VALUE or -f TYPE:FILE\n");
		return -1;
	}
	if (!cli_allow_apply(&s->cfg.allow, "scan", s->rules.packs, s->rules.n))
		return -1;
	struct cs_diag d;
	cs_diag_clear(&d);
	if (s->cfg.pseudo_path && pseudo_key_load(s->cfg.pseudo_path, &s->pseudo, &d) != CS_OK) {
		char tmp[1600];
		cs_diag_format(&d, tmp, sizeof(tmp));
		fprintf(stderr, "cybersieve scan: --pseudonymise: %s\n", tmp);
		return -1;
	}
	struct walk_opts wo = {.shard_k = s->cfg.shard_k, .shard_n = s->cfg.shard_n};
	if (walk_paths((const char *const *)argv + optind, (size_t)(argc - optind), &wo,
		       &s->inputs) != CS_OK) {
		fprintf(stderr, "cybersieve: out of memory listing inputs\n");
		return -1;
	}
	/* Captures need the stream database too: when one is in sight, compile it on
	 * the other core while the block database compiles. */
	unsigned flags = inputs_have_capture(&s->inputs) ? MATCHER_BUILD_STREAM : 0;
	/* Else a large first file starts reading and hashing on the other core
	 * now, while the indicators compile (src/ingest/readahead.h); an error in
	 * opening it is met again, and reported, when it is read. */
	const struct walk_entry *first = s->inputs.n > 0 ? &s->inputs.v[0] : NULL;
	if (!flags && first && first->status == WALK_FILE && strcmp(first->path, "-") != 0 &&
	    first->size > SOURCE_READAHEAD_MIN)
		(void)source_open_ex(first->path, (const volatile int *)&g_stop, &s->first_src,
				     NULL);
	if (cli_build_matcher(&s->rules, s->cfg.strict, flags, &s->m, &s->combos, &s->windows,
			      NULL) != 0)
		return -1;
	pick_chunk_size(&s->cfg, s->m);
	return 0;
}

static int open_output(struct scan_run *s)
{
	struct cs_diag d;
	cs_diag_clear(&d);
	const char *rec = NULL;
	char path[PATH_MAX + 32];
	if (!s->cfg.out || strcmp(s->cfg.out, "-") != 0) {
		bool created;
		int fd = cli_open_evidence_dir(s->cfg.out, s->run_id, s->out_dir,
					       sizeof(s->out_dir), &created);
		if (fd < 0)
			return -1;
		if (cli_seal_init(&s->seal, s->cfg.key_path, fd, s->run_id, s->cfg.quiet) != 0) {
			close(fd);
			return -1;
		}
		(void)path;
	}
	struct ev_writer_opts wo = {.dir_fd = s->seal.dir_fd, .run_id = s->run_id};
	if ((s->seal.dir_fd >= 0 ? ev_writer_create(&wo, &s->w, &d) : ev_writer_open(rec, &s->w, &d)) !=
	    CS_OK) {
		char tmp[1600];
		cs_diag_format(&d, tmp, sizeof(tmp));
		fprintf(stderr, "cybersieve: %s\n", tmp);
		return -1;
	}
	return 0;
}

static void finish(struct scan_run *s, int code)
{
	struct summary_info si = {
		.run_id = s->run_id, .started = s->started, .finished = s->finished,
		.command_line = s->cmdline, .out_dir = s->out_dir[0] ? s->out_dir : NULL,
		.inflate_engine = source_inflate_engine(), .threads = s->cfg.threads,
		.packs = s->rules.packs, .n_packs = s->rules.n, .matcher = s->m,
		.pack_errors = s->rules.errors, .n_pack_errors = s->rules.n_err, .res = &s->res,
		.exit_code = code, .indicators_suppressed = s->cfg.allow.suppressed,
		.windows = s->windows,
	};
	struct jbuf j;
	jbuf_init(&j);
	summary_render_json(&j, &si);
	jbuf_raw(&j, "\n", 1);
	char path[PATH_MAX + 32];
	if (s->out_dir[0]) {
		snprintf(path, sizeof(path), "%s/summary.json", s->out_dir);
		if (j.failed || !cli_write_file(AT_FDCWD, path, j.p, j.len))
			fprintf(stderr, "cybersieve: cannot write %s: %s\n", path, strerror(errno));
	}
	if (s->cfg.summary_path && (j.failed || !cli_write_file(AT_FDCWD, s->cfg.summary_path, j.p, j.len)))
		fprintf(stderr, "cybersieve: cannot write %s: %s\n", s->cfg.summary_path,
			strerror(errno));
	if (!s->cfg.quiet) {
		jbuf_reset(&j);
		summary_render_text(&j, &si);
		if (!j.failed)
			fputs(j.p, stderr);
	}
	jbuf_fini(&j);
}

/* ---- captures met among the inputs: read through the packet pipeline ---- */

/* libpcap reads a FILE*: the bytes batch already took (prefix), then the
 * source's decompressed stream. */
struct cap_cookie {
	struct source *src;
	const uint8_t *prefix;
	size_t n, pos;
	bool failed;
	bool stopped;   /* the failure was a stop asked while waiting on a pipe */
	struct cs_diag d;
};

/* The FILE buffer libpcap reads through: a read this size goes from the
 * descriptor straight into it. */
#define CAP_STREAM_BUF ((size_t)1 << 20)
/* Capture files smaller than this (as stored) get one packet worker unless
 * --threads is given (on_capture). */
#define CAP_ONE_WORKER ((uint64_t)4 << 20)

static ssize_t cap_cookie_read(void *c, char *buf, size_t size)
{
	struct cap_cookie *k = c;
	if (k->pos < k->n) {
		size_t take = k->n - k->pos < size ? k->n - k->pos : size;
		memcpy(buf, k->prefix + k->pos, take);
		k->pos += take;
		return (ssize_t)take;
	}
	if (k->failed)
		return 0;
	size_t got = 0;
	enum cs_err e = source_read(k->src, (uint8_t *)buf, size, &got, &k->d);
	if (e != CS_OK) {
		/* Corrupt gzip, a read error or a stop: the capture ends here, cut short. */
		k->failed = true;
		k->stopped = e == CS_ERR_STOPPED;
		return got ? (ssize_t)got : 0;
	}
	return (ssize_t)got;
}

static int cap_cookie_close(void *c)
{
	(void)c;
	return 0; /* the source belongs to the batch reader */
}

struct cap_sha {
	struct source *src;
	struct batch_input *in;
	bool stopped;   /* a stop came while the rest of a pipe was hashed */
};

static bool cap_sha256(void *ctx, char hex[65])
{
	struct cap_sha *c = ctx;
	struct cs_diag d;
	cs_diag_clear(&d);
	/* source_finish is idempotent: batch calls it again after us. After a
	 * stop it refuses to wait for the rest of a pipe: the digest is unknown. */
	enum cs_err e = source_finish(c->src, c->in->sha256, &d);
	if (e != CS_OK) {
		c->stopped = e == CS_ERR_STOPPED;
		return false;
	}
	c->in->have_sha256 = true;
	util_hex(c->in->sha256, 32, hex);
	return true;
}

static void cap_note(struct batch_input *in, enum input_status st, const struct cs_diag *d)
{
	if (st > in->status)
		in->status = st;
	if (!in->reason && d && d->msg[0]) {
		char tmp[1200];
		cs_diag_format(d, tmp, sizeof(tmp));
		in->reason = strdup(tmp);
	}
}

/* The scratch each of a capture's n workers borrows, made when a capture
 * first needs it; NULL (or a NULL entry) when it cannot be made: the run
 * then makes its own and says why. */
static struct matcher_scratch *const *pk_scratch_lend(struct scan_run *s, unsigned n)
{
	if (!s->pk_scratch)
		s->pk_scratch = calloc(s->cfg.threads, sizeof(*s->pk_scratch));
	for (unsigned i = 0; s->pk_scratch && i < n; i++)
		if (!s->pk_scratch[i]) /* left NULL when it cannot be made */
			(void)matcher_scratch_create(s->m, &s->pk_scratch[i]);
	return (struct matcher_scratch *const *)s->pk_scratch;
}

static void pk_scratch_free(struct scan_run *s)
{
	for (unsigned i = 0; s->pk_scratch && i < s->cfg.threads; i++)
		matcher_scratch_destroy(s->pk_scratch[i]);
	free(s->pk_scratch);
	s->pk_scratch = NULL;
}

static void on_capture(void *ctx, struct source *src, const uint8_t *prefix, size_t n,
		       struct batch_input *in)
{
	struct scan_run *s = ctx;
	struct cap_cookie ck = {.src = src, .prefix = prefix, .n = n};
	cs_diag_clear(&ck.d);
	cookie_io_functions_t io = {.read = cap_cookie_read, .close = cap_cookie_close};
	struct cs_diag d;
	cs_diag_clear(&d);
	struct capture *cap = NULL;
	/* Reads of a megabyte go straight from the source into the stream's
	 * buffer (source_read), not through a few kilobytes copied out of the
	 * source's own. glibc takes a size only with a buffer given, which must
	 * outlive the stream: freed after capture_destroy closes it. */
	char *fbuf = util_alloc_io(CAP_STREAM_BUF);
	FILE *f = fbuf ? fopencookie(&ck, "r", io) : NULL;
	if (f) {
		(void)setvbuf(f, fbuf, _IOFBF, CAP_STREAM_BUF);
		/* one thread reads it (the packet reader): no lock per fread */
		(void)__fsetlocking(f, FSETLOCKING_BYCALLER);
	}
	if (!f || capture_open_file(f, in->path, &cap, &d) != CS_OK) {
		if (!f)
			cs_diag_set(&d, in->path, CS_DIAG_NONE, CS_DIAG_NONE, "cannot open capture stream");
		free(fbuf); /* capture_open_file closed f when it failed */
		cap_note(in, INPUT_FAILED, &d);
		on_event(NULL, &d);
		return;
	}
	struct packet_opts po;
	packet_opts_default(&po);
	/* Without --threads, a capture file under CAP_ONE_WORKER gets one worker:
	 * a second costs more to start (its thread, ring and flow table) than it
	 * saves on so few packets. */
	struct source_info si;
	source_get_info(src, &si);
	bool small = !s->cfg.threads_given && !si.is_stdin && si.raw_size > 0 &&
		     si.raw_size < CAP_ONE_WORKER;
	po.threads = small ? 1 : s->cfg.threads;
	po.context = s->cfg.context;
	po.pseudo = s->pseudo;
	po.run_id = s->run_id;
	po.source_label = in->path;
	po.stop = (const volatile int *)&g_stop;
	po.on_event = on_event;
	po.spill_dir = s->out_dir[0] ? s->out_dir : "/tmp";
	po.combos = s->combos;
	po.scratch = pk_scratch_lend(s, po.threads);
	if (s->cfg.flow_memory)
		po.flow.mem_cap = s->cfg.flow_memory;
	struct packet_stats st = {.ind_matches = s->res.ind_matches};
	struct cap_sha sc = {src, in, false};
	enum cs_err e = packet_run(s->m, cap, s->w, &po, cap_sha256, &sc, &st, &d);
	capture_destroy(cap);
	free(fbuf);
	in->matches += st.matches;
	s->res.matches += st.matches;
	s->res.rule_records += st.rule_records;
	in->bytes += st.bytes;
	in->capture = true;
	in->packets = st.packets;
	in->flows = st.flow.flows_created;
	in->flow_evictions = st.flow.evictions_cap;
	in->flow_mem_peak = st.flow.mem_peak;
	in->flow_mem_cap = st.flow.mem_cap;
	in->workers = po.threads;
	in->tcp_gaps = st.flow.tcp.gaps;
	for (int i = 0; i < DECODE_EV_COUNT; i++)
		if (i != DECODE_EV_NOT_IP)
			in->decode_bad += st.decode.events[i];
	if (ck.failed)
		cap_note(in, INPUT_PARTIAL, &ck.d);
	if (st.read_error)
		cap_note(in, INPUT_PARTIAL, &st.read_diag);
	in->hits_dropped += st.records_dropped; /* summary: matches_dropped */
	if (st.records_dropped) {
		/* Matches beyond the held-records cap were counted, not written. */
		cs_diag_set(&d, in->path, CS_DIAG_NONE, CS_DIAG_NONE,
			    "%llu matches not written: more than the held-records cap",
			    (unsigned long long)st.records_dropped);
		cap_note(in, INPUT_PARTIAL, &d);
	}
	if (ck.stopped || sc.stopped)
		s->res.interrupted = true;
	if (st.stopped) {
		cs_diag_set(&d, in->path, CS_DIAG_NONE, CS_DIAG_NONE, "interrupted before the end");
		cap_note(in, INPUT_PARTIAL, &d);
		s->res.interrupted = true;
	}
	if (e == CS_ERR_IO) {
		s->res.output_failed = true;
		s->res.output_diag = d;
	} else if (e != CS_OK) {
		cap_note(in, INPUT_PARTIAL, &d);
	}
}

/* The signed manifest, once the records are closed; complete is false when
 * the run stopped on an output failure, or a signal left an input unread or
 * read in part (a signal after the last input was read changes nothing). */
static void write_manifest(struct scan_run *s)
{
	if (s->seal.dir_fd < 0)
		return;
	struct ev_manifest_input *in = calloc(s->res.n_inputs + 1, sizeof(*in));
	if (!in) {
		fprintf(stderr, "cybersieve: out of memory writing the manifest\n");
		return;
	}
	for (size_t i = 0; i < s->res.n_inputs; i++) {
		const struct batch_input *b = &s->res.inputs[i];
		in[i] = (struct ev_manifest_input){.path = b->path, .size = b->raw_bytes,
			.have_sha256 = b->have_sha256, .status = input_status_name(b->status),
			.reason = b->reason};
		memcpy(in[i].sha256, b->sha256, 32);
	}
	char host[256];
	cli_seal_host(host, sizeof(host));
	struct ev_manifest m = {
		.run_id = s->run_id, .started = s->started, .finished = s->finished,
		.operator_name = s->cfg.operator_name, .sensor_id = s->cfg.sensor_id, .host = host,
		.command_line = s->cmdline, .fingerprint = s->seal.fingerprint, .inputs = in,
		.n_inputs = s->res.n_inputs, .packs = s->rules.packs, .n_packs = s->rules.n,
		.counts = ev_writer_counts(s->w),
		.complete = !s->res.output_failed && !s->res.interrupted,
	};
	m.n_files = ev_writer_files(s->w, &m.files);
	struct jbuf j;
	jbuf_init(&j);
	ev_manifest_render(&j, &m);
	struct cs_diag d;
	cs_diag_clear(&d);
	if (ev_manifest_put_signed(s->seal.dir_fd, "manifest.json", &j, s->seal.key, &d) != CS_OK) {
		char tmp[1600];
		cs_diag_format(&d, tmp, sizeof(tmp));
		fprintf(stderr, "cybersieve: cannot write the manifest: %s\n", tmp);
		s->res.output_failed = true;
	}
	jbuf_fini(&j);
	free(in);
}

int cli_scan(int argc, char **argv)
{
	struct scan_run *s = calloc(1, sizeof(*s));
	if (!s) {
		fprintf(stderr, "cybersieve: out of memory\n");
		return CLI_EXIT_FATAL;
	}
	int code = CLI_EXIT_FATAL;
	s->seal.dir_fd = -1;
	util_uuid4(s->run_id, sizeof(s->run_id));
	cli_now_rfc3339(s->started, sizeof(s->started));
	cli_command_line(argc, argv, s->cmdline, sizeof(s->cmdline));
	if (prepare(s, argc, argv) != 0 || open_output(s) != 0)
		goto out;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	struct batch_opts bo = {
		.threads = s->cfg.threads, .chunk_size = s->cfg.chunk_size,
		.max_line = s->cfg.max_line, .context = s->cfg.context, .max_text = 4096,
		.pending_cap = 64u << 20, .spill_dir = s->out_dir[0] ? s->out_dir : "/tmp",
		.run_id = s->run_id, .pseudo = s->pseudo, .stop = (const volatile int *)&g_stop,
		.on_event = on_event,
		.on_progress = (!s->cfg.quiet && isatty(STDERR_FILENO)) ? on_progress : NULL,
		.on_capture = on_capture, .cb_ctx = s, .combos = s->combos,
		.windows = s->windows, .first_source = s->first_src,
	};
	s->first_src = NULL; /* batch_run's now */
	if (getenv("TMPDIR") && !s->out_dir[0])
		bo.spill_dir = getenv("TMPDIR");
	enum cs_err e = batch_run(s->m, &s->inputs, s->w, &bo, &s->res);
	pthread_mutex_lock(&g_print_mu);
	clear_progress();
	pthread_mutex_unlock(&g_print_mu);
	if (e != CS_OK) {
		fprintf(stderr, "cybersieve: scan failed: %s\n", cs_err_str(e));
		goto out;
	}
	struct cs_diag d;
	cs_diag_clear(&d);
	if (ev_writer_finish(s->w, &d) != CS_OK && !s->res.output_failed) {
		s->res.output_failed = true;
		s->res.output_diag = d;
	}
	if (s->res.output_failed) {
		char tmp[1600];
		cs_diag_format(&s->res.output_diag, tmp, sizeof(tmp));
		fprintf(stderr, "cybersieve: evidence output failed, run stopped: %s\n", tmp);
	}
	cli_now_rfc3339(s->finished, sizeof(s->finished));
	write_manifest(s);
	ev_writer_close(s->w, NULL);
	s->w = NULL;
	code = exit_code(&s->res, s->rules.n_err);
	finish(s, code);
out:
	ev_writer_close(s->w, NULL);
	cli_seal_fini(&s->seal);
	if (s->seal.dir_fd >= 0)
		close(s->seal.dir_fd);
	batch_result_fini(&s->res);
	source_destroy(s->first_src);
	walk_list_fini(&s->inputs);
	pk_scratch_free(s);
	combo_set_destroy(s->combos);
	window_set_destroy(s->windows);
	matcher_destroy(s->m);
	pseudo_key_destroy(s->pseudo);
	cli_rules_fini(&s->rules);
	free(s);
	return code;
}
