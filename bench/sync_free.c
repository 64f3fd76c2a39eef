/* Bench-only LD_PRELOAD library for the --ceiling runs of bench/*.py: every fsync, fdatasync, syncfs and sync
 * returns at once, having done nothing. A node started with it is NOT durable; what it reaches is the most any
 * design could reach on this machine while doing the node's work, since a sync only ever adds time. The benches
 * print that figure beside the floors, so that a ratio shows how much of the distance to a floor is durability
 * (syncs) and how much is the work itself (receiving, hashing, journal, processing, forwarding on these cores). */
#include <unistd.h>

int fsync(int fd) {
  (void)fd;
  return 0;
}

int fdatasync(int fd) {
  (void)fd;
  return 0;
}

int syncfs(int fd) {
  (void)fd;
  return 0;
}

void sync(void) {}
