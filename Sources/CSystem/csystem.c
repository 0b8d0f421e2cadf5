#define _GNU_SOURCE
#include "csystem.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
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

// MARK: - Crash cleanup

// A crash (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT) cannot reach the program's own cleanup, so
// the temporary outputs alive at that moment are listed here too, as C strings the handler can
// unlink with async-signal-safe calls only; the handler then restores the default action and
// re-raises, so a crash stays a crash for the exit status. Swift's TemporaryFiles keeps the list
// in step (register/remove, under its lock, so there is one writer at a time).
static char *volatile *crash_slots = NULL;
static volatile size_t crash_slot_count = 0;
static size_t crash_slot_capacity = 0;
static int *crash_free_slots = NULL;
static size_t crash_free_count = 0;
static const char *const crash_suffixes[] = {".aux.xml", ".ovr", ".msk", ".ovr.aux.xml", ".ovr.tmp", ".msk.ovr.tmp"};
static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
static int crash_handlers_wanted = 0;

// A sanitizer build keeps the sanitizer's own handlers, whose reports say where a crash was.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TESSERA_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TESSERA_SANITIZED 1
#endif
#endif

static void crash_unlink_with_suffixes(const char *path) {
  unlink(path);
  char name[4200];
  size_t length = 0;
  while (path[length] != 0 && length < 4096) { name[length] = path[length]; length++; }
  if (path[length] != 0) return;
  for (size_t k = 0; k < sizeof crash_suffixes / sizeof crash_suffixes[0]; k++) {
    size_t end = length;
    for (const char *c = crash_suffixes[k]; *c != 0; c++) name[end++] = *c;
    name[end] = 0;
    unlink(name);
  }
}

// Helper processes (ffmpeg) that must not outlive a crash: a helper still running would write
// its temporary file again after it is unlinked. Leaders of their own process groups.
#define CRASH_CHILD_SLOTS 16
static volatile pid_t crash_children[CRASH_CHILD_SLOTS];

int tessera_crash_child_add(pid_t pid) {
  for (int i = 0; i < CRASH_CHILD_SLOTS; i++) {
    pid_t empty = 0;
    if (__atomic_compare_exchange_n(&crash_children[i], &empty, pid, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) return i;
  }
  return -1;
}

void tessera_crash_child_remove(int slot) {
  if (slot >= 0 && slot < CRASH_CHILD_SLOTS) __atomic_store_n(&crash_children[slot], 0, __ATOMIC_RELEASE);
}

static void crash_cleanup(int number) {
  int saved = errno;
  // Helpers end first (and are reaped), so none writes after the unlinking below.
  for (int i = 0; i < CRASH_CHILD_SLOTS; i++) {
    pid_t pid = __atomic_load_n(&crash_children[i], __ATOMIC_ACQUIRE);
    if (pid > 0) {
      kill(-pid, SIGKILL);
      waitpid(pid, NULL, 0);
    }
  }
  // The count first: an array published after it holds at least as many slots.
  size_t count = __atomic_load_n(&crash_slot_count, __ATOMIC_ACQUIRE);
  char *volatile *slots = __atomic_load_n(&crash_slots, __ATOMIC_ACQUIRE);
  for (size_t i = 0; slots != NULL && i < count; i++) {
    char *path = __atomic_load_n(&slots[i], __ATOMIC_ACQUIRE);
    if (path != NULL) crash_unlink_with_suffixes(path);
  }
  // The default action, then the signal again: it is blocked while this handler runs, so it is
  // delivered on return (a fault re-executes its instruction and faults again, abort() re-raises).
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = SIG_DFL;
  sigemptyset(&action.sa_mask);
  sigaction(number, &action, NULL);
  raise(number);
  errno = saved;
}

static void install_crash_handlers(void) {
#ifdef TESSERA_SANITIZED
  return;
#endif
  // An alternate stack, so that a stack overflow on the main thread still reaches the handler.
  static char alternate[64 * 1024];
  stack_t stack;
  memset(&stack, 0, sizeof stack);
  stack.ss_sp = alternate;
  stack.ss_size = sizeof alternate;
  sigaltstack(&stack, NULL);
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = crash_cleanup;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_ONSTACK;
  for (size_t k = 0; k < sizeof crash_signals / sizeof crash_signals[0]; k++) sigaction(crash_signals[k], &action, NULL);
}

int tessera_crash_cleanup_add(const char *path) {
  char *copy = strdup(path);
  if (copy == NULL) return -1;
  if (crash_free_count > 0) {
    int slot = crash_free_slots[--crash_free_count];
    __atomic_store_n(&crash_slots[slot], copy, __ATOMIC_RELEASE);
    return slot;
  }
  if (crash_slot_count == crash_slot_capacity) {
    // A new, larger array is published whole; the old one stays allocated, as a handler may be
    // reading it at this very moment.
    size_t capacity = crash_slot_capacity == 0 ? 64 : crash_slot_capacity * 2;
    char *volatile *grown = calloc(capacity, sizeof *grown);
    int *free_slots = realloc(crash_free_slots, capacity * sizeof *free_slots);
    if (grown == NULL || free_slots == NULL) {
      free((void *)grown);
      if (free_slots != NULL) crash_free_slots = free_slots;
      free(copy);
      return -1;
    }
    crash_free_slots = free_slots;
    for (size_t i = 0; i < crash_slot_count; i++) grown[i] = crash_slots[i];
    __atomic_store_n(&crash_slots, grown, __ATOMIC_RELEASE);
    crash_slot_capacity = capacity;
  }
  size_t slot = crash_slot_count;
  __atomic_store_n(&crash_slots[slot], copy, __ATOMIC_RELEASE);
  __atomic_store_n(&crash_slot_count, slot + 1, __ATOMIC_RELEASE);
  return (int)slot;
}

void tessera_crash_cleanup_remove(int slot) {
  if (slot < 0 || (size_t)slot >= crash_slot_count) return;
  char *path = __atomic_exchange_n(&crash_slots[slot], NULL, __ATOMIC_ACQ_REL);
  if (path == NULL) return;
  free(path);
  crash_free_slots[crash_free_count++] = slot;
}

// Swift's runtime may install crash handlers of its own (its backtracer) from its initialiser,
// which runs after .preinit_array: the executable's own constructors run after every shared
// library's, so this puts the cleanup handler back.
__attribute__((constructor)) static void reinstall_crash_handlers(void) {
  if (crash_handlers_wanted) install_crash_handlers();
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
  crash_handlers_wanted = 1;
  install_crash_handlers();
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

