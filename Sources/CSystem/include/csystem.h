#ifndef TESSERA_CSYSTEM_H
#define TESSERA_CSYSTEM_H
// System calls Swift cannot reach through Glibc's module: renameat2 needs _GNU_SOURCE.

/// Renames `from` to `to` only when `to` does not exist: renameat2(RENAME_NOREPLACE), or
/// link(2) then unlink(2) where the kernel or file system lacks it. Returns 0, or -1 with errno
/// set (EEXIST when `to` exists).
int tessera_rename_noreplace(const char *from, const char *to);

#endif
