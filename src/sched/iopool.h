/*
 * A small pool of threads for blocking work that no poller can wait for:
 * reads and writes of regular files (and fsync).  A process hands a job
 * over with sched_offload() and parks; the job runs here, and its end wakes
 * the process.  So a slow disk holds up one I/O thread, never a worker
 * with other processes to run.
 *
 * Threads start on demand, one more whenever a job arrives and none is
 * idle, up to IOPOOL_MAX; they live until the runtime ends.
 */
#ifndef LW_SCHED_IOPOOL_H
#define LW_SCHED_IOPOOL_H

#include <stdbool.h>
#include "sched/sched.h"

#define IOPOOL_MAX 8

typedef struct IoPool IoPool;

/* A pool whose finished jobs are handed to done(job), on the pool thread. */
IoPool *iopool_new(void (*done)(IoJob *));
/* Queue a job: job->run(job) runs on a pool thread, then done(job). */
bool iopool_submit(IoPool *pool, IoJob *job);
/* Finish every queued job, then stop and free the threads. */
void iopool_free(IoPool *pool);

#endif
