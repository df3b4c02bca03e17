/* A guard in front of regcomp for patterns that come from files. */
#include <stdbool.h>
#include <string.h>

#include "cybersieve/util.h"

/* glibc's regcomp can take memory exponential in stacked repetitions ("a+++...")
 * and in very long patterns: a hostile list must not exhaust the machine, so such
 * entries are skipped (counted) instead of compiled. */
bool util_regex_tame(const char *p)
{
	if (strlen(p) > 1024)
		return false;
	bool after_quant = false, in_bracket = false;
	for (; *p; p++) {
		if (in_bracket) {
			in_bracket = *p != ']';
			continue;
		}
		bool quant = *p == '*' || *p == '+' || *p == '?' || *p == '{';
		if (quant && after_quant)
			return false;
		if (*p == '{') {
			const char *close = strchr(p, '}');
			if (close)
				p = close;
		} else if (*p == '\\' && p[1]) {
			p++;
		} else if (*p == '[') {
			in_bracket = true;
			if (p[1] == ']')
				p++;
		}
		after_quant = quant;
	}
	return true;
}

