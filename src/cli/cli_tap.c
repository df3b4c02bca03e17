/* Front end: `cybersieve tap`. Opens a live interface, creates the evidence
 * folder, drops root to --user, then runs the packet pipeline until SIGINT,
 * SIGTERM or --duration; prints the kernel's received/dropped counters as it
 * goes and at the end, and writes summary.json. SIGHUP reads the rules again
 * (cli_tap_rules.c) while the capture goes on.
 *
 * The signal handlers only set g_stop and wake the capture (capture_breakloop
 * is async-signal-safe); SIGHUP is blocked in every thread and taken with
 * sigwait() by the reload thread. Everything else runs on the main thread, or
 * on the pipeline's threads through the on_event/on_stats callbacks; all of
 * them print under g_print_mu. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_keygen.h"
#include "cli_common.h"
#include "cli_rules.h"
#include "cli_tap_rules.h"
#include "cybersieve/manifest.h"
#include "cybersieve/packet.h"
#include "cybersieve/pseudo.h"
#include "cybersieve/util.h"

#define TAP_SNAPLEN_DEFAULT 262144
#define TAP_BUFSIZE_DEFAULT (64 << 20)

struct tap_cfg {
	const char *iface;
	const char *bpf;
	const char *out;        /* NULL = default folder, "-" = stdout */
	const char *user;
	const char *key_path, *operator_name, *sensor_id;
	const char *pseudo_path;  /* --pseudonymise KEYFILE */
	uint64_t rotate_bytes;
	double rotate_seconds;
	int snaplen, bufsize;
	double duration;        /* seconds; 0 = until a signal */
	double stats_interval;
	uint64_t flow_memory;   /* 0 = the flow table's default */
	unsigned threads;
	size_t context;
	bool strict, quiet, promisc;
	/* --rules, -e, -f, --allow in command-line order: read only after root is
	 * dropped, since feeds are hostile input, and again on SIGHUP. */
	struct tap_rules_src src;
};

/* The account --user names, looked up before anything is opened. */
struct tap_user {
	uid_t uid;
	gid_t gid;
	char name[256];
};

/* Signal state: written by handlers, read by the pipeline and main thread. */
static volatile sig_atomic_t g_stop;
static volatile sig_atomic_t g_stop_sig;
static struct capture *volatile g_cap;
static pthread_mutex_t g_print_mu = PTHREAD_MUTEX_INITIALIZER;

static void on_signal(int sig)
{
	g_stop_sig = sig;
	g_stop = 1;
	struct capture *c = g_cap;
	if (c)
		capture_breakloop(c);
}

static bool parse_seconds(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0) || v > 1e9)
		return false;
	*out = v;
	return true;
}

static void on_event(void *ctx, const struct cs_diag *d)
{
	(void)ctx;
	char tmp[1600];
	cs_diag_format(d, tmp, sizeof(tmp));
	pthread_mutex_lock(&g_print_mu);
	fprintf(stderr, "cybersieve: %s\n", tmp);
	pthread_mutex_unlock(&g_print_mu);
}

static void print_stats(const struct packet_stats *st)
{
	pthread_mutex_lock(&g_print_mu);
	fprintf(stderr, "received %llu dropped %llu if_dropped %llu packets %llu matches %llu\n",
		(unsigned long long)st->pcap_received, (unsigned long long)st->pcap_dropped,
		(unsigned long long)st->pcap_if_dropped, (unsigned long long)st->packets,
		(unsigned long long)st->matches);
	pthread_mutex_unlock(&g_print_mu);
}

static void on_stats(void *ctx, const struct packet_stats *st)
{
	const struct tap_cfg *c = ctx;
	if (!c->quiet)
		print_stats(st);
}

enum { OPT_RULES = 256, OPT_OUT, OPT_THREADS, OPT_STRICT, OPT_CONTEXT, OPT_BPF, OPT_SNAPLEN,
       OPT_BUFSIZE, OPT_DURATION, OPT_USER, OPT_STATS, OPT_FLOWMEM, OPT_NOPROMISC, OPT_KEY,
       OPT_OPERATOR, OPT_SENSOR, OPT_ROTSIZE, OPT_ROTTIME, OPT_PSEUDO, OPT_ALLOW };

static const struct option tap_options[] = {
	{"rules", required_argument, NULL, OPT_RULES},
	{"allow", required_argument, NULL, OPT_ALLOW},
	{"out", required_argument, NULL, OPT_OUT},
	{"threads", required_argument, NULL, OPT_THREADS},
	{"strict", no_argument, NULL, OPT_STRICT},
	{"context", required_argument, NULL, OPT_CONTEXT},
	{"interface", required_argument, NULL, 'i'},
	{"bpf", required_argument, NULL, OPT_BPF},
	{"snaplen", required_argument, NULL, OPT_SNAPLEN},
	{"buffer-size", required_argument, NULL, OPT_BUFSIZE},
	{"duration", required_argument, NULL, OPT_DURATION},
	{"user", required_argument, NULL, OPT_USER},
	{"stats-interval", required_argument, NULL, OPT_STATS},
	{"flow-memory", required_argument, NULL, OPT_FLOWMEM},
	{"no-promisc", no_argument, NULL, OPT_NOPROMISC},
	{"key", required_argument, NULL, OPT_KEY},
	{"pseudonymise", required_argument, NULL, OPT_PSEUDO},
	{"operator", required_argument, NULL, OPT_OPERATOR},
	{"sensor-id", required_argument, NULL, OPT_SENSOR},
	{"rotate-size", required_argument, NULL, OPT_ROTSIZE},
	{"rotate-time", required_argument, NULL, OPT_ROTTIME},
	{"quiet", no_argument, NULL, 'q'},
	{NULL, 0, NULL, 0},
};

static int bad_option(const char *what, const char *value)
{
	fprintf(stderr, "cybersieve tap: invalid %s '%s'\n", what, value);
	return -1;
}

/* Options whose value is a number or a duration. 1 handled, 0 not ours, -1 bad. */
static int parse_value(int opt, const char *arg, struct tap_cfg *c)
{
	uint64_t v;
	switch (opt) {
	case OPT_THREADS:
		if (!cli_parse_size(arg, &v) || v < 1 || v > 256)
			return bad_option("--threads (1-256)", arg);
		c->threads = (unsigned)v;
		return 1;
	case OPT_CONTEXT:
		if (!cli_parse_size(arg, &v) || v > 4096)
			return bad_option("--context (0-4096)", arg);
		c->context = (size_t)v;
		return 1;
	case OPT_SNAPLEN:
		if (!cli_parse_size(arg, &v) || v < 64 || v > 262144)
			return bad_option("--snaplen (64-262144)", arg);
		c->snaplen = (int)v;
		return 1;
	case OPT_BUFSIZE:
		if (!cli_parse_size(arg, &v) || v < (64u << 10) || v > (1ull << 30))
			return bad_option("--buffer-size (64K-1G)", arg);
		c->bufsize = (int)v;
		return 1;
	case OPT_FLOWMEM:
		if (!cli_parse_size(arg, &v) || v < (1u << 20))
			return bad_option("--flow-memory (at least 1M)", arg);
		c->flow_memory = v;
		return 1;
	case OPT_DURATION:
		if (!parse_seconds(arg, &c->duration) || c->duration <= 0)
			return bad_option("--duration (seconds > 0)", arg);
		return 1;
	case OPT_ROTSIZE:
		if (!cli_parse_size(arg, &v) || v < 1)
			return bad_option("--rotate-size (bytes > 0)", arg);
		c->rotate_bytes = v;
		return 1;
	case OPT_ROTTIME:
		if (!parse_seconds(arg, &c->rotate_seconds) || c->rotate_seconds <= 0)
			return bad_option("--rotate-time (seconds > 0)", arg);
		return 1;
	case OPT_STATS:
		if (!parse_seconds(arg, &c->stats_interval))
			return bad_option("--stats-interval (seconds, 0 = off)", arg);
		return 1;
	default:
		return 0;
	}
}

/* Parse options; packs are only noted here (load_rules reads them). 0 ok, -1 fatal. */
static int parse_args(int argc, char **argv, struct tap_cfg *c)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	*c = (struct tap_cfg){.threads = ncpu > 0 ? (unsigned)ncpu : 1, .context = 64,
			      .snaplen = TAP_SNAPLEN_DEFAULT, .bufsize = TAP_BUFSIZE_DEFAULT,
			      .stats_interval = 10, .promisc = true};
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--strict") == 0)
			c->strict = true;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+i:e:f:q", tap_options, NULL)) != -1) {
		int rc = parse_value(opt, optarg, c);
		if (rc < 0)
			return -1;
		if (rc > 0)
			continue;
		switch (opt) {
		case OPT_RULES:
		case 'e':
		case 'f':
		case OPT_ALLOW:
			if (c->src.n == TAP_RULES_MAX_ARGS)
				return bad_option("rule option (too many --rules/-e/-f/--allow)", optarg);
			c->src.kind[c->src.n] = opt == OPT_RULES ? TAP_SRC_RULES
					      : opt == 'e'      ? TAP_SRC_E
					      : opt == 'f'      ? TAP_SRC_F
								: TAP_SRC_ALLOW;
			c->src.arg[c->src.n++] = optarg;
			break;
		case 'i': c->iface = optarg; break;
		case OPT_BPF: c->bpf = optarg; break;
		case OPT_OUT: c->out = optarg; break;
		case OPT_USER: c->user = optarg; break;
		case OPT_KEY: c->key_path = optarg; break;
		case OPT_PSEUDO: c->pseudo_path = optarg; break;
		case OPT_OPERATOR: c->operator_name = optarg; break;
		case OPT_SENSOR: c->sensor_id = optarg; break;
		case OPT_STRICT: c->strict = true; break;
		case OPT_NOPROMISC: c->promisc = false; break;
		case 'q': c->quiet = true; break;
		default:
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "cybersieve tap: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!c->iface) {
		fprintf(stderr, "cybersieve tap: no interface given (-i IFACE)\n");
		return -1;
	}
	c->src.strict = c->strict;
	return 0;
}

static int lookup_user(const char *name, struct tap_user *u)
{
	errno = 0;
	struct passwd *pw = getpwnam(name);
	if (!pw) {
		fprintf(stderr, "cybersieve tap: --user %s: %s\n", name,
			errno ? strerror(errno) : "no such user");
		return -1;
	}
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	snprintf(u->name, sizeof(u->name), "%s", pw->pw_name);
	if (u->uid == 0) {
		fprintf(stderr, "cybersieve tap: --user %s is root; name an unprivileged account\n",
			name);
		return -1;
	}
	if (geteuid() != 0 && geteuid() != u->uid) {
		fprintf(stderr, "cybersieve tap: --user %s needs to be started as root\n", name);
		return -1;
	}
	return 0;
}

/* Give the evidence to u, then become u for good. The device and the records
 * file are already open, so they stay usable. */
static int drop_root(const struct tap_user *u, int out_fd, const char *out_dir,
		     const char *first_records)
{
	if (geteuid() != 0)
		return 0; /* already u (checked in lookup_user) */
	if (out_fd >= 0 && (fchown(out_fd, u->uid, u->gid) != 0 ||
			    fchownat(out_fd, first_records, u->uid, u->gid, 0) != 0 ||
			    fchownat(out_fd, "key.pub.pem", u->uid, u->gid, 0) != 0)) {
		fprintf(stderr, "cybersieve tap: cannot give %s to %s: %s\n", out_dir, u->name,
			strerror(errno));
		return -1;
	}
	if (initgroups(u->name, u->gid) != 0 || setgid(u->gid) != 0 || setuid(u->uid) != 0) {
		fprintf(stderr, "cybersieve tap: cannot become %s: %s\n", u->name, strerror(errno));
		return -1;
	}
	/* A saved set-user-ID of 0 would let the process take root back. */
	if (setuid(0) == 0 || seteuid(0) == 0 || getuid() != u->uid || geteuid() != u->uid ||
	    getgid() != u->gid || getegid() != u->gid) {
		fprintf(stderr, "cybersieve tap: could still regain root after becoming %s; stopping\n",
			u->name);
		return -1;
	}
	return 0;
}

/* Create the evidence folder: new, or existing without evidence in it. */
struct tap_run {
	struct tap_cfg cfg;
	struct tap_user user;
	struct tap_reload rl;   /* the rules in force and their history */
	bool rl_ready;
	struct pseudo_key *pseudo;  /* NULL without --pseudonymise */
	struct capture *cap;
	struct ev_writer *w;
	struct cli_seal seal;   /* signs the manifest and each rotated file's seal */
	int out_fd;             /* the evidence folder, -1 with --out - */
	struct packet_stats st;
	bool output_failed, run_failed;
	char stopped_by[32];
	char run_id[40];
	char started[40], finished[40];
	double t_start, t_end;
	char out_dir[PATH_MAX];
	char cmdline[8192];
};

/* SIGHUP is taken by the reload thread alone (sigwait): blocked here, before
 * any thread starts, so every thread inherits the mask and a SIGHUP sent
 * during start-up waits for that thread. */
static void install_signals(void)
{
	sigset_t hup;
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &hup, NULL);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
}

static int open_capture(struct tap_run *s)
{
	struct capture_live_opts lo = {
		.iface = s->cfg.iface, .snaplen = s->cfg.snaplen, .bufsize = s->cfg.bufsize,
		.promisc = s->cfg.promisc, .bpf = s->cfg.bpf,
	};
	struct cs_diag d;
	cs_diag_clear(&d);
	if (capture_open_live(&lo, &s->cap, &d) != CS_OK) {
		char tmp[1600];
		cs_diag_format(&d, tmp, sizeof(tmp));
		fprintf(stderr, "cybersieve: %s\n", tmp);
		return -1;
	}
	g_cap = s->cap;
	return 0;
}

static int open_output(struct tap_run *s)
{
	struct cs_diag d;
	cs_diag_clear(&d);
	const char *rec = NULL;
	char path[PATH_MAX + 32];
	if (!s->cfg.out || strcmp(s->cfg.out, "-") != 0) {
		bool created;
		s->out_fd = cli_open_evidence_dir(s->cfg.out, s->run_id, s->out_dir,
						  sizeof(s->out_dir), &created);
		if (s->out_fd < 0)
			return -1;
		/* A folder handed to --user must be one this run made, or already theirs:
		 * never give away a folder someone else owns. */
		struct stat st;
		if (s->cfg.user && !created &&
		    (fstat(s->out_fd, &st) != 0 || st.st_uid != s->user.uid)) {
			fprintf(stderr,
				"cybersieve tap: %s exists and is not owned by %s; with --user give a new --out folder\n",
				s->out_dir, s->cfg.user);
			return -1;
		}
		if (cli_seal_init(&s->seal, s->cfg.key_path, s->out_fd, s->run_id, s->cfg.quiet) != 0)
			return -1;
		(void)path;
	}
	struct ev_writer_opts wo = {.dir_fd = s->out_fd, .run_id = s->run_id,
				    .rotate_bytes = s->cfg.rotate_bytes,
				    .rotate_seconds = s->cfg.rotate_seconds,
				    .on_seal = cli_seal_file, .seal_ctx = &s->seal};
	if ((s->out_fd >= 0 ? ev_writer_create(&wo, &s->w, &d) : ev_writer_open(rec, &s->w, &d)) !=
	    CS_OK) {
		char tmp[1600];
		cs_diag_format(&d, tmp, sizeof(tmp));
		fprintf(stderr, "cybersieve: %s\n", tmp);
		return -1;
	}
	return 0;
}

static void start_timer(double seconds)
{
	if (seconds <= 0)
		return;
	struct itimerval it = {0};
	it.it_value.tv_sec = (time_t)seconds;
	it.it_value.tv_usec = (suseconds_t)((seconds - (double)it.it_value.tv_sec) * 1e6);
	if (it.it_value.tv_sec == 0 && it.it_value.tv_usec == 0)
		it.it_value.tv_usec = 1;
	setitimer(ITIMER_REAL, &it, NULL);
}

/* Start-up in the order that keeps privileges shortest: the user is checked
 * first, the device and files are opened as root, then root is dropped before
 * any indicator file is read or any packet is looked at. */
static int prepare(struct tap_run *s, int argc, char **argv)
{
	if (parse_args(argc, argv, &s->cfg) != 0)
		return -1;
	if (s->cfg.user && lookup_user(s->cfg.user, &s->user) != 0)
		return -1;
	struct cs_diag d;
	cs_diag_clear(&d);
	if (s->cfg.pseudo_path && pseudo_key_load(s->cfg.pseudo_path, &s->pseudo, &d) != CS_OK) {
		char tmp[1600];
		cs_diag_format(&d, tmp, sizeof(tmp));
		fprintf(stderr, "cybersieve tap: --pseudonymise: %s\n", tmp);
		return -1;
	}
	if (open_capture(s) != 0 || open_output(s) != 0)
		return -1;
	const struct ev_chain_file *files;
	if (s->cfg.user && ev_writer_files(s->w, &files) &&
	    drop_root(&s->user, s->out_fd, s->out_dir, files[0].name) != 0)
		return -1;
	/* Indicator files are read and compiled as the unprivileged user; the
	 * kernel buffers the packets that arrive meanwhile. */
	struct tap_rules first = {.m = NULL};
	if (tap_rules_load(&s->cfg.src, false, &first, NULL, 0) != 0) {
		tap_rules_fini(&first);
		return -1;
	}
	int rc = tap_reload_init(&s->rl, &s->cfg.src, &first, &g_print_mu, s->cfg.quiet);
	s->rl_ready = true; /* holds the rules even when init failed */
	return rc;
}

static void run_pipeline(struct tap_run *s)
{
	struct packet_opts o;
	packet_opts_default(&o);
	o.threads = s->cfg.threads;
	o.context = s->cfg.context;
	o.pseudo = s->pseudo;
	o.run_id = s->run_id;
	o.source_label = s->cfg.iface;
	o.live = true;
	o.stop = (const volatile int *)&g_stop;
	o.stats_interval = s->cfg.stats_interval;
	o.on_event = on_event;
	o.on_stats = on_stats;
	o.cb_ctx = &s->cfg;
	o.spill_dir = s->out_dir[0] ? s->out_dir : NULL;
	if (s->cfg.flow_memory)
		o.flow.mem_cap = s->cfg.flow_memory;
	if (!o.spill_dir)
		o.spill_dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	struct cs_diag d;
	cs_diag_clear(&d);
	char from[40];
	cli_now_rfc3339(from, sizeof(from));
	/* Taken before the reload thread starts: from then on it owns s->rl. */
	const struct matcher *first = s->rl.cur.m;
	o.combos = s->rl.cur.combos;
	struct packet_swap *sw = NULL;
	if (packet_swap_create(&sw) == CS_OK && tap_reload_start(&s->rl, sw, from) == 0)
		o.swap = sw;
	else
		fprintf(stderr, "cybersieve tap: SIGHUP will not reload the rules in this run\n");
	s->t_start = util_now_mono();
	start_timer(s->cfg.duration);
	enum cs_err e = packet_run(first, s->cap, s->w, &o, NULL, NULL, &s->st, &d);
	s->t_end = util_now_mono();
	/* A reload under way is refused or finished before the thread ends. */
	packet_swap_close(sw);
	tap_reload_stop(&s->rl);
	packet_swap_destroy(sw);
	if (e != CS_OK) {
		char tmp[1600];
		cs_diag_format(&d, tmp, sizeof(tmp));
		fprintf(stderr, "cybersieve: capture stopped: %s: %s\n", cs_err_str(e), tmp);
		s->run_failed = true;
		s->output_failed = e == CS_ERR_IO;
	}
	int sig = g_stop_sig;
	snprintf(s->stopped_by, sizeof(s->stopped_by), "%s",
		 sig == SIGALRM ? "duration" : sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM"
		 : e != CS_OK ? "error" : s->st.read_error ? "capture error" : "capture end");
}

/* Final kernel counters, read before the capture is closed. */
static void final_counters(struct tap_run *s)
{
	struct capture_stats cs;
	struct cs_diag d;
	cs_diag_clear(&d);
	if (capture_stats(s->cap, &cs, &d) == CS_OK && cs.have_kernel) {
		s->st.pcap_received = cs.kernel_recv;
		s->st.pcap_dropped = cs.kernel_drop;
		s->st.pcap_if_dropped = cs.kernel_ifdrop;
	}
}

static void render_packs(struct jbuf *j, const struct tap_run *s)
{
	char hex[65];
	json_key(j, "packs");
	json_arr_open(j);
	const struct cli_rules *r = &s->rl.cur.rules;
	for (size_t p = 0; p < r->n; p++) {
		const struct pack *pk = r->packs[p];
		json_obj_open(j);
		json_kv_str(j, "name", pk->name);
		json_kv_str(j, "path", pk->path);
		json_kv_str(j, "category", pk->category);
		util_hex(pk->digest, 32, hex);
		json_kv_str(j, "sha256", hex);
		json_kv_u64(j, "indicators", pk->n_ind);
		json_kv_str(j, "tlp", pk->tlp);
		json_obj_close(j);
	}
	json_arr_close(j);
	json_key(j, "pack_errors");
	json_arr_open(j);
	for (size_t i = 0; i < s->rl.n_err; i++)
		json_elem_str(j, s->rl.errors[i].where);
	json_arr_close(j);
	json_key(j, "reloads");
	json_obj_open(j);
	json_kv_u64(j, "applied", s->rl.applied);
	json_kv_u64(j, "failed", s->rl.failed);
	json_obj_close(j);
}

static void render_capture(struct jbuf *j, const struct tap_run *s)
{
	const struct packet_stats *st = &s->st;
	json_key(j, "capture");
	json_obj_open(j);
	json_kv_str(j, "interface", s->cfg.iface);
	json_kv_str(j, "bpf", s->cfg.bpf);
	json_kv_i64(j, "snaplen", s->cfg.snaplen);
	json_kv_i64(j, "buffer_size", s->cfg.bufsize);
	json_kv_bool(j, "promisc", s->cfg.promisc);
	json_kv_u64(j, "received", st->pcap_received);
	json_kv_u64(j, "dropped", st->pcap_dropped);
	json_kv_u64(j, "if_dropped", st->pcap_if_dropped);
	json_kv_u64(j, "packets", st->packets);
	json_kv_u64(j, "bytes", st->bytes);
	json_obj_close(j);
	json_key(j, "decode");
	json_obj_open(j);
	json_kv_u64(j, "packets", st->decode.packets);
	json_kv_u64(j, "decoded", st->decode.decoded);
	json_key(j, "events");
	json_obj_open(j);
	for (int ev = 0; ev < DECODE_EV_COUNT; ev++)
		if (st->decode.events[ev])
			json_kv_u64(j, decode_event_name((enum decode_event)ev), st->decode.events[ev]);
	json_obj_close(j);
	json_kv_u64(j, "fragments_reassembled", st->frag_reassembled);
	json_obj_close(j);
}

static void render_flows(struct jbuf *j, const struct packet_stats *st)
{
	static const char *const close_names[FLOW_CLOSE_COUNT] = {"fin", "rst", "timeout",
								  "evicted", "end"};
	const struct flow_stats *f = &st->flow;
	json_key(j, "flows");
	json_obj_open(j);
	json_kv_u64(j, "created", f->flows_created);
	json_kv_u64(j, "peak", f->flows_peak);
	json_kv_u64(j, "packets_ignored", f->packets_ignored);
	json_kv_u64(j, "packets_no_room", f->packets_no_room);
	json_kv_u64(j, "evictions_cap", f->evictions_cap);
	json_kv_u64(j, "evictions_timeout", f->evictions_timeout);
	json_kv_u64(j, "cap_hits", f->cap_hits);
	json_kv_u64(j, "mem_peak", f->mem_peak);
	json_kv_u64(j, "mem_cap", f->mem_cap);
	json_key(j, "closed");
	json_obj_open(j);
	for (int i = 0; i < FLOW_CLOSE_COUNT; i++)
		json_kv_u64(j, close_names[i], f->closed[i]);
	json_obj_close(j);
	json_kv_u64(j, "tcp_out_of_order", f->tcp.segs_out_of_order);
	json_kv_u64(j, "tcp_gaps", f->tcp.gaps);
	json_kv_u64(j, "tcp_gap_bytes", f->tcp.gap_bytes);
	json_kv_u64(j, "tcp_cap_skips", f->tcp.dir_cap_hits + f->tcp.mem_cap_hits);
	json_obj_close(j);
	json_key(j, "fields");
	json_obj_open(j);
	json_kv_u64(j, "dns_names", st->dns_names);
	json_kv_u64(j, "tls_snis", st->tls_snis);
	json_kv_u64(j, "http_requests", st->http_requests);
	json_kv_u64(j, "http_bodies_hashed", st->http_bodies_hashed);
	json_kv_u64(j, "http_bodies_truncated", st->http_bodies_truncated);
	json_obj_close(j);
}

static void render_summary(struct jbuf *j, const struct tap_run *s, int code)
{
	json_obj_open(j);
	json_kv_str(j, "tool", EV_TOOL_NAME);
	json_kv_str(j, "version", CS_VERSION);
	json_kv_str(j, "mode", "tap");
	json_kv_str(j, "run_id", s->run_id);
	json_kv_str(j, "started", s->started);
	json_kv_str(j, "finished", s->finished);
	json_kv_f64(j, "seconds", s->t_end - s->t_start);
	json_kv_str(j, "stopped_by", s->stopped_by);
	json_kv_str(j, "command_line", s->cmdline);
	json_kv_str(j, "out_dir", s->out_dir[0] ? s->out_dir : NULL);
	json_kv_str(j, "user", s->cfg.user ? s->user.name : NULL);
	json_kv_u64(j, "threads", s->cfg.threads);
	json_kv_u64(j, "indicators", matcher_count(s->rl.cur.m));
	json_kv_u64(j, "indicators_suppressed", s->rl.cur.suppressed);
	render_packs(j, s);
	render_capture(j, s);
	render_flows(j, &s->st);
	json_kv_u64(j, "matches", s->st.matches);
	json_kv_u64(j, "matches_not_recorded", s->st.records_dropped);
	json_kv_u64(j, "rule_records", s->st.rule_records);
	json_kv_u64(j, "rule_parts_dropped", s->st.parts_dropped);
	json_kv_u64(j, "rules_held_partial", s->st.rules_held_partial);
	json_kv_u64(j, "stream_errors", s->st.stream_errors);
	json_kv_u64(j, "streams_peak", s->st.streams_peak);
	json_kv_u64(j, "stream_bytes_peak", s->st.stream_bytes_peak);
	json_kv_bool(j, "capture_error", s->st.read_error);
	json_kv_bool(j, "output_failed", s->output_failed);
	json_kv_i64(j, "exit_code", code);
	json_obj_close(j);
}

static void finish(struct tap_run *s, int code)
{
	struct jbuf j;
	jbuf_init(&j);
	render_summary(&j, s, code);
	jbuf_raw(&j, "\n", 1);
	if (s->out_fd >= 0 && (j.failed || !cli_write_file(s->out_fd, "summary.json", j.p, j.len)))
		fprintf(stderr, "cybersieve: cannot write %s/summary.json: %s\n", s->out_dir,
			strerror(errno));
	jbuf_fini(&j);
	if (!s->cfg.quiet) {
		print_stats(&s->st);
		fprintf(stderr, "tap %s stopped by %s after %.1f s: %llu packets, %llu flows, %llu matches%s%s\n",
			s->cfg.iface, s->stopped_by, s->t_end - s->t_start,
			(unsigned long long)s->st.packets, (unsigned long long)s->st.flow.flows_created,
			(unsigned long long)s->st.matches, s->out_dir[0] ? "; evidence in " : "",
			s->out_dir);
	}
}

/* Stop the timer and take the capture away from the handlers before it is
 * closed; signals are held meanwhile so none sees a closed capture. */
static void release_capture(struct tap_run *s)
{
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	struct itimerval off = {0};
	setitimer(ITIMER_REAL, &off, NULL);
	g_cap = NULL;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	capture_destroy(s->cap);
	s->cap = NULL;
}

static int exit_code(const struct tap_run *s)
{
	if (s->run_failed)
		return CLI_EXIT_FATAL;
	/* A pack refused at start or by a failed reload: the rules were not all
	 * that was asked for. */
	bool trouble = s->rl.n_err > 0 || s->st.read_error;
	if (s->st.matches)
		return trouble ? CLI_EXIT_MATCH_TROUBLE : CLI_EXIT_MATCH;
	return trouble ? CLI_EXIT_NOMATCH_TROUBLE : CLI_EXIT_NOMATCH;
}

/* The signed manifest, once the last records file is closed. A signal is how
 * a tap ends, so only an output failure makes the run incomplete. */
static void write_manifest(struct tap_run *s)
{
	if (s->out_fd < 0)
		return;
	char host[256];
	cli_seal_host(host, sizeof(host));
	struct ev_manifest_input in = {.path = s->cfg.iface, .status = s->st.read_error ? "partial" : "complete",
				       .reason = s->st.read_error ? "capture error" : NULL};
	in.size = s->st.bytes;
	struct ev_manifest m = {
		.run_id = s->run_id, .started = s->started, .finished = s->finished,
		.operator_name = s->cfg.operator_name, .sensor_id = s->cfg.sensor_id, .host = host,
		.command_line = s->cmdline, .fingerprint = s->seal.fingerprint, .inputs = &in,
		.n_inputs = 1, .rule_sets = s->rl.sets, .n_rule_sets = s->rl.n_sets,
		.counts = ev_writer_counts(s->w), .complete = !s->output_failed,
	};
	m.n_files = ev_writer_files(s->w, &m.files);
	struct jbuf j;
	jbuf_init(&j);
	ev_manifest_render(&j, &m);
	struct cs_diag d;
	cs_diag_clear(&d);
	if (ev_manifest_put_signed(s->out_fd, "manifest.json", &j, s->seal.key, &d) != CS_OK) {
		char tmp[1600];
		cs_diag_format(&d, tmp, sizeof(tmp));
		fprintf(stderr, "cybersieve: cannot write the manifest: %s\n", tmp);
		s->output_failed = s->run_failed = true;
	}
	jbuf_fini(&j);
}

int cli_tap(int argc, char **argv)
{
	struct tap_run *s = calloc(1, sizeof(*s));
	if (!s) {
		fprintf(stderr, "cybersieve: out of memory\n");
		return CLI_EXIT_FATAL;
	}
	int code = CLI_EXIT_FATAL;
	s->out_fd = -1;
	install_signals();
	util_uuid4(s->run_id, sizeof(s->run_id));
	cli_now_rfc3339(s->started, sizeof(s->started));
	cli_command_line(argc, argv, s->cmdline, sizeof(s->cmdline));
	if (prepare(s, argc, argv) != 0)
		goto out;
	if (!s->cfg.quiet)
		fprintf(stderr, "tap %s: capturing with %zu indicators%s%s\n", s->cfg.iface,
			matcher_count(s->rl.cur.m), s->cfg.user ? " as " : "",
			s->cfg.user ? s->user.name : "");
	run_pipeline(s);
	final_counters(s);
	struct cs_diag d;
	cs_diag_clear(&d);
	if (ev_writer_finish(s->w, &d) != CS_OK) {
		char tmp[1600];
		cs_diag_format(&d, tmp, sizeof(tmp));
		fprintf(stderr, "cybersieve: evidence output failed: %s\n", tmp);
		s->output_failed = s->run_failed = true;
	}
	cli_now_rfc3339(s->finished, sizeof(s->finished));
	write_manifest(s);
	ev_writer_close(s->w, NULL);
	s->w = NULL;
	code = exit_code(s);
	finish(s, code);
out:
	release_capture(s);
	ev_writer_close(s->w, NULL);
	cli_seal_fini(&s->seal);
	pseudo_key_destroy(s->pseudo);
	if (s->rl_ready)
		tap_reload_fini(&s->rl);
	if (s->out_fd >= 0)
		close(s->out_fd);
	free(s);
	return code;
}
