/* The parsed form of a window rule, shared by its parser (window_rule.c)
 * and the engine (window.c). Owned by the rule; read-only once parsed. */
#ifndef CS_CORRELATE_WINDOW_INT_H
#define CS_CORRELATE_WINDOW_INT_H

#include "correlate/window.h"

enum window_op {
	WINDOW_OP_RANGE, /* FIELD:LO..HI */
	WINDOW_OP_EQ,    /* FIELD=VALUE */
	WINDOW_OP_NE,    /* FIELD!=VALUE */
	WINDOW_OP_MATCH, /* match:INDICATOR_ID */
};

struct window_cond {
	enum window_op op;
	char *field;      /* field spec (NULL for match) */
	size_t field_len;
	bool has_lo, has_hi;
	int64_t lo, hi;   /* millionths, inclusive */
	char *value;      /* EQ/NE value or indicator id, NUL-terminated */
	size_t value_len;
};

struct window_rule {
	enum window_agg agg;
	char *key, *time, *field, *in, *out; /* field specs, NULL when absent */
	size_t key_len, time_len, field_len, in_len, out_len;
	struct window_cond *cond;
	size_t n_cond;
	uint64_t min_n;   /* count>=N, distinct>=N */
	int64_t min_sum;  /* sum>=X, millionths */
	int64_t within_ms;
	int64_t slack_ms;
};

#endif
