#define _GNU_SOURCE
#include "csystem.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int tessera_rename_noreplace(const char *from, const char *to) {
  if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return -1;
  // link(2) fails with EEXIST rather than replace, which is the promise kept here.
  if (link(from, to) != 0) return -1;
  unlink(from);
  return 0;
}

// MARK: - Signals before main

static volatile sig_atomic_t early_signal = 0;

static void note_signal(int number) {
  if (early_signal == 0) early_signal = number;
}

// Runs from the executable's .preinit_array: after the dynamic loader, before any shared
// library's initialiser and before Swift's runtime. The test runner (an .xctest executable that
// links this file too) keeps the default dispositions.
static void install_early_handlers(int argc, char **argv, char **envp) {
  (void)argc; (void)argv;
  char exe[4096];
  ssize_t length = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (length > 0) {
    exe[length] = 0;
    if (strstr(exe, ".xctest") != NULL) return;
  }
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = note_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, NULL);
  sigaction(SIGTERM, &action, NULL);
  sigaction(SIGHUP, &action, NULL);
  // A write past RLIMIT_FSIZE then fails with EFBIG, and one to a closed pipe (`| head`) with
  // EPIPE, instead of killing the process.
  signal(SIGXFSZ, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  // A job of `tessera batch`: when the batch dies, even by SIGKILL, the kernel sends this
  // process SIGTERM, so it removes its temporary files and stops instead of finishing an output
  // no journal will record. (The batch starts jobs from threads that outlive them: the signal
  // follows the parent thread's end, not the process's.) A batch already gone by now is
  // caught by comparing the parent's pid.
  // environ is not set yet this early: read the environment handed to the initialiser.
  const char *parent = NULL;
  static const char key[] = "TESSERA_BATCH_PARENT=";
  for (char **entry = envp; entry != NULL && *entry != NULL; entry++) {
    if (strncmp(*entry, key, sizeof key - 1) == 0) parent = *entry + sizeof key - 1;
  }
  if (parent != NULL && *parent != 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != (pid_t)atol(parent)) note_signal(SIGTERM);
  }
}

__attribute__((section(".preinit_array"), used))
static void (*const early_handlers_entry)(int, char **, char **) = install_early_handlers;

int tessera_early_signal(void) { return early_signal; }
