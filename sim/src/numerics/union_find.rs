//! Disjoint sets (union–find) with periodic image shifts: the clusters of the conductivity
//! networks, of the PTFE network and of the tensile test, and whether a cluster wraps around a
//! periodic boundary.

/// Union–find with union by size and full path compression, tracking for every node its periodic
/// image shift (in periods) relative to its set's root.
///
/// [`UnionFind::union`] joins two nodes in the same image; [`UnionFind::union_shifted`] records
/// that node `b`'s image `k` periods away from `a` touches `a`: a set whose nodes meet themselves at
/// a different image wraps around the periodic axis ([`UnionFind::wraps`]). Which node is a set's
/// root depends on the order of the unions; the sets themselves do not.
#[derive(Debug, Clone)]
pub struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
    /// Image shift of the node relative to its parent, periods.
    shift: Vec<i64>,
    /// Per root: the set wraps around the periodic axis.
    wraps: Vec<bool>,
}

impl UnionFind {
    /// `n` singleton sets.
    pub fn new(n: usize) -> Self {
        Self {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
            shift: vec![0; n],
            wraps: vec![false; n],
        }
    }

    /// Representative (root) of `i`'s set.
    pub fn find(&mut self, i: u32) -> u32 {
        self.find_shifted(i).0
    }

    /// Root of `i`'s set and the image shift of `i` relative to it, periods.
    pub fn find_shifted(&mut self, i: u32) -> (u32, i64) {
        let mut root = i;
        let mut total = 0i64;
        while self.parent[root as usize] != root {
            total += self.shift[root as usize];
            root = self.parent[root as usize];
        }
        // Point every node on the path straight at the root, with its shift relative to it.
        let (mut node, mut rem) = (i, total);
        while self.parent[node as usize] != node {
            let next = self.parent[node as usize];
            let s = self.shift[node as usize];
            self.parent[node as usize] = root;
            self.shift[node as usize] = rem;
            rem -= s;
            node = next;
        }
        (root, total)
    }

    /// Merge the sets of `a` and `b` (same image); returns the root of the merged set.
    pub fn union(&mut self, a: u32, b: u32) -> u32 {
        self.union_shifted(a, b, 0)
    }

    /// Record that `b`'s image `k` periods from `a` touches `a`, merging their sets; returns the
    /// root of the merged set. Within one set, a contradicting shift marks the set as wrapping.
    pub fn union_shifted(&mut self, a: u32, b: u32, k: i64) -> u32 {
        let (ra, sa) = self.find_shifted(a);
        let (rb, sb) = self.find_shifted(b);
        if ra == rb {
            if sb != sa + k {
                self.wraps[ra as usize] = true;
            }
            return ra;
        }
        // Position of rb relative to ra, periods: x_b = x_a + k.
        let rel = sa + k - sb;
        let (big, small, shift) = if self.size[ra as usize] >= self.size[rb as usize] {
            (ra, rb, rel)
        } else {
            (rb, ra, -rel)
        };
        self.parent[small as usize] = big;
        self.shift[small as usize] = shift;
        self.size[big as usize] += self.size[small as usize];
        let w = self.wraps[small as usize];
        self.wraps[big as usize] |= w;
        big
    }

    /// Whether the set of `i` wraps around the periodic axis.
    pub fn wraps(&mut self, i: u32) -> bool {
        let r = self.find(i);
        self.wraps[r as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_and_shifts() {
        let mut uf = UnionFind::new(6);
        uf.union(0, 1);
        uf.union_shifted(1, 2, 1);
        assert_eq!(uf.find(0), uf.find(2));
        let (r, s0) = uf.find_shifted(0);
        let (r2, s2) = uf.find_shifted(2);
        assert_eq!(r, r2);
        assert_eq!(s2 - s0, 1, "2 sits one period beyond 0");
        assert!(!uf.wraps(0));
        // Closing the ring 2 → 0 in the same image makes the set wrap; 3–4 do not.
        uf.union(2, 0);
        assert!(uf.wraps(1));
        uf.union(3, 4);
        assert!(!uf.wraps(4));
        assert_ne!(uf.find(3), uf.find(0));
        assert_eq!(uf.find(5), 5);
    }

    #[test]
    fn consistent_shifts_do_not_wrap_whatever_the_union_order() {
        // A chain 0 -(+1)- 1 -(+1)- 2 joined in two orders, then the consistent link 0 -(+2)- 2.
        for order in [[0usize, 1], [1, 0]] {
            let mut uf = UnionFind::new(3);
            let links = [(0u32, 1u32, 1i64), (1, 2, 1)];
            for &o in &order {
                let (a, b, k) = links[o];
                uf.union_shifted(a, b, k);
            }
            uf.union_shifted(0, 2, 2);
            assert!(!uf.wraps(0), "order {order:?}");
            uf.union_shifted(2, 0, 0);
            assert!(uf.wraps(0), "order {order:?}");
        }
    }
}
