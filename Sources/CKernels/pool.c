// Persistent worker threads. Workers spin briefly after each job (decode issues hundreds of
// small jobs per token, and waking a sleeping thread costs tens of microseconds), then sleep
// on a condition variable so an idle engine uses no CPU. Every spin loop yields often: when
// the machine is oversubscribed two of our threads can share a core, and a thread that spins
// through its time slice would stall the one it is waiting for by milliseconds.
#include "CKernels.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sched.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define GLM_PAUSE() _mm_pause()
#else
#define GLM_PAUSE() ((void)0)
#endif

enum { SPIN_ROUNDS = 20000, YIELD_EVERY = 64 };

struct glm_pool {
    int32_t threads;
    pthread_t *workers;
    pthread_mutex_t mutex;
    pthread_cond_t wake;
    _Atomic uint64_t generation;
    _Atomic int64_t next_task;
    _Atomic int32_t finished;
    _Atomic int32_t stop;
    int64_t tasks;
    glm_task_fn fn;
    void *context;
};

typedef struct { glm_pool *pool; int32_t index; } worker_arg;

static void run_tasks(glm_pool *pool, int32_t thread) {
    for (;;) {
        int64_t task = atomic_fetch_add_explicit(&pool->next_task, 1, memory_order_relaxed);
        if (task >= pool->tasks) break;
        pool->fn(pool->context, task, thread);
    }
}

static void *worker_main(void *raw) {
    worker_arg arg = *(worker_arg *)raw;
    free(raw);
    glm_pool *pool = arg.pool;
    uint64_t seen = 0;
    for (;;) {
        uint64_t gen = atomic_load_explicit(&pool->generation, memory_order_acquire);
        for (int spin = 0; gen == seen && spin < SPIN_ROUNDS; spin++) {
            if (spin % YIELD_EVERY == YIELD_EVERY - 1) sched_yield();
            else GLM_PAUSE();
            gen = atomic_load_explicit(&pool->generation, memory_order_acquire);
        }
        if (gen == seen) {
            pthread_mutex_lock(&pool->mutex);
            while ((gen = atomic_load_explicit(&pool->generation, memory_order_acquire)) == seen &&
                   !atomic_load(&pool->stop)) {
                pthread_cond_wait(&pool->wake, &pool->mutex);
            }
            pthread_mutex_unlock(&pool->mutex);
        }
        if (atomic_load(&pool->stop)) return NULL;
        seen = gen;
        run_tasks(pool, arg.index);
        atomic_fetch_add_explicit(&pool->finished, 1, memory_order_acq_rel);
    }
}

glm_pool *glm_pool_create(int32_t threads) {
    if (threads < 1) threads = 1;
    glm_pool *pool = calloc(1, sizeof(glm_pool));
    if (!pool) return NULL;
    pool->threads = threads;
    pthread_mutex_init(&pool->mutex, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pool->workers = calloc((size_t)threads, sizeof(pthread_t));
    for (int32_t i = 1; i < threads; i++) {
        worker_arg *arg = malloc(sizeof(worker_arg));
        arg->pool = pool;
        arg->index = i;
        pthread_create(&pool->workers[i], NULL, worker_main, arg);
    }
    return pool;
}

void glm_pool_destroy(glm_pool *pool) {
    if (!pool) return;
    pthread_mutex_lock(&pool->mutex);
    atomic_store(&pool->stop, 1);
    atomic_fetch_add(&pool->generation, 1);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mutex);
    for (int32_t i = 1; i < pool->threads; i++) pthread_join(pool->workers[i], NULL);
    pthread_mutex_destroy(&pool->mutex);
    pthread_cond_destroy(&pool->wake);
    free(pool->workers);
    free(pool);
}

int32_t glm_pool_threads(const glm_pool *pool) { return pool ? pool->threads : 1; }

void glm_pool_run(glm_pool *pool, int64_t tasks, glm_task_fn fn, void *context) {
    if (tasks <= 0) return;
    if (!pool || pool->threads == 1 || tasks == 1) {
        for (int64_t t = 0; t < tasks; t++) fn(context, t, 0);
        return;
    }
    pool->tasks = tasks;
    pool->fn = fn;
    pool->context = context;
    atomic_store_explicit(&pool->next_task, 0, memory_order_relaxed);
    atomic_store_explicit(&pool->finished, 0, memory_order_relaxed);
    atomic_fetch_add_explicit(&pool->generation, 1, memory_order_release);
    pthread_mutex_lock(&pool->mutex);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mutex);
    run_tasks(pool, 0);
    int32_t others = pool->threads - 1;
    int64_t spins = 0;
    while (atomic_load_explicit(&pool->finished, memory_order_acquire) < others) {
        if (++spins % YIELD_EVERY == 0) sched_yield();
        else GLM_PAUSE();
    }
}
