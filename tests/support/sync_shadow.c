/* Test-only LD_PRELOAD library: remembers what a process made durable, so that a test can rebuild the files a
 * power cut would leave (tests/integration/power_cut_test.cpp). After every successful fsync or fdatasync of a
 * descriptor below CRENI_SYNC_ROOT, it records in CRENI_SYNC_SHADOW:
 *   - a regular file: its whole content as of the sync, in "ino-<inode>-<birth ns>";
 *   - a directory: its entries as of the sync ("<type> <inode>-<birth ns> <name>" lines), in "dir-<inode>-<birth ns>".
 * Keyed by inode and birth time, so a rename after a sync keeps the content, and an inode reused by a new file
 * never inherits an old file's content. Everything not followed by a sync (data written, entries created, renamed,
 * removed) is absent from the record: that is what a power cut may lose, and the rebuild drops all of it. The
 * record is written without syncs of its own (only the test reads it, after the process died). */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef int (*sync_function)(int);
static sync_function real_fsync;
static sync_function real_fdatasync;

/* dlsym returns an object pointer; POSIX guarantees it converts to a function pointer. */
static sync_function next_sync_function(const char* name) {
  sync_function function;
  void* symbol = dlsym(RTLD_NEXT, name);
  memcpy(&function, &symbol, sizeof function);
  return function;
}

static int identity_of(int dirfd, const char* path, int flags, char* out, size_t size, unsigned* mode) {
  struct statx info;
  if (statx(dirfd, path, flags | AT_SYMLINK_NOFOLLOW, STATX_INO | STATX_BTIME | STATX_TYPE, &info) != 0) return -1;
  *mode = info.stx_mode;
  snprintf(out, size, "%llu-%lld%09u", (unsigned long long)info.stx_ino, (long long)info.stx_btime.tv_sec,
           info.stx_btime.tv_nsec);
  return 0;
}

static void publish(const char* shadow, const char* temp, const char* name) {
  char final_path[PATH_MAX];
  snprintf(final_path, sizeof final_path, "%s/%s", shadow, name);
  rename(temp, final_path);
}

static void record_file(int fd, const char* shadow, const char* id) {
  char temp[PATH_MAX];
  snprintf(temp, sizeof temp, "%s/.tmp-%ld", shadow, (long)syscall(SYS_gettid));
  int out = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) return;
  char buffer[65536];
  off_t offset = 0;
  for (;;) {
    ssize_t n = pread(fd, buffer, sizeof buffer, offset);
    if (n <= 0) break;
    if (write(out, buffer, (size_t)n) != n) break;
    offset += n;
  }
  close(out);
  char name[160];
  snprintf(name, sizeof name, "ino-%s", id);
  publish(shadow, temp, name);
}

static void record_directory(const char* path, const char* shadow, const char* id) {
  DIR* dir = opendir(path);
  if (dir == NULL) return;
  char temp[PATH_MAX];
  snprintf(temp, sizeof temp, "%s/.tmp-%ld", shadow, (long)syscall(SYS_gettid));
  FILE* out = fopen(temp, "we");
  if (out == NULL) {
    closedir(dir);
    return;
  }
  for (struct dirent* entry = readdir(dir); entry != NULL; entry = readdir(dir)) {
    if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
    char child[128];
    unsigned mode = 0;
    if (identity_of(dirfd(dir), entry->d_name, 0, child, sizeof child, &mode) != 0) continue;
    const char type = S_ISDIR(mode) ? 'd' : S_ISREG(mode) ? 'f' : '?';
    if (type != '?') fprintf(out, "%c %s %s\n", type, child, entry->d_name);
  }
  fclose(out);
  closedir(dir);
  char name[160];
  snprintf(name, sizeof name, "dir-%s", id);
  publish(shadow, temp, name);
}

static void record(int fd) {
  const char* shadow = getenv("CRENI_SYNC_SHADOW");
  const char* root = getenv("CRENI_SYNC_ROOT");
  if (shadow == NULL || root == NULL) return;
  char link[64];
  char path[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t length = readlink(link, path, sizeof path - 1);
  if (length <= 0) return;
  path[length] = '\0';
  const size_t root_length = strlen(root);
  if (strncmp(path, root, root_length) != 0 || (path[root_length] != '/' && path[root_length] != '\0')) return;
  char id[128];
  unsigned mode = 0;
  if (identity_of(fd, "", AT_EMPTY_PATH, id, sizeof id, &mode) != 0) return;
  if (S_ISREG(mode)) {
    /* The descriptor may be write-only: read the file through a descriptor of our own. */
    const int readable = open(link, O_RDONLY | O_CLOEXEC);
    if (readable < 0) return;
    record_file(readable, shadow, id);
    close(readable);
  } else if (S_ISDIR(mode)) {
    record_directory(path, shadow, id);
  }
}

int fsync(int fd) {
  if (real_fsync == NULL) real_fsync = next_sync_function("fsync");
  const int result = real_fsync(fd);
  if (result == 0) record(fd);
  return result;
}

int fdatasync(int fd) {
  if (real_fdatasync == NULL) real_fdatasync = next_sync_function("fdatasync");
  const int result = real_fdatasync(fd);
  if (result == 0) record(fd);
  return result;
}
