#!/usr/bin/python3
"""`make test`: the XCTest suite in parallel workers, one test class per process.

Lists the tests of the built test bundle, groups them by class (a few slow classes one test
per process, so they spread over the workers), and runs the groups WORKERS at a time, slowest
first, each as its own XCTest process with its output kept in .build/test-logs/. The classes in
EXCLUSIVE run afterwards one at a time, with nothing beside them. Each finished group prints
one line, and what its tests printed; a failed or crashed group prints its whole log. Exit
status 1 when any test failed, any group crashed, or a group ran fewer tests than it holds.

    /usr/bin/python3 Tools/run-tests.py [--workers N] [--filter REGEX] [--list]

Builds nothing: `swift build --build-tests` first (make test does). One class alone, with
XCTest's own output: swift test --skip-build --disable-swift-testing --filter Module.Class
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import threading
import time

# Classes whose one process would outlast the rest of the run: one test per process instead.
SPLIT = {"DamagedInputCorpusTests", "DifferentialTests", "ReadOwnOutputsTests", "TimelapseTrustTests",
         "StreamsAndLimitsTests", "ReadmeExamplesTests", "COGTests", "MergeMemfileCommandTests"}
# Classes that must have the machine to themselves (none today; say why when adding one).
EXCLUSIVE = set()
# The slowest groups as last measured, started first on a machine with no times of its own yet
# (.build/test-times.json holds the times of the last run and orders the next one).
SLOWEST = ["DamagedInputCorpusTests/testDamagedFilesNeverCrashNeverPassForDataAndLeaveNothing",
           "DifferentialTests/testTesseraAgreesWithGDALsToolsOnSeededCases",
           "ReadOwnOutputsTests/testEveryLayoutTesseraWritesIsReadByEveryReadingCommandAtOneTwoAndEightThreads",
           "TimelapseTrustTests/testManyFramesUnderALowOpenFileLimit",
           "ReadmeExamplesTests/testEveryExampleRunsAsWritten",
           "MergeMemfileCommandTests/testMemLimitBoundsTheResidentMemoryOfStaging"]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUMMARY = re.compile(r"Executed (\d+) tests?, with (\d+) failures?")
SKIPPED = re.compile(r"^Test Case '.*' skipped", re.M)
XCTEST_LINE = re.compile(r"^(Test Suite |Test Case |\s+Executed )")


def test_bundle():
  bin_path = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout.strip()
  bundles = glob.glob(os.path.join(bin_path, "*PackageTests.xctest"))
  if not bundles:
    sys.exit("run-tests: no test bundle in %s (swift build --build-tests first)" % bin_path)
  return bundles[0]


def list_tests(bundle):
  listed = subprocess.run([bundle, "--list-tests"], cwd=ROOT, check=True, capture_output=True, text=True).stdout
  return [line.strip() for line in listed.splitlines() if re.match(r"^\s*\w+\.\w+/\w+$", line)]


def groups_of(tests):
  """Module.Class -> its tests, or Module.Class/test -> [itself] for a split class."""
  groups = {}
  for test in tests:
    cls = test.split("/")[0]
    key = test if cls.split(".")[1] in SPLIT else cls
    groups.setdefault(key, []).append(test)
  return groups


def short(name):
  return name.split(".", 1)[1]


def expected_seconds(name, times):
  if name in times:
    return times[name]
  return 10_000 - SLOWEST.index(short(name)) if short(name) in SLOWEST else 0


class Run:
  def __init__(self, bundle, logs, total):
    self.bundle, self.logs, self.total = bundle, logs, total
    self.lock = threading.Lock()
    self.done, self.failed, self.skipped, self.times = 0, [], 0, {}

  def run(self, name, tests):
    log = os.path.join(self.logs, name.replace("/", ".") + ".log")
    start = time.time()
    with open(log, "w+", errors="replace") as out:
      process = subprocess.Popen([self.bundle, ",".join(tests)], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL)
      _, status, usage = os.wait4(process.pid, 0)
      process.returncode = os.waitstatus_to_exitcode(status)
      out.seek(0)
      text = out.read()
    seconds, cpu = time.time() - start, usage.ru_utime + usage.ru_stime
    self.report(name, tests, log, text, process.returncode, seconds, cpu)

  def report(self, name, tests, log, text, code, seconds, cpu):
    summaries = SUMMARY.findall(text)
    executed, failures = (int(summaries[-1][0]), int(summaries[-1][1])) if summaries else (0, 0)
    problem = None
    if code < 0:
      problem = "crashed (signal %d)" % -code
    elif code != 0 or failures:
      problem = "%d of %d failed" % (failures, executed)
    elif executed != len(tests):
      problem = "ran %d of its %d tests" % (executed, len(tests))
    skipped = len(SKIPPED.findall(text))
    with self.lock:
      self.done += 1
      self.skipped += skipped
      self.times[name] = seconds
      verdict = "FAILED " + problem if problem else "ok"
      print("[%3d/%d] %-6s %s (%d tests%s, %.1f s, cpu %.1f s)" % (
        self.done, self.total, verdict, short(name), len(tests), ", %d skipped" % skipped if skipped else "", seconds, cpu))
      if problem:
        self.failed.append(name)
        print("  ---- %s\n%s  ---- end of %s" % (log, text, short(name)))
      else:
        printed = [line for line in text.splitlines() if line.strip() and not XCTEST_LINE.match(line)]
        for line in printed:
          print("  " + line)
      sys.stdout.flush()


def run_pool(run, queue, workers):
  def worker():
    while True:
      with run.lock:
        if not queue:
          return
        name, tests = queue.pop(0)
      try:
        run.run(name, tests)
      except Exception as error:  # the group did not run as it should: a failure, not a lost group
        with run.lock:
          run.failed.append(name)
          print("run-tests: %s could not be run: %r" % (short(name), error))
  threads = [threading.Thread(target=worker) for _ in range(workers)]
  for t in threads:
    t.start()
  for t in threads:
    t.join()


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--workers", type=int, default=int(os.environ.get("TEST_WORKERS", "3")))
  parser.add_argument("--filter", help="only tests whose Module.Class/test name this regular expression finds")
  parser.add_argument("--list", action="store_true", help="print the groups in the order they would start")
  args = parser.parse_args()

  bundle = test_bundle()
  tests = list_tests(bundle)
  if args.filter:
    tests = [t for t in tests if re.search(args.filter, t)]
  if not tests:
    sys.exit("run-tests: no test matches")
  times_file = os.path.join(ROOT, ".build", "test-times.json")
  try:
    times = json.load(open(times_file))
  except (OSError, ValueError):
    times = {}
  groups = groups_of(tests)
  order = sorted(groups, key=lambda name: -expected_seconds(name, times))
  shared = [(n, groups[n]) for n in order if short(n).split("/")[0] not in EXCLUSIVE]
  alone = [(n, groups[n]) for n in order if short(n).split("/")[0] in EXCLUSIVE]
  if args.list:
    for name, group in shared + alone:
      print("%s%s (%d tests)" % (short(name), " [alone]" if (name, group) in alone else "", len(group)))
    return 0

  logs = os.path.join(ROOT, ".build", "test-logs")
  os.makedirs(logs, exist_ok=True)
  for old in glob.glob(os.path.join(logs, "*.log")):
    os.remove(old)
  print("run-tests: %d tests in %d groups, %d workers (logs in %s)" % (len(tests), len(groups), args.workers,
                                                                      os.path.relpath(logs, ROOT)))
  sys.stdout.flush()
  start = time.time()
  run = Run(bundle, logs, len(groups))
  run_pool(run, shared, args.workers)
  run_pool(run, alone, 1)
  times.update(run.times)
  with open(times_file, "w") as out:
    json.dump(times, out, indent=1, sort_keys=True)
  elapsed = time.time() - start
  if run.failed:
    print("run-tests: %d of %d groups FAILED in %.0f s: %s" % (len(run.failed), len(groups), elapsed,
                                                              " ".join(short(n) for n in run.failed)))
    return 1
  print("run-tests: %d tests passed (%d of them skipped) in %.0f s" % (len(tests), run.skipped, elapsed))
  return 0


if __name__ == "__main__":
  sys.exit(main())
