#include "util/syncer.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static void *run(void *arg)
{
	struct syncer *s = arg;
	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		if (s->written - s->synced < s->step) {
			pthread_cond_wait(&s->cv, &s->mu);
			continue;
		}
		uint64_t upto = s->written;
		pthread_mutex_unlock(&s->mu);
		int rc = fdatasync(s->fd), e = errno;
		pthread_mutex_lock(&s->mu);
		s->syncs++;
		s->synced = upto;
		if (rc < 0 && !s->err)
			s->err = -e;
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

void syncer_init(struct syncer *s, int fd, uint64_t step)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->step = step ? step : SYNCER_STEP;
}

void syncer_wrote(struct syncer *s, uint64_t total)
{
	if (!s->started) {
		s->written = total;
		if (total < s->step)
			return;
		pthread_mutex_init(&s->mu, NULL);
		pthread_cond_init(&s->cv, NULL);
		/* without a thread the caller's own fsync does it all, as before */
		if (pthread_create(&s->thread, NULL, run, s)) {
			pthread_mutex_destroy(&s->mu);
			pthread_cond_destroy(&s->cv);
			s->step = UINT64_MAX;
			return;
		}
		s->started = 1;
		return;
	}
	pthread_mutex_lock(&s->mu);
	s->written = total;
	if (total - s->synced >= s->step)
		pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

unsigned syncer_syncs(struct syncer *s)
{
	if (!s->started)
		return s->syncs;
	pthread_mutex_lock(&s->mu);
	unsigned n = s->syncs;
	pthread_mutex_unlock(&s->mu);
	return n;
}

int syncer_finish(struct syncer *s)
{
	if (!s->started)
		return s->err;
	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	s->started = 0;
	return s->err;
}
