#!/usr/bin/env python3
"""Counts the error-reply literals in src/Psyncd.Core outside Execution/ErrorReplies.cs.

A literal counts when it is a C# string ("...", "..."u8, $"...") whose text starts with an error code
(ERR, WRONGTYPE, NOAUTH, ...): what reaches a client as -CODE text. Prints per file, per code, the texts
used in more than one place, the hand-written subcommand arity texts, and ErrorReplies members no code uses.
Usage: python3 errlits.py [ROOT=src/Psyncd.Core] [--list]
"""
import collections, os, re, sys

root = next((a for a in sys.argv[1:] if not a.startswith('--')), os.path.join('src', 'Psyncd.Core'))
LIT = re.compile(r'(\$?)"((?:[^"\\\n]|\\.)*)"(u8)?')
CODE = re.compile(r'^-?(ERR|WRONGTYPE|NOAUTH|WRONGPASS|NOPERM|LOADING|BUSY\w*|NOREPLICAS|READONLY|MASTERDOWN|MISCONF|OOM|EXECABORT|NOSCRIPT|UNBLOCKED|NOMASTERLINK|NOTBUSY|DENIED|NOPROTO)\b')
per_file, per_code, texts, arity = collections.Counter(), collections.Counter(), collections.defaultdict(list), []
total = 0
ereplies = None
for dirpath, dirs, files in os.walk(root):
    dirs[:] = [d for d in dirs if d not in ('bin', 'obj')]
    for f in sorted(files):
        if not f.endswith('.cs'):
            continue
        path = os.path.join(dirpath, f)
        rel = os.path.relpath(path, root)
        src = open(path, encoding='utf-8-sig').read()
        if rel.endswith('ErrorReplies.cs'):
            ereplies = src
            continue
        for no, line in enumerate(src.split('\n'), 1):
            code = line.split('//')[0] if '"' not in line.split('//')[0][:0] else line
            if line.strip().startswith('///') or line.strip().startswith('//'):
                continue
            for m in LIT.finditer(line):
                text = m.group(2)
                c = CODE.match(text)
                if not c:
                    continue
                total += 1
                per_file[rel] += 1
                per_code[c.group(1)] += 1
                texts[re.sub(r'\{[^}]*\}', '{}', text)].append('%s:%d' % (rel, no))
                if 'wrong number of arguments for' in text or 'wrong number of arguments' in text:
                    arity.append('%s:%d  %s' % (rel, no, text))
print('error-reply literals outside ErrorReplies.cs: %d (in %d files)' % (total, len(per_file)))
print('by code: ' + ', '.join('%s %d' % kv for kv in per_code.most_common()))
print('by file: ' + ', '.join('%s %d' % kv for kv in per_file.most_common()))
dups = {t: l for t, l in texts.items() if len(l) > 1}
print('texts written in more than one place: %d' % len(dups))
for t, l in sorted(dups.items(), key=lambda kv: -len(kv[1])):
    print('  %dx %s' % (len(l), t[:110]))
print('hand-written "wrong number of arguments" texts: %d' % len(arity))
for a in arity:
    print('  ' + a[:160])
if ereplies:
    names = re.findall(r'public static \S+ (\w+)\s*(?:=>|\()', ereplies)
    used = collections.Counter()
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in ('bin', 'obj')]
        for f in files:
            if f.endswith('.cs') and f != 'ErrorReplies.cs':
                s = open(os.path.join(dirpath, f), encoding='utf-8-sig').read()
                for n in names:
                    used[n] += len(re.findall(r'\bErrorReplies\.' + n + r'\b', s))
        # calls from inside ErrorReplies itself (CText used by UnknownSubcommand) count as uses
    for n in names:
        used[n] += len(re.findall(r'(?<![.\w])' + n + r'\(', ereplies)) - 1 if '(' in n else 0
    print('ErrorReplies members: %d; never used outside it: %s' % (len(names), ', '.join(n for n in names if used[n] == 0) or 'none'))
if '--list' in sys.argv:
    for t, l in sorted(texts.items()):
        print('%-100s %s' % (t[:100], ' '.join(l)))
