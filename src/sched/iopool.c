/*
 * The I/O thread pool (see iopool.h): a mutex-protected FIFO of jobs and a
 * condition variable.  Jobs are rare next to the scheduler's own traffic
 * (a process offloads only when others wait to run on its worker), so a
 * plain lock is enough here.
 */
#include "sched/iopool.h"

#include <pthread.h>
#include <stdlib.h>

struct IoPool {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    IoJob *head, *tail;
    void (*done)(IoJob *);
    pthread_t threads[IOPOOL_MAX];
    int nthreads, idle;
    bool stopping;
};

static void *pool_main(void *arg)
{
    IoPool *pool = arg;
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (!pool->head && !pool->stopping) {
            pool->idle++;
            pthread_cond_wait(&pool->cond, &pool->lock);
            pool->idle--;
        }
        IoJob *job = pool->head;
        if (!job)
            break;   /* stopping, and nothing left */
        pool->head = job->next;
        if (!pool->head)
            pool->tail = NULL;
        pthread_mutex_unlock(&pool->lock);
        job->run(job);
        pool->done(job);
        pthread_mutex_lock(&pool->lock);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

IoPool *iopool_new(void (*done)(IoJob *))
{
    IoPool *pool = calloc(1, sizeof *pool);
    if (!pool)
        return NULL;
    pool->done = done;   /* set once, before any thread exists to read it */
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->cond, NULL);
    return pool;
}

bool iopool_submit(IoPool *pool, IoJob *job)
{
    job->next = NULL;
    pthread_mutex_lock(&pool->lock);
    if (pool->idle == 0 && pool->nthreads < IOPOOL_MAX &&
        pthread_create(&pool->threads[pool->nthreads], NULL, pool_main, pool) == 0)
        pool->nthreads++;
    bool ok = pool->nthreads > 0;   /* with no thread at all the job would never run */
    if (ok) {
        if (pool->tail)
            pool->tail->next = job;
        else
            pool->head = job;
        pool->tail = job;
        pthread_cond_signal(&pool->cond);
    }
    pthread_mutex_unlock(&pool->lock);
    return ok;
}

void iopool_free(IoPool *pool)
{
    if (!pool)
        return;
    pthread_mutex_lock(&pool->lock);
    pool->stopping = true;
    pthread_cond_broadcast(&pool->cond);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 0; i < pool->nthreads; i++)
        pthread_join(pool->threads[i], NULL);
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->cond);
    free(pool);
}
