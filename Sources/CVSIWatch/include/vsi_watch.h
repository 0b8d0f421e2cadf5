#ifndef TESSERA_VSI_WATCH_H
#define TESSERA_VSI_WATCH_H
// A GDAL virtual file system, "/vsiwatch", that forwards every call to the real file named
// after the prefix and remembers each failed write, flush, truncate, seek or close, with its
// errno. Outputs are written through it so that a failure while writing can be attributed to
// the output by the operating system's own report (ENOSPC, EFBIG, EIO), never guessed from
// the wording of a driver's message.

#include <stddef.h>

/// The prefix: "/vsiwatch/tmp/out.tif" is "/tmp/out.tif", watched.
#define VSI_WATCH_PREFIX "/vsiwatch"

/// Installs the handler once; safe to call again.
void vsi_watch_install(void);

/// One remembered failure.
typedef struct {
  int error_number;      ///< errno as the C library set it
  char operation[16];    ///< "open", "write", "flush", "truncate", "seek", "close", "read"
  char path[4096];       ///< the real path
} vsi_watch_failure;

/// Copies the first failure on a real path starting with `path_prefix` into `out`;
/// returns 1 when there is one, 0 otherwise.
int vsi_watch_failure_under(const char *path_prefix, vsi_watch_failure *out);

/// Forgets the failures on paths starting with `path_prefix`.
void vsi_watch_forget(const char *path_prefix);

#endif
