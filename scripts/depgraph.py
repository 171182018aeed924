#!/usr/bin/env python3
"""Folder dependency graph of a C# source tree (psyncd: src/Psyncd.Core), measured from the text.

For every .cs file (bin/ and obj/ skipped) comments, string and char literals are blanked (the code inside
interpolation holes is kept), `using`/`namespace` lines dropped (a namespace import is not a type
reference, `using static` and aliases are), and every identifier that names a type declared in another
folder counts as a reference from the file's folder to that folder. Type names are taken from the
declarations in the tree (class/struct/interface/enum/record/delegate; private/protected/file types are
left out, nobody else can name them). An identifier is NOT a type reference when it is:
  - a member access (`x.Name`), unless the chain starts at a namespace (`Config.ProtectedAccess`,
    `Psyncd.Server.Client`);
  - a call (`Name(`) not preceded by `new` (methods named like types: InfoCommand's `Keyspace(...)`).
Members reached through a property whose name is not a type name (ctx.Server.PubSub) are not counted:
the matrix is "which folder names which folder's types", a lower bound of the semantic dependency.

Usage (from the repository root):
  python3 depgraph.py [ROOT]                  matrix, two-way cycles with the types causing each, SCCs
  python3 depgraph.py ROOT --level 2          folders two levels deep (Storage/Types, Replication/Master)
  python3 depgraph.py ROOT --types            also: each type used from another folder, and by whom
  python3 depgraph.py ROOT --order Protocol,Text,Config,...  [--check]
                                              also: every reference to a folder later in the order
                                              (upward); --check exits 1 when there is one or a cycle
  python3 depgraph.py ROOT --markdown         the matrix as a Markdown table (for docs/architecture.md)
  python3 depgraph.py ROOT --namespaces       also: every file whose namespace is not Psyncd.<its folder>
ROOT defaults to src/Psyncd.Core under the current directory.
"""
import argparse
import collections
import os
import re
import sys

IDENT = re.compile(r'[A-Za-z_][A-Za-z0-9_]*')
DECL = re.compile(
    r'(?P<mods>(?:\b(?:public|internal|private|protected|file|static|sealed|abstract|readonly|partial|ref|unsafe|new)\s+)*)'
    r'\b(?:class|struct|interface|enum|record(?:\s+(?:struct|class))?)\s+(?P<name>[A-Z][A-Za-z0-9_]*)')
DELEGATE = re.compile(
    r'(?P<mods>(?:\b(?:public|internal|private|protected|file|unsafe|new)\s+)*)'
    r'\bdelegate\s+[\w<>\[\],.?\s]+?\s(?P<name>[A-Z][A-Za-z0-9_]*)\s*[<(]')


PRIMITIVES = ('bool|byte|sbyte|char|short|ushort|int|uint|long|ulong|nint|nuint|float|double|decimal|'
              'string|object|dynamic|var|void')
# The text before an identifier ends with a type: `Foo`, `Foo<Bar>`, `Foo[]`, `Foo?`, `int`, `Foo*`.
DECLARED_NAME_AFTER = re.compile(r'(?:\b[A-Z]\w*|\b(?:' + PRIMITIVES + r')|[>\]?*])\s*$')


def strip_code(text):
    """Blanks comments, strings and chars (keeping line breaks and interpolation holes' code)."""
    out = []
    i, n = 0, len(text)

    def string_body(i, verbatim, interpolated, raw_quotes=0, raw_dollars=0):
        # i is just after the opening quote(s); returns the index after the closing quote(s).
        depth_code = []
        while i < n:
            c = text[i]
            if raw_quotes:
                if text.startswith('"' * raw_quotes, i):
                    out.append(' ' * raw_quotes)
                    return i + raw_quotes
                if interpolated and text.startswith('{' * raw_dollars, i) and not text.startswith('{' * (raw_dollars + 1), i):
                    out.append(' ' * raw_dollars)
                    i = code(i + raw_dollars, stop_at_brace=True)
                    continue
                out.append('\n' if c == '\n' else ' ')
                i += 1
                continue
            if interpolated and c == '{':
                if i + 1 < n and text[i + 1] == '{':
                    out.append('  ')
                    i += 2
                    continue
                out.append(' ')
                i = code(i + 1, stop_at_brace=True)
                continue
            if interpolated and c == '}' and i + 1 < n and text[i + 1] == '}':
                out.append('  ')
                i += 2
                continue
            if verbatim:
                if c == '"':
                    if i + 1 < n and text[i + 1] == '"':
                        out.append('  ')
                        i += 2
                        continue
                    out.append(' ')
                    return i + 1
            else:
                if c == '\\':
                    out.append('  ')
                    i += 2
                    continue
                if c == '"':
                    out.append(' ')
                    return i + 1
                if c == '\n':  # unterminated: give up on this literal
                    out.append('\n')
                    return i + 1
            out.append('\n' if c == '\n' else ' ')
            i += 1
        return i

    def code(i, stop_at_brace=False):
        depth = 0
        while i < n:
            c = text[i]
            if c == '/' and i + 1 < n and text[i + 1] == '/':
                j = text.find('\n', i)
                j = n if j < 0 else j
                out.append(' ' * (j - i))
                i = j
                continue
            if c == '/' and i + 1 < n and text[i + 1] == '*':
                j = text.find('*/', i + 2)
                j = n if j < 0 else j + 2
                out.append(''.join('\n' if ch == '\n' else ' ' for ch in text[i:j]))
                i = j
                continue
            if c == "'":
                # char literal: '\'' 'a' '\u0041' ; not a lifetime/generic, C# has none
                m = re.match(r"'(?:\\.[^']*|[^'\\])'", text[i:i + 10])
                if m:
                    out.append(' ' * len(m.group(0)))
                    i += len(m.group(0))
                    continue
            m = re.match(r'(\$+)?(@)?(\$+)?("""+|")', text[i:i + 16])
            if m and (c in '"$@'):
                dollars = len(m.group(1) or '') + len(m.group(3) or '')
                verbatim = m.group(2) is not None
                quotes = m.group(4)
                out.append(' ' * len(m.group(0)))
                j = i + len(m.group(0))
                if len(quotes) >= 3:
                    i = string_body(j, False, dollars > 0, raw_quotes=len(quotes), raw_dollars=max(dollars, 1))
                else:
                    i = string_body(j, verbatim, dollars > 0)
                continue
            if stop_at_brace:
                if c == '{':
                    depth += 1
                elif c == '}':
                    if depth == 0:
                        out.append(' ')
                        return i + 1
                    depth -= 1
            out.append(c)
            i += 1
        return i

    code(0)
    return ''.join(out)


def drop_directives(code):
    """Removes namespace lines and plain using directives; keeps `using static X` and `using A = X` targets."""
    lines = []
    for line in code.split('\n'):
        s = line.strip()
        if s.startswith('namespace '):
            lines.append('')
            continue
        m = re.match(r'(?:global\s+)?using\s+(static\s+)?(?:(\w+)\s*=\s*)?([\w.<>, ]+);', s)
        if m and not s.startswith('using ('):
            lines.append(m.group(3) if (m.group(1) or m.group(2)) else '')
            continue
        lines.append(line)
    return '\n'.join(lines)


def top_level_types(code):
    """Names of the types a stripped file declares at namespace level, not private/protected/file ones."""
    found = []
    for rx in (DECL, DELEGATE):
        for m in rx.finditer(code):
            head = code[:m.start()]
            private = re.search(r'\b(private|protected|file)\b', m.group('mods') or '') is not None
            found.append((head.count('{') - head.count('}'), private, m.group('name')))
    if not found:
        return []
    top = min(depth for depth, _, _ in found)  # namespace level, whether file-scoped or a block
    return [name for depth, private, name in found if depth == top and not private]


def member_names(code):
    """Names this file gives to members, parameters, locals and enum values (`Type Name {`, `Type name)`...)."""
    names = set()
    for m in re.finditer(r'(?:\b[A-Z]\w*|\b(?:' + PRIMITIVES + r')|[>\]?*])\s+([A-Za-z_]\w*)\s*(?==>|[{;=,)])', code):
        names.add(m.group(1))
    for body in re.finditer(r'\benum\s+\w+[^{;]*\{([^}]*)\}', code):
        names.update(re.findall(r'(?:^|,)\s*([A-Za-z_]\w*)', body.group(1)))
    return names


class ProjectIndex:
    """What the files of one project declare: per type its members (all partial parts) and its base type."""

    def __init__(self, codes):
        self.members = collections.defaultdict(set)
        self.bases = {}
        self.file_types = {}
        self.file_members = {}
        for key, code in codes:
            types = top_level_types(code)
            own = member_names(code)
            self.file_types[key] = types
            self.file_members[key] = own
            for t in types:
                self.members[t] |= own
                m = re.search(r'\b(?:class|record|struct)\s+' + t + r'\b[^{:;]*:\s*([A-Z]\w*)', code)
                if m:
                    self.bases[t] = m.group(1)

    def visible_members(self, key):
        names = set(self.file_members.get(key, ()))
        for t in self.file_types.get(key, ()):
            seen = set()
            while t and t not in seen:
                seen.add(t)
                names |= self.members.get(t, set())
                t = self.bases.get(t)
        return names


TYPE_CONTEXT_BEFORE = re.compile(r'(\bnew|\btypeof\s*\(|\bis|\bas|\bnameof\s*\(|[<:]|\bwhere\s+\w+\s*:)\s*$')


def type_references(code, declared, namespaces, own_members=None):
    """Yields (type name, qualified) for each identifier of `code` that names a type in `declared`.

    Not a reference: a member access `x.Name` (unless the chain starts at a namespace: then it is a
    qualified reference), a call `Name(` without `new`, the declared name in `Type Name {`, and a bare
    `Name.` / `Name` where the file itself declares a member, parameter or local called Name (C#'s
    "Color Color": `Client.Command(...)` on a property Client), unless it stands in a type position.
    """
    if own_members is None:
        own_members = member_names(code)
    for m in IDENT.finditer(code):
        name = m.group(0)
        if name not in declared:
            continue
        before = code[:m.start()].rstrip()
        after = code[m.end():].lstrip()
        qualified = False
        if before.endswith('.'):
            chain = re.search(r'([A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)*)\s*\.$', before)
            root = re.split(r'\s*\.\s*', chain.group(1))[0] if chain else ''
            if root not in namespaces:
                continue
            qualified = True
        elif after.startswith('(') and not re.search(r'\bnew\s*$', before):
            continue
        elif DECLARED_NAME_AFTER.search(before) and re.match(r'(=>|[{;=,)])', after) and not after.startswith('=='):
            continue
        elif name in own_members and not TYPE_CONTEXT_BEFORE.search(before) \
                and not re.match(r'(\?\s*)?[A-Za-z_]\w*\s*(=>|[{;=,)])|\[\]|<', after):
            continue
        yield name, qualified


def folder_of(rel, level):
    parts = rel.split(os.sep)[:-1]
    return '/'.join(parts[:level]) if parts else '(root)'


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('root', nargs='?', default=os.path.join('src', 'Psyncd.Core'))
    ap.add_argument('--level', type=int, default=1)
    ap.add_argument('--types', action='store_true')
    ap.add_argument('--order', default='')
    ap.add_argument('--check', action='store_true')
    ap.add_argument('--markdown', action='store_true')
    ap.add_argument('--namespaces', action='store_true', help='also check namespace == folder')
    ap.add_argument('--root-namespace', default='Psyncd')
    a = ap.parse_args()

    files = []
    namespace_of = {}
    for dirpath, dirnames, filenames in os.walk(a.root):
        dirnames[:] = sorted(d for d in dirnames if d not in ('bin', 'obj'))
        for f in sorted(filenames):
            if f.endswith('.cs'):
                path = os.path.join(dirpath, f)
                rel = os.path.relpath(path, a.root)
                with open(path, encoding='utf-8-sig') as fh:
                    raw = fh.read()
                ns = re.search(r'^\s*namespace\s+([\w.]+)', raw, re.M)
                namespace_of[rel] = ns.group(1) if ns else ''
                files.append((rel, folder_of(rel, a.level), drop_directives(strip_code(raw))))
    if not files:
        sys.exit('no .cs files under ' + a.root)

    namespaces = {'Psyncd', 'global'}
    for rel, _, _ in files:
        namespaces.update(rel.split(os.sep)[:-1])

    declared = collections.defaultdict(set)  # type name -> folders
    for rel, folder, code in files:
        for name in top_level_types(code):
            declared[name].add(folder)

    index = ProjectIndex([(rel, code) for rel, _, code in files])
    # refs[(src, dst)][type] -> set of files
    refs = collections.defaultdict(lambda: collections.defaultdict(set))
    for rel, folder, code in files:
        for name, _qualified in type_references(code, declared, namespaces, index.visible_members(rel)):
            owners = declared[name]
            if folder in owners:
                continue
            for owner in owners:
                refs[(folder, owner)][name].add(rel)

    folders = sorted({f for _, f, _ in files})
    lines_of = collections.Counter()
    files_of = collections.Counter()
    for rel, folder, code in files:
        files_of[folder] += 1
        lines_of[folder] += code.count('\n') + 1
    order = [o for o in a.order.split(',') if o]
    if order:
        folders = [f for f in order if f in folders] + [f for f in folders if f not in order]

    def nfiles(src, dst):
        return len(set().union(*refs[(src, dst)].values())) if refs.get((src, dst)) else 0

    print('# Folder dependency matrix of %s (level %d)' % (a.root, a.level))
    print('# cell = files of the row folder that name a type of the column folder (row depends on column)')
    short = {f: f.split('/')[-1][:7] if a.level == 1 else f.replace('/', '.')[-9:] for f in folders}
    if a.markdown:
        print('| from \\ to | ' + ' | '.join(folders) + ' |')
        print('|---|' + '---:|' * len(folders))
        for src in folders:
            print('| %s | ' % src + ' | '.join(
                ('·' if src == dst else (str(nfiles(src, dst)) if nfiles(src, dst) else '')) for dst in folders) + ' |')
    else:
        width = max(len(f) for f in folders) + 1
        print(' ' * width + ' '.join('%9s' % short[f] for f in folders) + '   files  lines')
        for src in folders:
            cells = []
            for dst in folders:
                cells.append('%9s' % ('.' if src == dst else (nfiles(src, dst) or '')))
            print(('%-' + str(width) + 's') % src + ' '.join(cells) + '   %5d  %5d' % (files_of[src], lines_of[src]))

    print()
    print('# Two-way cycles (A <-> B), with the types that cause each direction and the files naming them')
    cycles = 0
    for i, x in enumerate(folders):
        for y in folders[i + 1:]:
            if refs.get((x, y)) and refs.get((y, x)):
                cycles += 1
                print('%s <-> %s   (%d files one way, %d the other)' % (x, y, nfiles(x, y), nfiles(y, x)))
                for src, dst in ((x, y), (y, x)):
                    print('  %s -> %s:' % (src, dst))
                    for t, fs in sorted(refs[(src, dst)].items(), key=lambda kv: (-len(kv[1]), kv[0])):
                        print('    %-22s %s' % (t, ', '.join(sorted(fs))))
    if not cycles:
        print('none')

    # Strongly connected components (longer cycles too), Tarjan.
    graph = {f: [d for d in folders if d != f and refs.get((f, d))] for f in folders}
    index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            sccs.append(comp)

    for f in folders:
        if f not in index:
            visit(f)
    print()
    print('# Strongly connected groups of folders (any cycle, not only two-way)')
    big = [sorted(c) for c in sccs if len(c) > 1]
    print('\n'.join('  ' + ' '.join(c) for c in big) if big else 'none')

    if a.types:
        print()
        print('# Types named from another folder: type (its folder) <- folders [files]')
        users = collections.defaultdict(lambda: collections.defaultdict(set))
        for (src, dst), types in refs.items():
            for t, fs in types.items():
                users[(t, dst)][src] |= fs
        for (t, dst), by in sorted(users.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            print('  %-24s (%s) <- %s' % (t, dst, '; '.join('%s [%d]' % (s, len(fs)) for s, fs in sorted(by.items()))))

    bad = cycles + len(big)
    if order:
        rank = {f: i for i, f in enumerate(order)}
        print()
        print('# Upward references (a folder naming a type of a folder after it in --order)')
        up = 0
        for (src, dst), types in sorted(refs.items()):
            if src in rank and dst in rank and rank[dst] > rank[src]:
                for t, fs in sorted(types.items()):
                    up += 1
                    print('  %s -> %s: %s in %s' % (src, dst, t, ', '.join(sorted(fs))))
        unknown = [f for f in {f for _, f, _ in files} if f not in rank]
        if unknown:
            print('  folders not in --order: ' + ', '.join(sorted(unknown)))
            up += len(unknown)
        print('none' if up == 0 else '%d upward reference(s)' % up)
        bad += up
    if a.namespaces:
        print()
        print('# Files whose namespace is not their folder (root namespace %s)' % a.root_namespace)
        wrong = 0
        for rel, _, _ in files:
            folder = os.path.dirname(rel)
            want = a.root_namespace + ('.' + folder.replace(os.sep, '.') if folder else '')
            if namespace_of[rel] != want:
                wrong += 1
                print('  %s: namespace %s, folder says %s' % (rel, namespace_of[rel] or '(none)', want))
        print('none' if wrong == 0 else '%d file(s)' % wrong)
        bad += wrong
    if a.check and bad:
        sys.exit(1)


if __name__ == '__main__':
    main()
