/* Front end: tap's rules at start and on SIGHUP (cli_tap_rules.h). The
 * reload thread waits in sigwait(), so SIGHUP never interrupts the capture,
 * and it is the only thread that reads indicator files or compiles once the
 * capture runs: the capture goes on with the rules in force meanwhile. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_allow.h"
#include "cli_build.h"
#include "cli_common.h"
#include "cli_tap_rules.h"
#include "cybersieve/util.h"

/* ------------------------------------------------------------ loading --- */

static void set_why(char *why, size_t cap, const char *fmt, const char *s)
{
	if (why && cap)
		snprintf(why, cap, fmt, s);
}

/* Read every source in order. With reload, stdin cannot be given again. */
static bool read_sources(const struct tap_rules_src *src, bool reload, struct tap_rules *out,
			 struct cli_allow *allow, char *why, size_t cap)
{
	for (size_t i = 0; i < src->n; i++) {
		const char *a = src->arg[i];
		const char *colon = strchr(a, ':');
		if (reload && src->kind[i] == TAP_SRC_F && colon && strcmp(colon + 1, "-") == 0) {
			set_why(why, cap, "-f %s: standard input cannot be read again", a);
			return false;
		}
		bool ok = true;
		switch (src->kind[i]) {
		case TAP_SRC_RULES: ok = cli_rules_add_path(&out->rules, a, src->strict); break;
		case TAP_SRC_E: ok = cli_rules_add_e(&out->rules, a, src->strict); break;
		case TAP_SRC_F: ok = cli_rules_add_f(&out->rules, a, src->strict); break;
		case TAP_SRC_ALLOW: ok = cli_allow_add(allow, "tap", a); break;
		}
		if (!ok || (reload && out->rules.n_err)) {
			if (out->rules.n_err)
				set_why(why, cap, "%s", out->rules.errors[0].where);
			else
				set_why(why, cap, "%s", "cannot read the rules (out of memory)");
			return false;
		}
	}
	return true;
}

int tap_rules_load(const struct tap_rules_src *src, bool reload, struct tap_rules *out,
		   char *why, size_t why_cap)
{
	struct cli_allow allow = {.n = 0};
	if (!read_sources(src, reload, out, &allow, why, why_cap))
		return -1;
	if (!cli_rules_finish(&out->rules)) {
		set_why(why, why_cap, "%s", "out of memory");
		return -1;
	}
	if (out->rules.n == 0) {
		fprintf(stderr, "cybersieve tap: no indicators: give --rules PATH, -e TYPE:VALUE or -f TYPE:FILE\n");
		set_why(why, why_cap, "%s", "no indicators");
		return -1;
	}
	if (!cli_allow_apply(&allow, "tap", out->rules.packs, out->rules.n)) {
		set_why(why, why_cap, "%s", "an --allow list could not be applied");
		return -1;
	}
	out->suppressed = allow.suppressed;
	/* A tap needs the stream database at once: compile it beside the block
	 * one. At start a pack the engine refuses, or whose rule is in error, is
	 * left out (unless --strict); a reload with one fails whole, keeping the
	 * rules in force. */
	if (!reload)
		return cli_build_matcher(&out->rules, src->strict, MATCHER_BUILD_STREAM, &out->m,
					 &out->combos, NULL, NULL);
	struct cs_diag d;
	cs_diag_clear(&d);
	enum cs_err e = cli_rules_matcher(&out->rules, NULL, NULL, MATCHER_BUILD_STREAM, &out->m, &d);
	if (e == CS_OK)
		e = combo_set_create(out->m, NULL, NULL, &out->combos, &d);
	if (e != CS_OK) {
		char tmp[1600];
		cs_diag_format(&d, tmp, sizeof(tmp));
		fprintf(stderr, "cybersieve: %s\n", tmp);
		set_why(why, why_cap, "%s", tmp);
		return -1;
	}
	return 0;
}

void tap_rules_fini(struct tap_rules *r)
{
	combo_set_destroy(r->combos);
	matcher_destroy(r->m);
	cli_rules_fini(&r->rules);
	memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------------ history --- */

static void say(struct tap_reload *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct tap_reload *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pthread_mutex_lock(r->print_mu);
	fputs("cybersieve tap: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	pthread_mutex_unlock(r->print_mu);
	va_end(ap);
}

static bool add_error(struct tap_reload *r, const char *text)
{
	if (r->n_err == r->cap_err) {
		size_t cap = r->cap_err ? r->cap_err * 2 : 8;
		struct summary_pack_error *v = realloc(r->errors, cap * sizeof(*v));
		if (!v)
			return false;
		r->errors = v;
		r->cap_err = cap;
	}
	if (!(r->errors[r->n_err].where = strdup(text)))
		return false;
	r->n_err++;
	return true;
}

/* Keep the identity of a set that comes into force (at most
 * TAP_RELOAD_MAX_SETS; beyond, sets are counted). rs is taken either way. */
static void add_set(struct tap_reload *r, struct ev_ruleset *rs)
{
	if (r->n_sets == r->cap_sets && r->n_sets < TAP_RELOAD_MAX_SETS) {
		size_t cap = r->cap_sets ? r->cap_sets * 2 : 8;
		struct ev_ruleset **v = realloc(r->sets, cap * sizeof(*v));
		if (v) {
			r->sets = v;
			r->cap_sets = cap;
		}
	}
	if (r->n_sets < r->cap_sets) {
		r->sets[r->n_sets++] = rs;
		return;
	}
	r->sets_unlisted++;
	ev_ruleset_destroy(rs);
}

static struct ev_ruleset *cur_set(const struct tap_reload *r)
{
	return r->n_sets ? r->sets[r->n_sets - 1] : NULL;
}

int tap_reload_init(struct tap_reload *r, const struct tap_rules_src *src,
		    struct tap_rules *initial, pthread_mutex_t *print_mu, bool quiet)
{
	memset(r, 0, sizeof(*r));
	r->src = src;
	r->print_mu = print_mu;
	r->quiet = quiet;
	atomic_init(&r->quit, false);
	r->cur = *initial;
	memset(initial, 0, sizeof(*initial));
	/* The errors of the first load stay the run's, whatever replaces the packs. */
	for (size_t i = 0; i < r->cur.rules.n_err; i++)
		if (!add_error(r, r->cur.rules.errors[i].where))
			goto nomem;
	struct ev_ruleset *rs;
	if (ev_ruleset_create(r->cur.rules.packs, r->cur.rules.n, matcher_count(r->cur.m), &rs) !=
	    CS_OK)
		goto nomem;
	add_set(r, rs);
	if (r->n_sets == 1)
		return 0;
nomem:
	fprintf(stderr, "cybersieve tap: out of memory\n");
	return -1;
}

/* ------------------------------------------------------------- reload --- */

/* What the pipeline renders when the switch (or a failure) is recorded. */
struct reload_note {
	const char *requested, *ready, *reason;
	const struct ev_ruleset *before, *after;
};

static void render_note(void *ctx, struct jbuf *j, const char *run_id, uint64_t seq,
			const struct timespec *at)
{
	const struct reload_note *n = ctx;
	struct ev_reload_record rec = {.run_id = run_id, .seq = seq, .at = *at,
				       .requested = n->requested, .ready = n->ready,
				       .applied = n->after != NULL, .reason = n->reason,
				       .before = n->before, .after = n->after};
	ev_reload_record_render(j, &rec);
}

static void reload_failed(struct tap_reload *r, const char *requested, const char *why)
{
	r->failed++;
	char text[1400];
	snprintf(text, sizeof(text), "reload: %s", why);
	add_error(r, text);
	say(r, "reload failed: %s; the %zu indicators in force are kept", why,
	    matcher_count(r->cur.m));
	struct reload_note n = {.requested = requested, .reason = why, .before = cur_set(r)};
	const struct matcher *old;
	struct timespec at;
	struct cs_diag d;
	cs_diag_clear(&d);
	if (packet_swap_apply(r->sw, NULL, render_note, &n, &old, &at, &d) != CS_OK) {
		char tmp[1600];
		cs_diag_format(&d, tmp, sizeof(tmp));
		say(r, "the failed reload is not in the evidence: %s", tmp);
	}
}

/* The new set is in force: free the old one, keep the new one's identity. */
static void reload_done(struct tap_reload *r, struct tap_rules *next, struct ev_ruleset *id,
			const struct timespec *at)
{
	size_t was = matcher_count(r->cur.m);
	tap_rules_fini(&r->cur);
	r->cur = *next;
	memset(next, 0, sizeof(*next));
	r->applied++;
	char ts[40];
	util_rfc3339(at, ts, sizeof(ts));
	snprintf(cur_set(r)->until, sizeof(cur_set(r)->until), "%s", ts);
	snprintf(id->from, sizeof(id->from), "%s", ts);
	add_set(r, id);
	if (!r->quiet)
		say(r, "rules reloaded: %zu indicators from %zu pack%s in force (were %zu)",
		    matcher_count(r->cur.m), r->cur.rules.n, r->cur.rules.n == 1 ? "" : "s", was);
}

static void reload_once(struct tap_reload *r)
{
	char requested[40], ready[40], why[1400] = "";
	cli_now_rfc3339(requested, sizeof(requested));
	if (!r->quiet)
		say(r, "SIGHUP: reading the rules again");
	struct tap_rules next = {.m = NULL};
	struct ev_ruleset *id = NULL;
	if (tap_rules_load(r->src, true, &next, why, sizeof(why)) != 0) {
		tap_rules_fini(&next);
		reload_failed(r, requested, why);
		return;
	}
	cli_now_rfc3339(ready, sizeof(ready));
	if (ev_ruleset_create(next.rules.packs, next.rules.n, matcher_count(next.m), &id) != CS_OK) {
		tap_rules_fini(&next);
		reload_failed(r, requested, "out of memory");
		return;
	}
	struct reload_note n = {.requested = requested, .ready = ready, .before = cur_set(r),
				.after = id};
	const struct matcher *old;
	struct timespec at;
	struct cs_diag d;
	cs_diag_clear(&d);
	enum cs_err e = packet_swap_apply_rules(r->sw, next.m, next.combos, render_note, &n, &old,
						&at, &d);
	char tmp[1600];
	cs_diag_format(&d, tmp, sizeof(tmp));
	if (e == CS_OK || e == CS_ERR_IO) {
		/* Switched: no worker uses the old matcher any more (old == cur.m). */
		reload_done(r, &next, id, &at);
		if (e == CS_ERR_IO)
			say(r, "the reload is not in the evidence: %s", tmp);
		return;
	}
	tap_rules_fini(&next);
	ev_ruleset_destroy(id);
	if (e == CS_ERR_INVALID)
		say(r, "reload not applied: %s", tmp);
	else
		reload_failed(r, requested, tmp);
}

static void *reload_main(void *arg)
{
	struct tap_reload *r = arg;
	(void)pthread_setname_np(pthread_self(), "cs-reload");
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	while (!atomic_load(&r->quit)) {
		int sig;
		/* Several SIGHUPs while one reload runs make one more reload. */
		if (sigwait(&set, &sig) != 0 || atomic_load(&r->quit))
			continue;
		reload_once(r);
	}
	return NULL;
}

int tap_reload_start(struct tap_reload *r, struct packet_swap *sw, const char *from)
{
	r->sw = sw;
	snprintf(r->sets[0]->from, sizeof(r->sets[0]->from), "%s", from);
	int e = pthread_create(&r->th, NULL, reload_main, r);
	if (e != 0) {
		fprintf(stderr, "cybersieve tap: cannot start the reload thread: %s\n", strerror(e));
		return -1;
	}
	r->started = true;
	return 0;
}

void tap_reload_stop(struct tap_reload *r)
{
	if (!r->started)
		return;
	atomic_store(&r->quit, true);
	pthread_kill(r->th, SIGHUP); /* blocked there: wakes sigwait */
	pthread_join(r->th, NULL);
	r->started = false;
}

void tap_reload_fini(struct tap_reload *r)
{
	tap_reload_stop(r);
	tap_rules_fini(&r->cur);
	for (size_t i = 0; i < r->n_sets; i++)
		ev_ruleset_destroy(r->sets[i]);
	free(r->sets);
	for (size_t i = 0; i < r->n_err; i++)
		free(r->errors[i].where);
	free(r->errors);
	memset(r, 0, sizeof(*r));
}
