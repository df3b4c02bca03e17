/* Record times (rectime.h): one small parser per format over the caller's
 * bytes, each returning the bytes it consumed or 0. */
#include <string.h>

#include "correlate/rectime.h"

#define MS_PER_DAY 86400000LL

static const char months[12][4] = { "jan", "feb", "mar", "apr", "may", "jun",
				    "jul", "aug", "sep", "oct", "nov", "dec" };

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Exactly k digits at s[*i]; advances *i. */
static bool digits(const char *s, size_t n, size_t *i, unsigned k, unsigned *out)
{
	unsigned v = 0;
	if (n - *i < k)
		return false;
	for (unsigned j = 0; j < k; j++) {
		char c = s[*i + j];
		if (!is_digit(c))
			return false;
		v = v * 10 + (unsigned)(c - '0');
	}
	*i += k;
	*out = v;
	return true;
}

static bool lit(const char *s, size_t n, size_t *i, char c)
{
	if (*i >= n || s[*i] != c)
		return false;
	(*i)++;
	return true;
}

/* A fraction after '.' (or ',' in ISO 8601): milliseconds, digits past the
 * third truncated. At least one digit is required. */
static bool fraction(const char *s, size_t n, size_t *i, unsigned *ms)
{
	size_t j = *i;
	unsigned v = 0, k = 0;
	while (j < n && is_digit(s[j])) {
		if (k < 3)
			v = v * 10 + (unsigned)(s[j] - '0');
		k++;
		j++;
	}
	if (!k)
		return false;
	for (; k < 3; k++)
		v *= 10;
	*i = j;
	*ms = v;
	return true;
}

static bool leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(int64_t y, unsigned m)
{
	static const unsigned char dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && leap(y) ? 29 : dm[m - 1];
}

int64_t rectime_days(int64_t y, unsigned m, unsigned d)
{
	/* H. Hinnant's days_from_civil: eras of 400 years, March-based years. */
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool civil_ok(int64_t y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned sec)
{
	return mo >= 1 && mo <= 12 && d >= 1 && d <= month_days(y, mo) && h <= 23 && mi <= 59 &&
	       sec <= 60;
}

static int64_t civil_ms(int64_t y, unsigned mo, unsigned d, unsigned h, unsigned mi,
			unsigned sec, unsigned frac)
{
	return rectime_days(y, mo, d) * MS_PER_DAY +
	       ((int64_t)h * 3600 + (int64_t)mi * 60 + sec) * 1000 + frac;
}

/* Month name, any letter case; 1-12 or 0. */
static unsigned month_name(const char *s, size_t n, size_t *i)
{
	if (n - *i < 3)
		return 0;
	char m[3];
	for (int k = 0; k < 3; k++) {
		char c = s[*i + (size_t)k];
		m[k] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	for (unsigned k = 0; k < 12; k++)
		if (memcmp(m, months[k], 3) == 0) {
			*i += 3;
			return k + 1;
		}
	return 0;
}

/* Zone offset in minutes: Z, +hh, +hh:mm, +hhmm; with a blank before it,
 * only +hhmm or +hh:mm (a lone sign after a blank is other text). */
static bool zone(const char *s, size_t n, size_t *i, int *off_min)
{
	size_t j = *i;
	*off_min = 0;
	if (j < n && (s[j] == 'Z' || s[j] == 'z')) {
		*i = j + 1;
		return true;
	}
	bool blank = j < n && s[j] == ' ';
	if (blank)
		j++;
	if (j >= n || (s[j] != '+' && s[j] != '-'))
		return false;
	int sign = s[j] == '-' ? -1 : 1;
	j++;
	unsigned hh, mm = 0;
	if (!digits(s, n, &j, 2, &hh))
		return false;
	size_t k = j;
	bool have_mm = false;
	if (lit(s, n, &k, ':') && digits(s, n, &k, 2, &mm))
		have_mm = true;
	else if (k = j, digits(s, n, &k, 2, &mm))
		have_mm = true;
	if (have_mm)
		j = k;
	else if (blank)
		return false;
	if (hh > 23 || mm > 59)
		return false;
	*off_min = sign * (int)(hh * 60 + mm);
	*i = j;
	return true;
}

static size_t iso8601(const char *s, size_t n, int64_t *ms)
{
	size_t i = 0;
	unsigned y, mo, d, h, mi, sec = 0, frac = 0;
	if (!digits(s, n, &i, 4, &y) || !lit(s, n, &i, '-') || !digits(s, n, &i, 2, &mo) ||
	    !lit(s, n, &i, '-') || !digits(s, n, &i, 2, &d))
		return 0;
	if (i >= n || (s[i] != 'T' && s[i] != 't' && s[i] != ' '))
		return 0;
	i++;
	if (!digits(s, n, &i, 2, &h) || !lit(s, n, &i, ':') || !digits(s, n, &i, 2, &mi))
		return 0;
	size_t k = i;
	if (lit(s, n, &k, ':') && digits(s, n, &k, 2, &sec)) {
		i = k;
		k = i;
		if (k < n && (s[k] == '.' || s[k] == ',') && (k++, fraction(s, n, &k, &frac)))
			i = k;
	}
	int off = 0;
	k = i;
	if (zone(s, n, &k, &off))
		i = k;
	if (!civil_ok(y, mo, d, h, mi, sec))
		return 0;
	*ms = civil_ms(y, mo, d, h, mi, sec, frac) - (int64_t)off * 60000;
	return i;
}

static size_t syslog_stamp(const char *s, size_t n, int year, int64_t *ms)
{
	size_t i = 0;
	unsigned mo = month_name(s, n, &i), d, h, mi, sec, frac = 0;
	if (!mo || !lit(s, n, &i, ' '))
		return 0;
	if (i < n && s[i] == ' ')
		i++;
	if (!digits(s, n, &i, 2, &d) && !digits(s, n, &i, 1, &d))
		return 0;
	if (!lit(s, n, &i, ' ') || !digits(s, n, &i, 2, &h) || !lit(s, n, &i, ':') ||
	    !digits(s, n, &i, 2, &mi) || !lit(s, n, &i, ':') || !digits(s, n, &i, 2, &sec))
		return 0;
	size_t k = i;
	if (lit(s, n, &k, '.') && fraction(s, n, &k, &frac))
		i = k;
	if (!civil_ok(year, mo, d, h, mi, sec))
		return 0;
	*ms = civil_ms(year, mo, d, h, mi, sec, frac);
	return i;
}

/* dd/Mmm/yyyy:hh:mm:ss +zzzz, without the brackets. */
static size_t clf(const char *s, size_t n, int64_t *ms)
{
	size_t i = 0;
	unsigned d, mo, y, h, mi, sec, zh, zm;
	if (!digits(s, n, &i, 2, &d) || !lit(s, n, &i, '/'))
		return 0;
	mo = month_name(s, n, &i);
	if (!mo || !lit(s, n, &i, '/') || !digits(s, n, &i, 4, &y) || !lit(s, n, &i, ':') ||
	    !digits(s, n, &i, 2, &h) || !lit(s, n, &i, ':') || !digits(s, n, &i, 2, &mi) ||
	    !lit(s, n, &i, ':') || !digits(s, n, &i, 2, &sec) || !lit(s, n, &i, ' '))
		return 0;
	if (i >= n || (s[i] != '+' && s[i] != '-'))
		return 0;
	int sign = s[i++] == '-' ? -1 : 1;
	if (!digits(s, n, &i, 2, &zh) || !digits(s, n, &i, 2, &zm) || zh > 23 || zm > 59 ||
	    !civil_ok(y, mo, d, h, mi, sec))
		return 0;
	*ms = civil_ms(y, mo, d, h, mi, sec, 0) - sign * (int64_t)(zh * 60 + zm) * 60000;
	return i;
}

/* 10 digits: seconds, with an optional fraction; 13: milliseconds (a
 * fraction below the millisecond is read and dropped). */
static size_t epoch(const char *s, size_t n, int64_t *ms, enum rectime_format *fmt)
{
	size_t i = 0;
	int64_t v = 0;
	while (i < n && i < 14 && is_digit(s[i]))
		v = v * 10 + (s[i++] - '0');
	if (i != 10 && i != 13)
		return 0;
	size_t k = i;
	unsigned frac = 0;
	bool has_frac = lit(s, n, &k, '.') && fraction(s, n, &k, &frac);
	if (i == 10) {
		*ms = v * 1000 + (has_frac ? frac : 0);
		*fmt = RECTIME_EPOCH_S;
	} else {
		*ms = v;
		*fmt = RECTIME_EPOCH_MS;
	}
	return has_frac ? k : i;
}

size_t rectime_parse(const char *s, size_t n, int syslog_year, int64_t *ms,
		     enum rectime_format *fmt)
{
	if (!s || !n)
		return 0;
	enum rectime_format f;
	size_t used = 0;
	int64_t v = 0;
	if (is_digit(s[0])) {
		if ((used = iso8601(s, n, &v)))
			f = RECTIME_ISO8601;
		else if ((used = clf(s, n, &v)))
			f = RECTIME_CLF;
		else
			used = epoch(s, n, &v, &f);
	} else if (s[0] == '[') {
		if ((used = clf(s + 1, n - 1, &v)) && used + 1 < n && s[used + 1] == ']')
			used += 2;
		else
			used = 0;
		f = RECTIME_CLF;
	} else {
		used = syslog_stamp(s, n, syslog_year, &v);
		f = RECTIME_SYSLOG;
	}
	if (!used || (used < n && is_alnum(s[used])))
		return 0;
	*ms = v;
	if (fmt)
		*fmt = f;
	return used;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

bool rectime_value(const char *s, size_t n, int syslog_year, int64_t *ms)
{
	if (!s)
		return false;
	while (n && blank(*s))
		s++, n--;
	while (n && blank(s[n - 1]))
		n--;
	int64_t v;
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		size_t used = clf(s + 1, n - 2, &v);
		if (!used || used != n - 2)
			return false;
		*ms = v;
		return true;
	}
	size_t used = rectime_parse(s, n, syslog_year, &v, NULL);
	if (!used || used != n)
		return false;
	*ms = v;
	return true;
}

bool rectime_line(const char *s, size_t n, int syslog_year, int64_t *ms)
{
	if (!s || !n)
		return false;
	size_t i = 0;
	if (s[0] == '<') {
		size_t j = 1;
		while (j < n && j < 5 && is_digit(s[j]))
			j++;
		if (j > 1 && j < n && s[j] == '>') {
			i = j + 1;
			if (n - i >= 2 && s[i] == '1' && s[i + 1] == ' ')
				i += 2;
		}
	}
	if (rectime_parse(s + i, n - i, syslog_year, ms, NULL))
		return true;
	if (i < n && s[i] == '[' && rectime_parse(s + i + 1, n - i - 1, syslog_year, ms, NULL))
		return true;
	for (const char *p = s; (p = memchr(p, '[', (size_t)(s + n - p))); p++) {
		size_t left = (size_t)(s + n - p);
		int64_t v;
		size_t used = clf(p + 1, left - 1, &v);
		if (used && used + 1 < left && p[used + 1] == ']') {
			*ms = v;
			return true;
		}
	}
	return false;
}
