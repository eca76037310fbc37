#define _GNU_SOURCE
#include "runtime/logs.h"

#include "store/paths.h"
#include "util/error.h"
#include "util/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EVENTS_DIR "slipway"
#define ROUTER_DIR "router"
#define GENERATION_FILE "generation"

void logs_stamp(char stamp[LOGS_STAMP_LEN + 1])
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(stamp, LOGS_STAMP_LEN + 1, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp + n, LOGS_STAMP_LEN + 1 - n, ".%06ld+00:00", ts.tv_nsec / 1000);
}

char *logs_app_dir(const char *root, const char *app)
{
	char *dir = paths_app_logs(root, app);
	fs_mkdir_p(dir, 0750);
	return dir;
}

/* Moves the events' current file aside once it is full; keeps LOGS_FILES_KEPT of them. */
static void rotate_events(const char *dir, const char *current)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	char *to = xasprintf("%s/@%016llx%08lx.s", dir, (unsigned long long)ts.tv_sec,
			     (unsigned long)ts.tv_nsec);
	rename(current, to);
	free(to);
	struct strvec old = STRVEC_INIT;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (e->d_name[0] == '@')
			strvec_push(&old, e->d_name);
	if (d)
		closedir(d);
	strvec_sort(&old);
	for (size_t i = 0; i + LOGS_FILES_KEPT < old.n; i++) {
		char *p = xasprintf("%s/%s", dir, old.v[i]);
		unlink(p);
		free(p);
	}
	strvec_clear(&old);
}

int logs_rotate(const char *dir)
{
	char *current = xasprintf("%s/current", dir);
	struct stat st;
	int full = stat(current, &st) == 0 && st.st_size >= LOGS_FILE_SIZE;
	if (full)
		rotate_events(dir, current);
	free(current);
	return full;
}

/* "STAMP slipway[who]: text\n" into line, the text on one line whatever it quotes. */
static void event_line(struct buf *line, const char *who, const char *fmt, va_list ap)
{
	char stamp[LOGS_STAMP_LEN + 1];
	logs_stamp(stamp);
	buf_addf(line, "%s slipway[%s]: ", stamp, who);
	char *text = NULL;
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	for (const char *s = text ? text : ""; *s; s++)
		buf_add(line, *s == '\n' || *s == '\r' ? " " : s, 1);
	free(text);
	buf_adds(line, "\n");
}

/* Appends line to path (made with mode when missing). */
static int append_line(const char *path, const struct buf *line, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, mode);
	int err = fd < 0 || fs_write_all(fd, line->data, line->len) < 0
			  ? sw_error_errno(SW_ERROR, "cannot write '%s'", path)
			  : 0;
	if (fd >= 0)
		close(fd);
	return err;
}

int logs_event(const char *root, const char *app, const char *who, const char *fmt, ...)
{
	struct buf line = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	event_line(&line, who, fmt, ap);
	va_end(ap);

	char *appdir = logs_app_dir(root, app), *dir = xasprintf("%s/%s", appdir, EVENTS_DIR);
	char *current = xasprintf("%s/current", dir);
	struct stat st;
	int err = 0;
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		err = sw_error_errno(SW_ERROR, "cannot create '%s'", dir);
	if (!err && stat(current, &st) == 0 && st.st_size >= LOGS_FILE_SIZE)
		rotate_events(dir, current);
	if (!err)
		err = append_line(current, &line, 0640);
	free(current);
	free(dir);
	free(appdir);
	buf_release(&line);
	return err;
}

int logs_server_event(const char *root, const char *who, const char *fmt, ...)
{
	struct buf line = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	event_line(&line, who, fmt, ap);
	va_end(ap);
	char *logs = paths_logs_dir(root), *path = paths_supervisor_log(root);
	int err = fs_mkdir_p(logs, 0700);
	if (!err)
		err = append_line(path, &line, 0600);
	free(logs);
	free(path);
	buf_release(&line);
	return err;
}

int logs_next_generation(const char *root, const char *app, int *gen)
{
	char *dir = logs_app_dir(root, app), *path = xasprintf("%s/%s", dir, GENERATION_FILE);
	char *text = NULL;
	int err = fs_read_file(path, 64, &text, NULL);
	*gen = (err ? 0 : atoi(text)) + 1;
	if (*gen < 1)
		*gen = 1;
	free(text);
	char num[32];
	int n = snprintf(num, sizeof(num), "%d\n", *gen);
	/* no fsync: after a crash nothing of the old generations runs any more */
	err = fs_write_replace(path, num, (size_t)n, 0640);
	free(path);
	free(dir);
	return err;
}

/* "app[web.1]: ": the source and the dyno of a stored line. */
static int parse_line(const char *line, size_t len, const char **src, size_t *srcn,
		      const char **who, size_t *whon)
{
	if (len < LOGS_STAMP_LEN + 4 || line[LOGS_STAMP_LEN] != ' ')
		return -1;
	const char *s = line + LOGS_STAMP_LEN + 1, *end = line + len;
	const char *lb = memchr(s, '[', (size_t)(end - s));
	const char *rb = lb ? memchr(lb, ']', (size_t)(end - lb)) : NULL;
	if (!rb)
		return -1;
	*src = s;
	*srcn = (size_t)(lb - s);
	*who = lb + 1;
	*whon = (size_t)(rb - lb - 1);
	return 0;
}

int logs_match(const struct logs_filter *f, const char *line, size_t len)
{
	const char *src, *who;
	size_t srcn, whon;
	if (!f || (!f->ps && !f->source))
		return 1;
	if (parse_line(line, len, &src, &srcn, &who, &whon) < 0)
		return 0;
	if (f->source && (strlen(f->source) != srcn || strncmp(f->source, src, srcn)))
		return 0;
	if (f->ps) {
		size_t pn = strlen(f->ps);
		/* "web" is every web.N; "web.1" is that one */
		int type_only = !strchr(f->ps, '.');
		if (whon < pn || strncmp(who, f->ps, pn) ||
		    (whon > pn && !(type_only && who[pn] == '.')))
			return 0;
	}
	return 1;
}

/* The directories of the app's log, sorted. */
static void list_dirs(const char *appdir, struct strvec *out)
{
	DIR *d = opendir(appdir);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.' && strcmp(e->d_name, GENERATION_FILE) &&
		    e->d_type != DT_REG)
			strvec_push(out, e->d_name);
	if (d)
		closedir(d);
	strvec_sort(out);
}

/* The files of one log directory, oldest first: the rotated ones, then current. */
static void list_files(const char *dir, struct strvec *out)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (e->d_name[0] == '@' && n > 2 && !strcmp(e->d_name + n - 2, ".s"))
			strvec_push(out, e->d_name);
	}
	if (d)
		closedir(d);
	strvec_sort(out);
	strvec_push(out, "current");
}

/* "0.001" (or "0.000, 0.002" after a retry: the last one counts; "-": none) as milliseconds. */
static long router_ms(const char *v, size_t n)
{
	char *s = xstrndup(v, n), *last = strrchr(s, ' ');
	const char *num = last ? last + 1 : s;
	long ms = strcmp(num, "-") ? (long)(atof(num) * 1000.0 + 0.5) : 0;
	free(s);
	return ms;
}

/*
 * A line of the router's access log as nginx wrote it ("1764601642.123
 * at=info ... connect=0.001 service=0.003 status=200 ...") in the app's log
 * format: "STAMP slipway[router]: at=info ... connect=1ms service=3ms ...".
 */
static char *router_line(const char *s, size_t n)
{
	char *line = xstrndup(s, n), *sp = strchr(line, ' ');
	if (!sp) {
		free(line);
		return NULL;
	}
	*sp = '\0';
	char *dot = strchr(line, '.');
	time_t sec = (time_t)strtoll(line, NULL, 10);
	long frac = dot ? atol(dot + 1) : 0;
	struct tm tm;
	char stamp[LOGS_STAMP_LEN + 1];
	gmtime_r(&sec, &tm);
	size_t k = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp + k, sizeof(stamp) - k, ".%03ld000+00:00", frac % 1000);
	struct buf out = BUF_INIT;
	buf_addf(&out, "%s slipway[router]: ", stamp);
	const char *rest = sp + 1;
	/* "at=… desc=\x22…\x22": nginx escaped the quotes of Slipway's own words */
	const char *method = strstr(rest, " method=");
	for (const char *q = rest; method && q < method; q++) {
		if (!strncmp(q, "\\x22", 4)) {
			buf_adds(&out, "\"");
			q += 3;
		} else {
			buf_add(&out, q, 1);
		}
	}
	if (method)
		rest = method;
	const char *c = strstr(rest, " connect="), *v = c ? strstr(c, " service=") : NULL;
	const char *st = v ? strstr(v, " status=") : NULL;
	if (st) {
		buf_add(&out, rest, (size_t)(c - rest));
		buf_addf(&out, " connect=%ldms service=%ldms", router_ms(c + 9, (size_t)(v - c - 9)),
			 router_ms(v + 9, (size_t)(st - v - 9)));
		buf_adds(&out, st);
	} else {
		buf_adds(&out, rest);
	}
	free(line);
	return buf_detach(&out);
}

/*
 * Appends the n bytes at s to lines as one string when they pass f (a line
 * of the router's log as shown); 1 when it was taken.
 */
static int take_line(struct strvec *lines, const char *s, size_t n, const struct logs_filter *f,
		     int router)
{
	char *line = router ? router_line(s, n) : xstrndup(s, n);
	int ok = line && logs_match(f, line, strlen(line));
	if (ok)
		strvec_push(lines, line);
	free(line);
	return ok;
}

/* Up to n lines of text that pass f, last first, into lines (as copies). */
static size_t take_last(const char *text, size_t len, const struct logs_filter *f, size_t n,
			int router, struct strvec *lines)
{
	size_t got = 0, end = len;
	while (end > 0 && got < n) {
		size_t e = end;
		if (text[e - 1] == '\n')
			e--;
		size_t s = e;
		while (s > 0 && text[s - 1] != '\n')
			s--;
		if (e > s && take_line(lines, text + s, e - s, f, router))
			got++;
		end = s;
	}
	return got;
}

static int line_cmp(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	return strncmp(x, y, LOGS_STAMP_LEN);
}

/* The last n lines of one log directory that pass f, appended to lines. */
static void dir_tail(const char *dir, const struct logs_filter *f, size_t n,
		     struct strvec *lines)
{
	struct strvec files = STRVEC_INIT;
	size_t got = 0, first = lines->n;
	const char *base = strrchr(dir, '/');
	int router = base && !strcmp(base + 1, ROUTER_DIR);
	list_files(dir, &files);
	for (size_t i = files.n; i-- > 0 && got < n;) {
		char *path = xasprintf("%s/%s", dir, files.v[i]), *text = NULL;
		size_t len = 0;
		if (fs_read_file(path, 4 * LOGS_FILE_SIZE, &text, &len) == 0)
			got += take_last(text, len, f, n - got, router, lines);
		free(text);
		free(path);
	}
	/* they were taken last first */
	for (size_t i = first, j = lines->n; i + 1 < j; i++, j--) {
		char *t = lines->v[i];
		lines->v[i] = lines->v[j - 1];
		lines->v[j - 1] = t;
	}
	strvec_clear(&files);
}

/* Sorts lines by time, keeping the order of lines with the same stamp (a merge sort). */
static void sort_lines(struct strvec *lines)
{
	size_t n = lines->n;
	char **a = lines->v, **tmp = xcalloc(n ? n : 1, sizeof(*tmp));
	for (size_t w = 1; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, k = lo;
			while (i < mid && j < hi)
				tmp[k++] = line_cmp(&a[j], &a[i]) < 0 ? a[j++] : a[i++];
			while (i < mid)
				tmp[k++] = a[i++];
			while (j < hi)
				tmp[k++] = a[j++];
		}
		memcpy(a, tmp, n * sizeof(*a));
	}
	free(tmp);
}

static int write_lines(FILE *out, char *const *v, size_t n, const struct logs_filter *f)
{
	struct buf shown = BUF_INIT;
	for (size_t i = 0; i < n; i++) {
		buf_truncate(&shown, 0);
		if (f && f->raw)
			buf_adds(&shown, v[i]);
		else
			buf_add_shown(&shown, v[i], strlen(v[i]));
		buf_adds(&shown, "\n");
		fwrite(shown.data, 1, shown.len, out);
	}
	buf_release(&shown);
	return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}

/* One followed log directory: its current file and what was read of it. */
struct followed {
	char *name;
	int fd;
	ino_t ino;
	struct buf partial;
};

/* Reads what fd has now; complete lines that pass f go to lines. */
static void read_new(struct followed *w, const struct logs_filter *f, struct strvec *lines)
{
	char chunk[65536];
	ssize_t r;
	while ((r = read(w->fd, chunk, sizeof(chunk))) > 0) {
		buf_add(&w->partial, chunk, (size_t)r);
		size_t start = 0;
		for (size_t i = 0; i < w->partial.len; i++)
			if (w->partial.data[i] == '\n') {
				if (i > start)
					take_line(lines, w->partial.data + start, i - start, f,
						  !strcmp(w->name, ROUTER_DIR));
				start = i + 1;
			}
		memmove(w->partial.data, w->partial.data + start, w->partial.len - start);
		buf_truncate(&w->partial, w->partial.len - start);
	}
}

/* Opens dir's current file; at its end (from_end) or its start. */
static void open_current(const char *appdir, struct followed *w, int from_end)
{
	char *path = xasprintf("%s/%s/current", appdir, w->name);
	struct stat st;
	w->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (w->fd >= 0 && fstat(w->fd, &st) == 0) {
		w->ino = st.st_ino;
		if (from_end)
			lseek(w->fd, 0, SEEK_END);
	}
	free(path);
}

/* One round of following: new directories, rotations and new lines. */
static void follow_round(const char *appdir, struct followed **ws, size_t *nw,
			 const struct logs_filter *f, struct strvec *lines)
{
	struct strvec dirs = STRVEC_INIT;
	list_dirs(appdir, &dirs);
	for (size_t i = 0; i < dirs.n; i++) {
		size_t k = 0;
		while (k < *nw && strcmp((*ws)[k].name, dirs.v[i]))
			k++;
		if (k == *nw) {
			/* a new instance: everything it wrote is new */
			*ws = xrealloc(*ws, (*nw + 1) * sizeof(**ws));
			(*ws)[k] = (struct followed){ xstrdup(dirs.v[i]), -1, 0, BUF_INIT };
			(*nw)++;
		}
	}
	strvec_clear(&dirs);
	for (size_t k = 0; k < *nw; k++) {
		struct followed *w = &(*ws)[k];
		if (w->fd < 0)
			open_current(appdir, w, 0);
		if (w->fd < 0)
			continue;
		read_new(w, f, lines);
		char *path = xasprintf("%s/%s/current", appdir, w->name);
		struct stat st;
		if (stat(path, &st) == 0 && st.st_ino != w->ino) {
			/* rotated: the rest of the old file was read above; on to the new one */
			close(w->fd);
			open_current(appdir, w, 0);
			if (w->fd >= 0)
				read_new(w, f, lines);
		}
		free(path);
	}
}

static int follow(const char *appdir, const struct logs_filter *f, FILE *out,
		  int (*stop)(void *), void *arg)
{
	struct followed *ws = NULL;
	size_t nw = 0;
	struct strvec dirs = STRVEC_INIT, lines = STRVEC_INIT;
	int err = 0;

	/* what exists now was shown already: start at its end */
	list_dirs(appdir, &dirs);
	ws = xcalloc(dirs.n ? dirs.n : 1, sizeof(*ws));
	for (size_t i = 0; i < dirs.n; i++) {
		ws[nw] = (struct followed){ xstrdup(dirs.v[i]), -1, 0, BUF_INIT };
		open_current(appdir, &ws[nw], 1);
		nw++;
	}
	strvec_clear(&dirs);
	while (!(stop && stop(arg))) {
		follow_round(appdir, &ws, &nw, f, &lines);
		if (lines.n) {
			sort_lines(&lines);
			if (write_lines(out, lines.v, lines.n, f) < 0)
				break; /* the reader went away */
			strvec_clear(&lines);
		}
		nanosleep(&(struct timespec){ 0, 100 * 1000 * 1000 }, NULL);
	}
	strvec_clear(&lines);
	for (size_t k = 0; k < nw; k++) {
		if (ws[k].fd >= 0)
			close(ws[k].fd);
		free(ws[k].name);
		buf_release(&ws[k].partial);
	}
	free(ws);
	return err;
}

int logs_show(const char *root, const char *app, const struct logs_filter *f, size_t n,
	      int follow_too, FILE *out, int (*stop)(void *), void *arg)
{
	char *appdir = logs_app_dir(root, app);
	struct strvec dirs = STRVEC_INIT, lines = STRVEC_INIT;
	int err = 0;

	list_dirs(appdir, &dirs);
	for (size_t i = 0; i < dirs.n; i++) {
		char *dir = xasprintf("%s/%s", appdir, dirs.v[i]);
		dir_tail(dir, f, n, &lines);
		free(dir);
	}
	sort_lines(&lines);
	size_t from = lines.n > n ? lines.n - n : 0;
	if (write_lines(out, lines.v + from, lines.n - from, f) < 0)
		err = sw_error_errno(SW_ERROR, "cannot write the logs");
	if (!err && follow_too)
		err = follow(appdir, f, out, stop, arg);
	strvec_clear(&dirs);
	strvec_clear(&lines);
	free(appdir);
	return err;
}

void logs_instance_tail(const char *root, const char *app, const char *logdir, size_t n,
			struct buf *out)
{
	char *appdir = logs_app_dir(root, app), *dir = xasprintf("%s/%s", appdir, logdir);
	struct strvec lines = STRVEC_INIT;
	dir_tail(dir, NULL, n, &lines);
	for (size_t i = 0; i < lines.n; i++) {
		buf_add_shown(out, lines.v[i], strlen(lines.v[i]));
		buf_adds(out, "\n");
	}
	strvec_clear(&lines);
	free(dir);
	free(appdir);
}

int logs_remove(const char *root, const char *app)
{
	char *dir = paths_app_logs(root, app);
	int err = fs_rm_rf(dir);
	free(dir);
	return err;
}

void logs_prune(const char *root, const char *app, const struct strvec *live, size_t keep)
{
	char *appdir = logs_app_dir(root, app);
	struct strvec dirs = STRVEC_INIT;
	struct { char *name; time_t mtime; } *old = NULL;
	size_t n = 0;

	list_dirs(appdir, &dirs);
	old = xcalloc(dirs.n ? dirs.n : 1, sizeof(*old));
	for (size_t i = 0; i < dirs.n; i++) {
		struct stat st;
		char *cur = xasprintf("%s/%s/current", appdir, dirs.v[i]);
		if (dirs.v[i][0] == 'v' && !strvec_has_sorted(live, dirs.v[i])) {
			old[n].name = dirs.v[i];
			old[n].mtime = stat(cur, &st) == 0 ? st.st_mtime : 0;
			n++;
		}
		free(cur);
	}
	/* newest first; everything past keep goes */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && old[j].mtime > old[j - 1].mtime; j--) {
			char *t = old[j].name;
			time_t m = old[j].mtime;
			old[j] = old[j - 1];
			old[j - 1].name = t;
			old[j - 1].mtime = m;
		}
	for (size_t i = keep; i < n; i++) {
		char *p = xasprintf("%s/%s", appdir, old[i].name);
		fs_rm_rf(p);
		free(p);
	}
	free(old);
	strvec_clear(&dirs);
	free(appdir);
}
