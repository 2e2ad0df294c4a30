#!/usr/bin/env python3
"""Checks that the BUILD files say what the code includes, and no more.

For every cc_library, cc_test and cc_binary of conch's own packages
(core/..., conch/..., testing, tools):
  - each dependency on one of our libraries is used: some file of the
    target includes one of its headers (a library without headers, such as
    a test main, is exempt);
  - each of our headers that a file includes is provided by the target
    itself or by a direct dependency (no header reached by accident);
  - no header is listed in two targets;
  - no dependency points up the layers (docs/architecture.md): base, then
    etcd and records, then recipes and cron, then process and view, then
    the commands, the status renderers (conch/observe), the daemon and
    the tools; //testing uses none of them. A
    cc_binary (an entry point, such as conchd's main) is above them all.

Prints one line per problem and exits 1 if there is any. With --fix, the
deps of each rule on conch's own libraries are rewritten to exactly what its
files include (other deps are kept), then checked again; run buildifier
afterwards.

  python3 tools/check_deps.py [--fix]
"""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES_UNDER = ("core", "conch", "testing", "tools")

# Lower ranks may not depend on higher ones; equal ranks only within a
# package.
RANKS = {
    "core/base": 0,
    "core/etcd": 1,
    "core/records": 1,
    "core/recipes": 2,
    "core/cron": 2,
    "core/process": 3,
    "core/view": 3,
    "conch": 4,
    "conch/observe": 4.5,
    "conch/daemon": 5,
    "tools": 6,
}

RULE = re.compile(r"^(\[)?(cc_library|cc_test|cc_binary)\($", re.M)
STRING = re.compile(r'"([^"]*)"')
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def strings_of(block, attr):
    """The string list (or single string) of `attr` in a rule's text."""
    m = re.search(r"^\s+%s = (\[.*?\]|\"[^\"]*\"|[^,\n]+)," % attr, block,
                  re.M | re.S)
    if not m:
        return []
    return STRING.findall(m.group(1))


def rules_of(package):
    """(name, srcs, hdrs, deps, kind) of every C++ rule in package's BUILD."""
    path = os.path.join(ROOT, package, "BUILD.bazel")
    text = open(path).read()
    rules = []
    for m in RULE.finditer(text):
        end = text.index("\n)", m.end())
        block = text[m.end():end]
        deps = strings_of(block, "deps")
        if m.group(1):  # [cc_test(name = name, srcs = [name + ".cc"]...) for name in [...]]
            tail = text[end:text.index("]]", end) + 2]
            names = STRING.findall(tail[tail.index(" for name in "):])
            for name in names:
                rules.append((name, [name + ".cc"], [], deps, m.group(2)))
            continue
        name = strings_of(block, "name")[0]
        rules.append((name, strings_of(block, "srcs"),
                      strings_of(block, "hdrs"), deps, m.group(2)))
    return rules


def packages():
    found = []
    for top in PACKAGES_UNDER:
        for dirpath, _, files in os.walk(os.path.join(ROOT, top)):
            if "BUILD.bazel" in files:
                found.append(os.path.relpath(dirpath, ROOT))
    return sorted(found)


def label(package, dep):
    """A dependency label in //package:name form, or None if not ours."""
    if dep.startswith(":"):
        return "//%s%s" % (package, dep)
    if dep.startswith("//") and dep.split(":")[0][2:].split("/")[0] in \
            PACKAGES_UNDER:
        if ":" not in dep:
            dep += ":" + dep.rsplit("/", 1)[-1]
        return dep
    return None


def rank_of(package):
    while package not in RANKS and "/" in package:
        package = package.rsplit("/", 1)[0]
    return RANKS.get(package)


def fix_deps(targets, owner):
    """Rewrites each rule's own-library deps to what its files include."""
    for package in packages():
        path = os.path.join(ROOT, package, "BUILD.bazel")
        text = open(path).read()
        out = []
        last = 0
        for m in RULE.finditer(text):
            if m.group(1):
                continue  # a list comprehension: left as it is
            end = text.index("\n)", m.end())
            block = text[m.end():end]
            name = strings_of(block, "name")[0]
            lbl = "//%s:%s" % (package, name)
            files = targets[lbl][1]
            includes = set()
            for f in files:
                fp = os.path.join(ROOT, f)
                if os.path.exists(fp):
                    includes.update(INCLUDE.findall(open(fp).read()))
            needed = {owner[i] for i in includes
                      if i in owner and owner[i] != lbl}
            old = strings_of(block, "deps")
            kept = []
            for d in old:
                full = label(package, d)
                if full is None or (full in targets and not targets[full][2]):
                    kept.append(d)  # not ours, or ours without headers
            for full in sorted(needed):
                pkg, nm = full[2:].split(":")
                kept.append(":" + nm if pkg == package else full)
            deps_text = "    deps = [\n%s    ],\n" % "".join(
                '        "%s",\n' % d for d in kept)
            # Every deps attribute goes (a rule has one), the new one last.
            new_block = re.sub(r"\n    deps = (\[.*?\]|\"[^\"]*\"),(?=\n|$)", "",
                               block, flags=re.S)
            if kept:
                new_block += "\n" + deps_text.rstrip("\n")
            out.append(text[last:m.end()])
            out.append(new_block)
            last = end
        out.append(text[last:])
        new_text = "".join(out)
        if new_text != text:
            open(path, "w").write(new_text)


def main():
    targets = {}  # label -> (package, files, hdrs, deps)
    owner = {}  # header path -> label
    problems = []
    for package in packages():
        for name, srcs, hdrs, deps, kind in rules_of(package):
            lbl = "//%s:%s" % (package, name)
            files = [os.path.join(package, f) for f in srcs + hdrs]
            provided = [os.path.join(package, h) for h in hdrs]
            provided += [f for f in files if f.endswith(".h")]
            for h in sorted(set(provided)):
                if h in owner and owner[h] != lbl:
                    problems.append("%s: header %s is also in %s" %
                                    (lbl, h, owner[h]))
                owner.setdefault(h, lbl)
            targets[lbl] = (package, files, sorted(set(provided)),
                            [label(package, d) for d in deps], kind)
    if "--fix" in sys.argv:
        fix_deps(targets, owner)
        sys.argv.remove("--fix")
        return main()
    for lbl, (package, files, provided, deps, kind) in sorted(
            targets.items()):
        includes = set()
        for f in files:
            path = os.path.join(ROOT, f)
            if os.path.exists(path):  # generated files are not read
                includes.update(INCLUDE.findall(open(path).read()))
        ours = [d for d in deps if d is not None]
        for dep in ours:
            if dep not in targets:
                continue  # a test data or a non-C++ target
            dep_headers = targets[dep][2]
            if dep_headers and not includes.intersection(dep_headers):
                problems.append("%s: depends on %s but includes none of "
                                "its headers" % (lbl, dep))
            mine, theirs = rank_of(package), rank_of(targets[dep][0])
            if package.startswith("testing") and \
                    not targets[dep][0].startswith("testing"):
                problems.append("%s: //testing may not use %s" % (lbl, dep))
            elif (kind != "cc_binary" and mine is not None and
                  theirs is not None and
                  targets[dep][0] != package and theirs >= mine):
                problems.append("%s: depends on %s, which is not below it" %
                                (lbl, dep))
        for inc in sorted(includes):
            if inc not in owner or owner[inc] == lbl:
                continue
            if owner[inc] not in ours:
                problems.append("%s: includes %s without depending on %s" %
                                (lbl, inc, owner[inc]))
    for p in problems:
        print("check_deps: " + p)
    print("check_deps: %d targets, %d problem(s)" %
          (len(targets), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
