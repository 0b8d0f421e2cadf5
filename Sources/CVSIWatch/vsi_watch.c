// See vsi_watch.h. Files are plain stdio streams, as GDAL's own local-file handler uses, so
// buffering and performance stay what GDAL gives a local path.
#define _GNU_SOURCE
#include "vsi_watch.h"

#include <cpl_vsi.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// MARK: - Failures

#define MAX_FAILURES 64

static pthread_mutex_t failures_lock = PTHREAD_MUTEX_INITIALIZER;
static vsi_watch_failure failures[MAX_FAILURES];
static int failure_count = 0;

static void remember(const char *operation, const char *path, int error_number) {
  pthread_mutex_lock(&failures_lock);
  // One entry per path is enough: the first failure explains the ones after it.
  int known = 0;
  for (int i = 0; i < failure_count; i++) {
    if (strcmp(failures[i].path, path) == 0) { known = 1; break; }
  }
  if (!known && failure_count < MAX_FAILURES) {
    vsi_watch_failure *f = &failures[failure_count++];
    f->error_number = error_number != 0 ? error_number : EIO;
    snprintf(f->operation, sizeof f->operation, "%s", operation);
    snprintf(f->path, sizeof f->path, "%s", path);
  }
  pthread_mutex_unlock(&failures_lock);
}

int vsi_watch_failure_under(const char *path_prefix, vsi_watch_failure *out) {
  size_t n = strlen(path_prefix);
  int found = 0;
  pthread_mutex_lock(&failures_lock);
  for (int i = 0; i < failure_count; i++) {
    if (strncmp(failures[i].path, path_prefix, n) == 0) {
      *out = failures[i];
      found = 1;
      break;
    }
  }
  pthread_mutex_unlock(&failures_lock);
  return found;
}

void vsi_watch_forget(const char *path_prefix) {
  size_t n = strlen(path_prefix);
  pthread_mutex_lock(&failures_lock);
  int kept = 0;
  for (int i = 0; i < failure_count; i++) {
    if (strncmp(failures[i].path, path_prefix, n) != 0) failures[kept++] = failures[i];
  }
  failure_count = kept;
  pthread_mutex_unlock(&failures_lock);
}

// MARK: - Handles

typedef struct {
  FILE *file;
  char *path;
  // stdio needs a positioning call between a write and a read on the same stream.
  enum { LAST_NONE, LAST_READ, LAST_WRITE } last;
  int failed;
} watched_file;

static void fail(watched_file *w, const char *operation) {
  int saved = errno;
  w->failed = 1;
  remember(operation, w->path, saved);
  errno = saved;
}

static void reposition(watched_file *w, int next) {
  if (w->last != LAST_NONE && w->last != next) fseeko(w->file, ftello(w->file), SEEK_SET);
  w->last = next;
}

// The name after the prefix keeps its leading slash: "/vsiwatch/tmp/a" -> "/tmp/a".
static void *open_cb(void *user, const char *name, const char *access) {
  (void)user;
  // GDAL asks for "rb", "r+b", "wb", "w+b", "ab" and "a+b"; stdio takes them as they are.
  FILE *file = fopen(name, access);
  if (file == NULL) {
    // A missing file opened for reading is a question, not a failure of the output.
    if (access[0] != 'r' || errno != ENOENT) remember("open", name, errno);
    return NULL;
  }
  watched_file *w = calloc(1, sizeof *w);
  if (w == NULL) { fclose(file); errno = ENOMEM; return NULL; }
  w->file = file;
  w->path = strdup(name);
  return w;
}

static vsi_l_offset tell_cb(void *handle) {
  watched_file *w = handle;
  off_t position = ftello(w->file);
  return position < 0 ? 0 : (vsi_l_offset)position;
}

static int seek_cb(void *handle, vsi_l_offset offset, int whence) {
  watched_file *w = handle;
  // Seeking ends a run of reads or writes, so no repositioning is owed after it.
  w->last = LAST_NONE;
  if (fseeko(w->file, (off_t)offset, whence) != 0) { fail(w, "seek"); return -1; }
  return 0;
}

static size_t read_cb(void *handle, void *buffer, size_t size, size_t count) {
  watched_file *w = handle;
  reposition(w, LAST_READ);
  size_t done = fread(buffer, size, count, w->file);
  // Reading past the end is how drivers probe; only an error of the stream is a failure.
  if (done < count && ferror(w->file)) { fail(w, "read"); clearerr(w->file); }
  return done;
}

static int eof_cb(void *handle) {
  watched_file *w = handle;
  return feof(w->file) ? 1 : 0;
}

static size_t write_cb(void *handle, const void *buffer, size_t size, size_t count) {
  watched_file *w = handle;
  reposition(w, LAST_WRITE);
  size_t done = fwrite(buffer, size, count, w->file);
  if (done < count) fail(w, "write");
  return done;
}

static int flush_cb(void *handle) {
  watched_file *w = handle;
  if (fflush(w->file) != 0) { fail(w, "flush"); return -1; }
  return 0;
}

static int truncate_cb(void *handle, vsi_l_offset size) {
  watched_file *w = handle;
  if (fflush(w->file) != 0) { fail(w, "flush"); return -1; }
  if (ftruncate(fileno(w->file), (off_t)size) != 0) { fail(w, "truncate"); return -1; }
  return 0;
}

static int close_cb(void *handle) {
  watched_file *w = handle;
  int status = fclose(w->file);
  if (status != 0) {
    int saved = errno;
    remember("close", w->path, saved);
    errno = saved;
  }
  free(w->path);
  free(w);
  return status == 0 ? 0 : -1;
}

// MARK: - File system calls, forwarded to GDAL's own handler for the real path

static int stat_cb(void *user, const char *name, VSIStatBufL *buffer, int flags) {
  (void)user;
  return VSIStatExL(name, buffer, flags);
}

static int unlink_cb(void *user, const char *name) {
  (void)user;
  return unlink(name);
}

static int rename_cb(void *user, const char *from, const char *to) {
  (void)user;
  return rename(from, to);
}

static int mkdir_cb(void *user, const char *name, long mode) {
  (void)user;
  return mkdir(name, (mode_t)mode);
}

static int rmdir_cb(void *user, const char *name) {
  (void)user;
  return rmdir(name);
}

static char **read_dir_cb(void *user, const char *name, int max) {
  (void)user;
  return VSIReadDirEx(name, max);
}

static pthread_once_t installed = PTHREAD_ONCE_INIT;

static void install(void) {
  VSIFilesystemPluginCallbacksStruct *callbacks = VSIAllocFilesystemPluginCallbacksStruct();
  callbacks->open = open_cb;
  callbacks->tell = tell_cb;
  callbacks->seek = seek_cb;
  callbacks->read = read_cb;
  callbacks->eof = eof_cb;
  callbacks->write = write_cb;
  callbacks->flush = flush_cb;
  callbacks->truncate = truncate_cb;
  callbacks->close = close_cb;
  callbacks->stat = stat_cb;
  callbacks->unlink = unlink_cb;
  callbacks->rename = rename_cb;
  callbacks->mkdir = mkdir_cb;
  callbacks->rmdir = rmdir_cb;
  callbacks->read_dir = read_dir_cb;
  // No trailing slash: GDAL hands the callbacks the name after the prefix, which then keeps
  // its leading slash and stays an absolute path (GDAL 3.6's plugin Unlink calls unlink(2)
  // on that name directly).
  VSIInstallPluginHandler(VSI_WATCH_PREFIX, callbacks);
  VSIFreeFilesystemPluginCallbacksStruct(callbacks);
}

void vsi_watch_install(void) { pthread_once(&installed, install); }
