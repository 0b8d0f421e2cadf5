#ifndef TESSERA_CSYSTEM_H
#define TESSERA_CSYSTEM_H
#include <sys/types.h>
// System calls Swift cannot reach through Glibc's module: renameat2 needs _GNU_SOURCE.

/// Renames `from` to `to` only when `to` does not exist: renameat2(RENAME_NOREPLACE), or
/// link(2) then unlink(2) where the kernel or file system lacks it. Returns 0, or -1 with errno
/// set (EEXIST when `to` exists).
int tessera_rename_noreplace(const char *from, const char *to);

/// Installs the one handler of SIGINT, SIGTERM and SIGHUP (idempotent) and unblocks them;
/// returns the read end of the pipe that gets one byte, the signal's number, per signal (-1 if
/// no pipe could be made). The executable installs it from .preinit_array, before the shared
/// libraries' initialisers (GDAL's take tens of milliseconds), so no signal after the dynamic
/// loader kills the process; the program reads the pipe on a thread of its own.
int tessera_install_signal_handlers(void);

/// Lists a temporary file (and its sidecars) for removal should the process crash (SIGSEGV,
/// SIGBUS, SIGILL, SIGFPE, SIGABRT); returns its slot for tessera_crash_cleanup_remove, or -1
/// when no memory was left to list it. Not thread-safe: callers hold one lock.
int tessera_crash_cleanup_add(const char *path);

/// Takes a slot from tessera_crash_cleanup_add off the list.
void tessera_crash_cleanup_remove(int slot);

/// Lists a helper process (the leader of its own process group) to be killed and reaped should
/// the process crash, before the temporary files are unlinked; returns its slot, or -1 when all
/// are taken.
int tessera_crash_child_add(pid_t pid);

/// Takes a slot from tessera_crash_child_add off the list.
void tessera_crash_child_remove(int slot);

/// Opens /dev/null read-only on each of descriptors 0, 1 and 2 that is closed, so the program's
/// own files never take a standard stream's number; a write to a closed stdout still fails.
void tessera_reserve_standard_descriptors(void);

#include <sys/types.h>
#include <spawn.h>

/// posix_spawn_file_actions_addclosefrom_np (glibc 2.34), which needs _GNU_SOURCE: every
/// descriptor from `from` up is closed in the child.
int tessera_spawn_close_from(posix_spawn_file_actions_t *actions, int from);

#endif
