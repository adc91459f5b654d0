#!/usr/bin/env python3
"""STYLE.md rule 15: clang's -Wthread-safety over every project source.

Locks on the control plane are util::Mutex (std::mutex with capability
annotations) with ABSL_GUARDED_BY / ABSL_EXCLUSIVE_LOCKS_REQUIRED; this
compiles each translation unit
of src/ and tools/ listed in the build's compile_commands.json with clang
(-fsyntax-only) and fails on any thread-safety warning. gcc, which builds the
project, does not check the annotations.

Usage: check_thread_safety.py BUILD_DIR SOURCE_DIR
"""
import concurrent.futures
import json
import os
import shlex
import shutil
import subprocess
import sys


def main():
    build, source = sys.argv[1], os.path.realpath(sys.argv[2])
    clang = shutil.which("clang++-14") or shutil.which("clang++")
    if clang is None:
        print("SKIP: clang++ is not installed (Debian package clang-14): "
              "thread-safety annotations not checked")
        return 0
    with open(os.path.join(build, "compile_commands.json")) as f:
        entries = json.load(f)
    jobs = []
    for e in entries:
        path = os.path.realpath(e["file"])
        rel = os.path.relpath(path, source)
        if not (rel.startswith("src/") or rel.startswith("tools/")):
            continue
        args = shlex.split(e["command"])
        # Drop the launcher (ccache) and the compiler; keep -I/-D/-std flags.
        while args and not args[0].startswith("-"):
            args.pop(0)
        kept, skip = [], False
        for a in args:
            if skip:
                skip = False
                continue
            if a in ("-o", "-MF", "-MT", "-c"):
                skip = True
                continue
            if a.startswith("-W") or a in ("-MD",) or a.startswith("-fsanitize"):
                continue
            kept.append(a)
        cmd = [clang, "-fsyntax-only", "-Wno-everything", "-Wthread-safety", "-Werror=thread-safety",
               "-Wthread-safety-beta"] + kept + [path]
        jobs.append((rel, cmd, e["directory"]))
    if not jobs:
        print("no project sources in compile_commands.json")
        return 1

    def run(job):
        rel, cmd, cwd = job
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
        return rel, p.returncode, p.stderr

    bad = 0
    workers = int(os.environ.get("JOBS", "2"))
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as ex:
        for rel, rc, err in ex.map(run, jobs):
            if rc != 0:
                bad += 1
                print(f"== {rel}\n{err}")
    print(f"thread safety: {len(jobs)} files, {bad} with findings")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
