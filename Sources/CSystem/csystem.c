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

int tessera_spawn_close_from(posix_spawn_file_actions_t *actions, int from) {
  return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

int tessera_rename_noreplace(const char *from, const char *to) {
  if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return -1;
  // link(2) fails with EEXIST rather than replace, which is the promise kept here.
  if (link(from, to) != 0) return -1;
  unlink(from);
  return 0;
}

// MARK: - Standard descriptors

// Holds each of 0, 1 and 2 that is closed with /dev/null opened read-only, so that no file the
// program opens (the signal pipe first) takes a standard stream's number: a closed stdin reads as
// empty, a write to a closed stdout or stderr fails (EBADF) as it would on the closed stream. The
// launcher does the same; this covers the engine run directly and the test runner.
void tessera_reserve_standard_descriptors(void) {
  for (int fd = 0; fd <= 2; fd++) {
    if (fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    // open(2) takes the lowest free number, which is `fd`: those below it are held by now.
    int opened = open("/dev/null", O_RDONLY);
    if (opened >= 0 && opened != fd) close(opened);
  }
}

// MARK: - Signals

// The handler's only way to the program: one byte a signal into this pipe, read by a thread
// (Interruption.swift). The handler is installed once and never replaced or ignored, so no
// signal between the dynamic loader and the end of the process is lost or fatal.
static int signal_pipe[2] = {-1, -1};

static void note_signal(int number) {
  int saved = errno;
  if (signal_pipe[1] >= 0) {
    unsigned char byte = (unsigned char)number;
    ssize_t written = write(signal_pipe[1], &byte, 1);
    (void)written;
  }
  errno = saved;
}

int tessera_install_signal_handlers(void) {
  if (signal_pipe[0] >= 0) return signal_pipe[0];
  tessera_reserve_standard_descriptors();
  if (pipe2(signal_pipe, O_CLOEXEC) != 0) return -1;
  // The handler must never block on a full pipe; the reader blocks.
  fcntl(signal_pipe[1], F_SETFL, fcntl(signal_pipe[1], F_GETFL) | O_NONBLOCK);
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = note_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, NULL);
  sigaction(SIGTERM, &action, NULL);
  sigaction(SIGHUP, &action, NULL);
  // A parent that started this process with the signals blocked (tessera batch does, so that
  // none arrives while the dynamic loader maps GDAL's libraries) gets them delivered now.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  sigprocmask(SIG_UNBLOCK, &set, NULL);
  return signal_pipe[0];
}

// Runs from the executable's .preinit_array: after the dynamic loader, before any shared
// library's initialiser and before Swift's runtime. The test runner (an .xctest executable that
// links this file too) keeps the default dispositions.
static void install_early_handlers(int argc, char **argv, char **envp) {
  (void)argc; (void)argv;
  tessera_reserve_standard_descriptors();
  char exe[4096];
  ssize_t length = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (length > 0) {
    exe[length] = 0;
    if (strstr(exe, ".xctest") != NULL) return;
  }
  tessera_install_signal_handlers();
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

