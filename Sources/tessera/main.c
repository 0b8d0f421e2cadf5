// The `tessera` command: a small launcher (C and glibc, statically linked, no Swift runtime:
// under a megabyte) that runs the real program (tessera-engine) with SIGINT, SIGTERM and SIGHUP
// blocked.
//
// Why: tessera-engine links GDAL, whose libraries (about 130) take the dynamic loader tens of
// milliseconds to map and relocate. No code of the program runs in that time, so a signal
// arriving then would kill it with the default action. A blocked signal instead stays pending
// across execve, and the engine's first code (csystem.c, from .preinit_array) installs its
// handler and unblocks: the signal is then handled like any other, with exit 130, 143 or 129.
// This launcher has no dynamic loading to do, so its own window is the execve alone.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char engine_name[] = "tessera-engine";

// Where the engine is: beside this file (a build folder), or in ../libexec/tessera (an install).
static int find_engine(char *out, size_t size) {
  char self[PATH_MAX];
  ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
  if (length <= 0) return -1;
  self[length] = 0;
  char *folder = dirname(self);
  const char *candidates[] = {"%s/%s", "%s/../libexec/tessera/%s"};
  for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
    int n = snprintf(out, size, candidates[i], folder, engine_name);
    if (n > 0 && (size_t)n < size && access(out, X_OK) == 0) return 0;
  }
  return -1;
}

static sigset_t previous;

// A descriptor 0, 1 or 2 the caller left closed (`<&-`, `>&-`) would be the next file the
// program opens: its signal pipe read as a manifest from "stdin", its report written into an
// output. Each closed one is held by /dev/null opened read-only: reading it is an empty input,
// and writing to it fails (EBADF) as a write to a closed stream does. The engine inherits them.
static void reserve_standard_descriptors(void) {
  for (int fd = 0; fd <= 2; fd++) {
    if (fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    // open(2) takes the lowest free number, which is `fd`: those below it are held by now.
    int opened = open("/dev/null", O_RDONLY);
    if (opened >= 0 && opened != fd) close(opened);
  }
}

// The first code to run in this process (.preinit_array comes before every initialiser of the
// static runtime linked in), so the window is the execve alone.
static void block_signals(int argc, char **argv, char **envp) {
  (void)argc; (void)argv; (void)envp;
  reserve_standard_descriptors();
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  sigprocmask(SIG_BLOCK, &set, &previous);
}

__attribute__((section(".preinit_array"), used))
static void (*const block_signals_entry)(int, char **, char **) = block_signals;

int main(int argc, char **argv) {
  (void)argc;
  char engine[PATH_MAX];
  if (find_engine(engine, sizeof engine) != 0) {
    sigprocmask(SIG_SETMASK, &previous, NULL);
    fprintf(stderr, "tessera: %s is missing beside %s or in ../libexec/tessera; reinstall Tessera\n", engine_name, "the tessera command");
    return 70;
  }
  execv(engine, argv);
  int error = errno;
  sigprocmask(SIG_SETMASK, &previous, NULL);
  fprintf(stderr, "tessera: cannot run %s: %s\n", engine, strerror(error));
  return 70;
}
