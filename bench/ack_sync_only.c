/* Bench-only LD_PRELOAD library for the --ceiling runs of bench/end_to_end.py and bench/scp_ingest.py: every
 * fsync and fdatasync is a no-op except on the SCP's association threads (named "scp-<n>"), which sync for real.
 * The node then pays only the one sync its acknowledgement waits for (the spool file's) and none of the syncs of
 * processing, catalogue, journal or forwarding. Not durable; it shows how much of the distance between the durable
 * run and the no-sync ceiling is the acknowledgement's own sync, which no design that keeps the promise (success
 * only once the image is on stable storage) can leave out with one sender. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

typedef int (*sync_function)(int);

static int on_an_association_thread(void) {
  char name[17] = {0};
  if (prctl(PR_GET_NAME, name) != 0) return 0;
  return strncmp(name, "scp-", 4) == 0 && name[4] >= '0' && name[4] <= '9';
}

/* dlsym returns an object pointer; POSIX guarantees it converts to a function pointer. */
static sync_function next(const char* name) {
  sync_function function;
  void* symbol = dlsym(RTLD_NEXT, name);
  memcpy(&function, &symbol, sizeof function);
  return function;
}

int fsync(int fd) {
  static sync_function real;
  if (!on_an_association_thread()) return 0;
  if (real == NULL) real = next("fsync");
  return real(fd);
}

int fdatasync(int fd) {
  static sync_function real;
  if (!on_an_association_thread()) return 0;
  if (real == NULL) real = next("fdatasync");
  return real(fd);
}
