#include "disk_hash.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#define QUEUE 64
#define ZERO_BLOCK (1u << 20)

/* One queued piece of content: a ring buffer's bytes, or zeros. */
struct item {
	int buf;          /* ring index, or -1 for zeros */
	uint64_t len;
};

struct disk_hasher {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct sha256 sha;
	uint8_t **bufs;
	unsigned nbuf, next;   /* next: the buffer disk_hasher_buffer hands out */
	bool *busy;            /* submitted and not hashed yet */
	struct item q[QUEUE];
	unsigned head, count;
	bool closing;
	const uint8_t *zeros;
};

static void *hasher_main(void *arg)
{
	struct disk_hasher *h = arg;
	pthread_mutex_lock(&h->lock);
	for (;;) {
		while (!h->count && !h->closing)
			pthread_cond_wait(&h->changed, &h->lock);
		if (!h->count)
			break;
		struct item it = h->q[h->head];
		pthread_mutex_unlock(&h->lock);
		if (it.buf >= 0) {
			sha256_update(&h->sha, h->bufs[it.buf], it.len);
		} else {
			for (uint64_t left = it.len; left;) {
				size_t n = left < ZERO_BLOCK ? (size_t)left : ZERO_BLOCK;
				sha256_update(&h->sha, h->zeros, n);
				left -= n;
			}
		}
		pthread_mutex_lock(&h->lock);
		if (it.buf >= 0)
			h->busy[it.buf] = false;
		h->head = (h->head + 1) % QUEUE;
		h->count--;
		pthread_cond_broadcast(&h->changed);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

static void free_all(struct disk_hasher *h)
{
	if (h->bufs)
		for (unsigned i = 0; i < h->nbuf; i++)
			free(h->bufs[i]);
	free(h->bufs);
	free(h->busy);
	free((void *)h->zeros);
	sha256_abandon(&h->sha);
	free(h);
}

int disk_hasher_start(struct disk_hasher **out, unsigned nbuf, size_t bufsize)
{
	return disk_hasher_start_at(out, nbuf, bufsize, NULL);
}

void disk_hasher_state(struct disk_hasher *h, uint8_t state[SHA256_STATE_LEN])
{
	pthread_mutex_lock(&h->lock);
	while (h->count)
		pthread_cond_wait(&h->changed, &h->lock);
	sha256_export(&h->sha, state);
	pthread_mutex_unlock(&h->lock);
}

int disk_hasher_start_at(struct disk_hasher **out, unsigned nbuf, size_t bufsize,
			 const uint8_t state[SHA256_STATE_LEN])
{
	struct disk_hasher *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->nbuf = nbuf;
	h->bufs = calloc(nbuf, sizeof(*h->bufs));
	h->busy = calloc(nbuf, sizeof(*h->busy));
	h->zeros = calloc(1, ZERO_BLOCK);
	if (!h->bufs || !h->busy || !h->zeros) {
		free_all(h);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < nbuf; i++)
		if (!(h->bufs[i] = malloc(bufsize))) {
			free_all(h);
			return -ENOMEM;
		}
	int rc = state ? sha256_import(&h->sha, state) : sha256_init(&h->sha);
	if (rc < 0) {
		free_all(h);
		return rc;
	}
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->changed, NULL);
	if ((rc = pthread_create(&h->thread, NULL, hasher_main, h))) {
		pthread_mutex_destroy(&h->lock);
		pthread_cond_destroy(&h->changed);
		free_all(h);
		return -rc;
	}
	*out = h;
	return 0;
}

uint8_t *disk_hasher_buffer(struct disk_hasher *h)
{
	pthread_mutex_lock(&h->lock);
	h->next = (h->next + 1) % h->nbuf;
	while (h->busy[h->next])
		pthread_cond_wait(&h->changed, &h->lock);
	pthread_mutex_unlock(&h->lock);
	return h->bufs[h->next];
}

static void enqueue(struct disk_hasher *h, int buf, uint64_t len)
{
	pthread_mutex_lock(&h->lock);
	/* Consecutive runs of zeros become one item. */
	if (buf < 0 && h->count) {
		struct item *last = &h->q[(h->head + h->count - 1) % QUEUE];
		if (last->buf < 0 && last != &h->q[h->head]) {
			last->len += len;
			pthread_mutex_unlock(&h->lock);
			return;
		}
	}
	while (h->count == QUEUE)
		pthread_cond_wait(&h->changed, &h->lock);
	h->q[(h->head + h->count) % QUEUE] = (struct item){ buf, len };
	h->count++;
	if (buf >= 0)
		h->busy[buf] = true;
	pthread_cond_broadcast(&h->changed);
	pthread_mutex_unlock(&h->lock);
}

void disk_hasher_submit(struct disk_hasher *h, size_t len)
{
	enqueue(h, (int)h->next, len);
}

void disk_hasher_zeros(struct disk_hasher *h, uint64_t len)
{
	if (len)
		enqueue(h, -1, len);
}

void disk_hasher_finish(struct disk_hasher *h, uint8_t digest[SHA256_LEN])
{
	pthread_mutex_lock(&h->lock);
	h->closing = true;
	pthread_cond_broadcast(&h->changed);
	pthread_mutex_unlock(&h->lock);
	pthread_join(h->thread, NULL);
	if (digest)
		sha256_final(&h->sha, digest);
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->changed);
	free_all(h);
}
