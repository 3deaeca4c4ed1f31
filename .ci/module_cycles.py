"""Module import circles in each crate given: `use crate::a` in module b and
`use crate::b` in module a (doc comments aside). Prints each circle found and
exits 1 if any; `make lint` runs it on every crate of the workspace.

A crate's binaries are crates of their own: each folder `bin/<name>/` with a
`main.rs` is checked as its own root (a one-file binary has no modules)."""
import os
import re
import sys


def circles(root):
    mods={}
    for dp,dn,fn in os.walk(root):
        for f in fn:
            if not f.endswith('.rs'): continue
            path=os.path.join(dp,f)
            rel=os.path.relpath(path,root)[:-3]
            parts=rel.split(os.sep)
            if parts[-1]=='mod': parts=parts[:-1]
            if parts==['lib'] or parts==['main']: continue
            if parts and parts[0]=='bin': continue
            name='::'.join(parts)
            text=open(path).read()
            # strip tests module
            i=text.find('#[cfg(test)]')
            if i>=0: text=text[:i]
            text='\n'.join(l for l in text.split('\n') if not l.strip().startswith('//'))
            mods[name]=text
    def resolve(name, ref):
        # ref like crate::a::b or super::x
        if ref.startswith('crate::'):
            segs=ref[len('crate::'):].split('::')
        elif ref.startswith('super::'):
            base=name.split('::')[:-1]
            r=ref
            while r.startswith('super::'):
                r=r[len('super::'):]
                # first super handled by base already
                if r.startswith('super::'): base=base[:-1]
            segs=base+r.split('::')
        else: return None
        # longest module prefix
        for k in range(len(segs),0,-1):
            cand='::'.join(segs[:k])
            if cand in mods: return cand
        return None
    edges={m:set() for m in mods}
    for m,text in mods.items():
        for ref in re.findall(r'\b((?:crate|super)(?:::\w+)+)',text):
            t=resolve(m,ref)
            if t and t!=m and not m.startswith(t+'::') and not t.startswith(m+'::'):
                edges[m].add(t)
    # find cycles via tarjan
    index={};low={};st=[];on=set();res=[];c=[0]
    def sc(v):
        index[v]=low[v]=c[0];c[0]+=1;st.append(v);on.add(v)
        for w in edges[v]:
            if w not in index: sc(w);low[v]=min(low[v],low[w])
            elif w in on: low[v]=min(low[v],index[w])
        if low[v]==index[v]:
            comp=[]
            while True:
                w=st.pop();on.discard(w);comp.append(w)
                if w==v:break
            if len(comp)>1: res.append(comp)
    for v in mods:
        if v not in index: sc(v)
    return res


def roots(root):
    """`root`, and each of its binaries that has modules."""
    yield root
    bins = os.path.join(root, 'bin')
    if os.path.isdir(bins):
        for name in sorted(os.listdir(bins)):
            folder = os.path.join(bins, name)
            if os.path.isfile(os.path.join(folder, 'main.rs')):
                yield folder


if __name__ == "__main__":
    sys.setrecursionlimit(10000)
    found = False
    for root in (r for given in sys.argv[1:] for r in roots(given)):
        for circle in circles(root):
            found = True
            print(f"{root}: modules import each other: {' -> '.join(circle)}")
    sys.exit(1 if found else 0)
