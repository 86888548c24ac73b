#include "async_sink.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLOTS 4
#define SLOT_SIZE (1u << 20)

struct slot {
	unsigned char *data;
	size_t len;
};

struct async_sink {
	stream_sink_fn sink;
	void *ctx;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct slot slot[SLOTS];
	unsigned head;   /* next slot the producer fills */
	unsigned tail;   /* next slot the consumer drains */
	unsigned full;   /* slots handed over and not yet drained */
	bool closing;
	int error;       /* first consumer error */
	/* Time each side spent waiting for the other, for async_sink_pressure. */
	uint64_t producer_wait_ns, consumer_wait_ns;
	uint64_t window_start_ns, window_producer_ns, window_consumer_ns;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *consumer(void *arg)
{
	struct async_sink *as = arg;
	pthread_mutex_lock(&as->lock);
	for (;;) {
		if (!as->full && !as->closing) {
			uint64_t t0 = now_ns();
			while (!as->full && !as->closing)
				pthread_cond_wait(&as->changed, &as->lock);
			as->consumer_wait_ns += now_ns() - t0;
		}
		if (!as->full)
			break;
		struct slot *s = &as->slot[as->tail];
		pthread_mutex_unlock(&as->lock);
		int rc = as->error ? 0 : as->sink(as->ctx, s->data, s->len);
		pthread_mutex_lock(&as->lock);
		if (rc && !as->error)
			as->error = rc;
		s->len = 0;
		as->tail = (as->tail + 1) % SLOTS;
		as->full--;
		pthread_cond_broadcast(&as->changed);
	}
	pthread_mutex_unlock(&as->lock);
	return NULL;
}

int async_sink_start(struct async_sink **out, stream_sink_fn sink, void *ctx)
{
	struct async_sink *as = calloc(1, sizeof(*as));
	if (!as)
		return -ENOMEM;
	as->sink = sink;
	as->ctx = ctx;
	for (int i = 0; i < SLOTS; i++) {
		if (!(as->slot[i].data = malloc(SLOT_SIZE))) {
			while (i--)
				free(as->slot[i].data);
			free(as);
			return -ENOMEM;
		}
	}
	as->window_start_ns = now_ns();
	pthread_mutex_init(&as->lock, NULL);
	pthread_cond_init(&as->changed, NULL);
	int rc = pthread_create(&as->thread, NULL, consumer, as);
	if (rc) {
		for (int i = 0; i < SLOTS; i++)
			free(as->slot[i].data);
		free(as);
		return -rc;
	}
	*out = as;
	return 0;
}

/* Pass the producer's slot to the consumer and wait for a free one. */
static int hand_over(struct async_sink *as)
{
	pthread_mutex_lock(&as->lock);
	if (as->error) {
		/* The consumer gave up: nothing more is handed over. */
		int rc = as->error;
		pthread_mutex_unlock(&as->lock);
		return rc;
	}
	as->full++;
	as->head = (as->head + 1) % SLOTS;
	pthread_cond_broadcast(&as->changed);
	if (as->full == SLOTS && !as->error) {
		uint64_t t0 = now_ns();
		while (as->full == SLOTS && !as->error)
			pthread_cond_wait(&as->changed, &as->lock);
		as->producer_wait_ns += now_ns() - t0;
	}
	int rc = as->error;
	pthread_mutex_unlock(&as->lock);
	return rc;
}

int async_sink_write(void *arg, const void *buf, size_t len)
{
	struct async_sink *as = arg;
	const unsigned char *p = buf;
	while (len) {
		/* The head slot belongs to the producer alone until handed over. */
		struct slot *s = &as->slot[as->head];
		size_t n = SLOT_SIZE - s->len;
		if (n > len)
			n = len;
		memcpy(s->data + s->len, p, n);
		s->len += n;
		p += n;
		len -= n;
		if (s->len == SLOT_SIZE) {
			int rc = hand_over(as);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int async_sink_finish(struct async_sink *as)
{
	if (as->slot[as->head].len)
		hand_over(as);
	pthread_mutex_lock(&as->lock);
	as->closing = true;
	pthread_cond_broadcast(&as->changed);
	pthread_mutex_unlock(&as->lock);
	pthread_join(as->thread, NULL);
	int rc = as->error;
	for (int i = 0; i < SLOTS; i++)
		free(as->slot[i].data);
	pthread_mutex_destroy(&as->lock);
	pthread_cond_destroy(&as->changed);
	free(as);
	return rc;
}

int async_sink_pressure(struct async_sink *as)
{
	const uint64_t window = 250000000u, margin = 25000000u;
	uint64_t now = now_ns();
	if (now - as->window_start_ns < window)
		return 0;
	pthread_mutex_lock(&as->lock);
	uint64_t p = as->producer_wait_ns - as->window_producer_ns;
	uint64_t c = as->consumer_wait_ns - as->window_consumer_ns;
	as->window_producer_ns = as->producer_wait_ns;
	as->window_consumer_ns = as->consumer_wait_ns;
	pthread_mutex_unlock(&as->lock);
	as->window_start_ns = now;
	if (p > 2 * c + margin)
		return 1;   /* the sender was the bottleneck */
	if (c > 2 * p + margin)
		return -1;  /* the producer was */
	return 0;
}
