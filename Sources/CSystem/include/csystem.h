#ifndef TESSERA_CSYSTEM_H
#define TESSERA_CSYSTEM_H
// System calls Swift cannot reach through Glibc's module: renameat2 needs _GNU_SOURCE.

/// Renames `from` to `to` only when `to` does not exist: renameat2(RENAME_NOREPLACE), or
/// link(2) then unlink(2) where the kernel or file system lacks it. Returns 0, or -1 with errno
/// set (EEXIST when `to` exists).
int tessera_rename_noreplace(const char *from, const char *to);

/// The first of SIGINT, SIGTERM or SIGHUP that arrived before `main` could install its
/// handlers (0 if none). A handler that only notes the signal is installed before the shared
/// libraries' own initialisers run (GDAL's take tens of milliseconds), so no signal in that time
/// kills the process; `main` acts on the note once its real handlers are in place.
int tessera_early_signal(void);

#endif
