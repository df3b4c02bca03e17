/* Helper threads started deaf to signals (include/cybersieve/util.h). */
#include <pthread.h>
#include <signal.h>

#include "cybersieve/util.h"

int util_thread_start_quiet(pthread_t *th, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int e = pthread_create(th, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return e;
}
