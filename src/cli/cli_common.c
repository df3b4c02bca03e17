/* Front end: shared helpers (src/cli/cli_common.h). */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli_common.h"
#include "cli_rules.h"
#include "cybersieve/util.h"

bool cli_parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return false;
	unsigned long long mul = 1;
	if (*end == 'k' || *end == 'K')
		mul = 1ull << 10, end++;
	else if (*end == 'm' || *end == 'M')
		mul = 1ull << 20, end++;
	else if (*end == 'g' || *end == 'G')
		mul = 1ull << 30, end++;
	if (*end || v > UINT64_MAX / mul)
		return false;
	*out = v * mul;
	return true;
}

int cli_make_out_dir(const char *dir, bool *created)
{
	*created = false;
	if (mkdir(dir, 0700) == 0) {
		*created = true;
		return 0;
	}
	if (errno != EEXIST) {
		fprintf(stderr, "cybersieve: cannot create evidence folder %s: %s\n", dir,
			strerror(errno));
		return -1;
	}
	/* An existing folder is used only when it is empty and private: evidence never
	 * mixes with other files, and nobody else can add or swap files in it. */
	struct stat st;
	DIR *dh = opendir(dir);
	if (!dh || fstat(dirfd(dh), &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "cybersieve: cannot use %s as the evidence folder: %s\n", dir,
			dh ? strerror(errno) : "not a readable directory");
		if (dh)
			closedir(dh);
		return -1;
	}
	static const char *const held_by[] = {"records.ndjson", "records-000001.ndjson",
					      "manifest.json"};
	for (size_t i = 0; i < sizeof(held_by) / sizeof(held_by[0]); i++) {
		if (faccessat(dirfd(dh), held_by[i], F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
			fprintf(stderr,
				"cybersieve: %s already holds evidence; refusing to overwrite it (choose a new --out)\n",
				dir);
			closedir(dh);
			return -1;
		}
	}
	bool empty = true;
	struct dirent *de;
	while (empty && (de = readdir(dh)))
		empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
	closedir(dh);
	if (!empty) {
		fprintf(stderr,
			"cybersieve: %s is not empty; refusing to write evidence there (choose a new --out)\n",
			dir);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		fprintf(stderr,
			"cybersieve: %s can be written by other users (mode %o); evidence needs a private folder\n",
			dir, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

void cli_command_line(int argc, char **argv, char *out, size_t cap)
{
	size_t n = (size_t)snprintf(out, cap, "cybersieve");
	for (int i = 0; i < argc && n < cap; i++)
		n += (size_t)snprintf(out + n, cap - n, " %s", argv[i]);
}

void cli_now_rfc3339(char *out, size_t cap)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	util_rfc3339(&ts, out, cap);
}

void cli_on_refused(void *ctx, size_t pack_index, const struct cs_diag *d)
{
	struct cli_rules *r = ctx;
	(void)pack_index;
	char tmp[1600];
	cs_diag_format(d, tmp, sizeof(tmp));
	strncat(tmp, " (pack refused)", sizeof(tmp) - strlen(tmp) - 1);
	cli_rules_error(r, tmp);
}

bool cli_write_file(int dir_fd, const char *name, const char *buf, size_t len)
{
	int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!fp) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	bool ok = fwrite(buf, 1, len, fp) == len;
	ok &= fflush(fp) == 0 && fsync(fileno(fp)) == 0;
	ok &= fclose(fp) == 0;
	if (!ok) {
		int e = errno;
		unlinkat(dir_fd, name, 0);
		errno = e;
	}
	return ok;
}

int cli_open_evidence_dir(const char *out_opt, const char *run_id, char *out_dir, size_t cap,
			  bool *created)
{
	if (out_opt) {
		snprintf(out_dir, cap, "%s", out_opt);
	} else {
		char ts[32];
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
		snprintf(out_dir, cap, "cybersieve-%s-%.8s", ts, run_id);
	}
	if (cli_make_out_dir(out_dir, created) != 0)
		return -1;
	int fd = open(out_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		fprintf(stderr, "cybersieve: cannot open evidence folder %s: %s\n", out_dir,
			strerror(errno));
	return fd;
}
