/* Front end: --allow FILE (MISP warning-lists). Every pack loses, before the
 * matcher is built, the indicators an allow-list allows (known false
 * positives); how many is printed once and recorded in the summary. One
 * struct per command, used by its main thread only. */
#ifndef CS_CLI_ALLOW_H
#define CS_CLI_ALLOW_H

#include <stdbool.h>
#include <stddef.h>

#include "cybersieve/pack.h"

#define CLI_ALLOW_MAX 256 /* --allow options taken */

struct cli_allow {
	const char *path[CLI_ALLOW_MAX]; /* borrowed from argv */
	size_t n;
	size_t suppressed;               /* indicators dropped from the packs */
};

/* Remember one --allow FILE; false (printed) past CLI_ALLOW_MAX. */
bool cli_allow_add(struct cli_allow *a, const char *cmd, const char *path);

/* Load every list and filter packs[0..n); prints the count. False (printed)
 * when a list cannot be read or parsed: a list given and not applied would
 * let known false positives through unnoticed. No-op without --allow. */
bool cli_allow_apply(struct cli_allow *a, const char *cmd, struct pack **packs, size_t n);

#endif
