#!/usr/bin/env python3
"""Rewrites the `using Psyncd.*;` lines of C# files after types moved between namespaces.

Type -> namespace comes from the declarations under src/Psyncd.Core (each file's `namespace X;`). For every
file given (default: every .cs under src/ and test/, bin/obj skipped) the plain `using Psyncd.X;` lines are
replaced by exactly the namespaces whose types the file names (same tokenizer as depgraph.py: comments and
strings ignored), minus its own namespace and the namespaces enclosing it. `using static`, aliases, and
`global using` lines are left alone. A file whose set did not change is not touched.

Usage (from the repository root):   python3 fix_usings.py [--dry-run] [--unqualify] [FILES...]
--unqualify first turns qualified names of the tree's types into bare ones (`Commands.ClientCommands.X`,
`Psyncd.Server.ServerLog`, `Storage.ExpiryMode.Hide`), so that the usings carry the dependency and a later
move cannot break a qualification.
Run it after `git mv` + the `namespace` line edits of a step, then build. It may add a using that is not
strictly needed (a nested type named like another), never remove one that is needed for a type of the tree;
a type reached only through a member chain rooted at a namespace alias is the only thing it cannot see.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import depgraph  # noqa: E402  (same folder)

CORE = os.path.join('src', 'Psyncd.Core')
NS_LINE = re.compile(r'^\s*namespace\s+([\w.]+)\s*;', re.M)
USING_PSYNCD = re.compile(r'^using[ \t]+(Psyncd(?:\.\w+)*)[ \t]*;[ \t]*\n', re.M)
USING_ANY = re.compile(r'^(?:global[ \t]+)?using[ \t]+[^=;(\n]+?;[ \t]*\n|^using[ \t]+\w+[ \t]*=[ \t]*[^;\n]+;[ \t]*\n', re.M)


def walk(root):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in ('bin', 'obj'))
        for f in sorted(filenames):
            if f.endswith('.cs'):
                yield os.path.join(dirpath, f)


def type_namespaces():
    where = {}
    for path in walk(CORE):
        text = open(path, encoding='utf-8-sig').read()
        m = NS_LINE.search(text)
        if not m:
            continue
        for name in depgraph.top_level_types(depgraph.drop_directives(depgraph.strip_code(text))):
            where.setdefault(name, set()).add(m.group(1))
    return where


def own_project_types(path):
    """Types declared in the project of a file outside src/Psyncd.Core (they shadow the core's names)."""
    parts = os.path.normpath(path).split(os.sep)
    if len(parts) < 2 or os.path.normpath(path).startswith(os.path.normpath(CORE)):
        return set()
    project = os.path.join(parts[0], parts[1])
    if project not in _project_cache:
        names = set()
        for p in walk(project):
            names.update(depgraph.top_level_types(depgraph.drop_directives(depgraph.strip_code(open(p, encoding='utf-8-sig').read()))))
        _project_cache[project] = names
    return _project_cache[project]


_project_cache = {}


def project_index(path):
    parts = os.path.normpath(path).split(os.sep)
    project = os.path.join(parts[0], parts[1]) if os.path.normpath(path).startswith('test') else CORE
    if project not in _index_cache:
        _index_cache[project] = depgraph.ProjectIndex(
            [(os.path.normpath(p), depgraph.drop_directives(depgraph.strip_code(open(p, encoding='utf-8-sig').read()))) for p in walk(project)])
    return _index_cache[project]


_index_cache = {}


def needed(text, where, own, shadowed=frozenset(), members=None):
    code = depgraph.drop_directives(depgraph.strip_code(text))
    visible = {k: v for k, v in where.items() if k not in shadowed}
    namespaces = {'Psyncd', 'global'} | {p for s in where.values() for ns in s for p in ns.split('.')}
    result = set()
    for name, qualified in depgraph.type_references(code, visible, namespaces, members):
        if not qualified:
            result |= visible[name]
    enclosing = set()
    if own:
        parts = own.split('.')
        enclosing = {'.'.join(parts[:i]) for i in range(1, len(parts) + 1)}
    return {ns for ns in result if ns not in enclosing}


def unqualify(text, where, members=frozenset()):
    """`Commands.ClientCommands.X`, `Psyncd.Server.ServerLog` -> `ClientCommands.X`, `ServerLog` (code only)."""
    code = depgraph.strip_code(text)  # same offsets as text
    segments = sorted({p for s in where.values() for ns in s for p in ns.split('.')} | {'Psyncd'}, key=len, reverse=True)
    rx = re.compile(r'(?<![\w.])(?:global::)?((?:(?:%s)\s*\.\s*)+)([A-Z]\w*)\b' % '|'.join(segments))
    out, last = [], 0
    for m in rx.finditer(code):
        line_start = code.rfind('\n', 0, m.start()) + 1
        line_end = code.find('\n', m.start())
        line = code[line_start:line_end if line_end >= 0 else len(code)]
        if re.match(r'\s*((global\s+)?using\s+(static\s+)?(\w+\s*=\s*)?[\w.<>, ]+;|namespace\b)', line):
            continue
        name = m.group(2)
        if name not in where:
            continue
        # Only a real namespace qualification: the qualifier, read from Psyncd, must be the type's namespace
        # (`Server.Keyspace` on a property Server is NOT `Psyncd.Server.Keyspace`: leave it alone), and its
        # first segment must not be a member, parameter or local of the file (C#'s "Color Color").
        qualifier = re.sub(r'\s+', '', m.group(1)).rstrip('.')
        first = qualifier.split('.')[0]
        full = qualifier if first == 'Psyncd' else 'Psyncd.' + qualifier
        if full not in where[name] or (first != 'Psyncd' and first in members):
            continue
        out.append(text[last:m.start()])
        out.append(name)
        last = m.end()
    out.append(text[last:])
    return ''.join(out)


def main():
    dry = '--dry-run' in sys.argv
    files = [a for a in sys.argv[1:] if not a.startswith('--')]
    if not files:
        files = list(walk('src')) + list(walk('test'))
    where = type_namespaces()
    changed = 0
    for path in files:
        original = open(path, encoding='utf-8-sig').read()
        members = project_index(path).visible_members(os.path.normpath(path))
        text = unqualify(original, where, members) if '--unqualify' in sys.argv else original
        m = NS_LINE.search(text)
        own = m.group(1) if m else ''
        want = needed(text, where, own, own_project_types(path), members)
        have = set(USING_PSYNCD.findall(text))
        # Namespaces of other trees (Psyncd.Tests.Support, Psyncd.Torture) are not ours to decide.
        keep = {ns for ns in have if not any(ns in s for s in where.values())}
        target = want | keep
        if target == have and text == original:
            continue
        changed += 1
        print('%s: %s' % (path, ' '.join(sorted(['+' + n for n in target - have] + ['-' + n for n in have - target]))))
        if dry:
            continue
        body = USING_PSYNCD.sub('', text)
        lines = ''.join('using %s;\n' % ns for ns in sorted(target))
        usings = list(USING_ANY.finditer(body))
        if usings:
            # After the last plain using of the block at the top of the file.
            last = usings[0]
            for u in usings[1:]:
                if body[last.end():u.start()].strip():
                    break
                last = u
            # Keep the usings one block: drop a blank line left between the others and where ours go.
            body = body[:last.end()] + lines + body[last.end():]
        else:
            body = lines + ('\n' if lines else '') + body.lstrip('\n') if lines else body
        bom = open(path, 'rb').read(3) == b'\xef\xbb\xbf'
        with open(path, 'w', encoding='utf-8-sig' if bom else 'utf-8', newline='') as fh:
            fh.write(body)
    print('%d file(s) %s' % (changed, 'would change' if dry else 'changed'))


if __name__ == '__main__':
    main()
