//! A flow engine wrapper that remembers recent results by frame content, so a pair of frames
//! shared by overlapping windows (a sliding window with stride 4 over an 11-frame two-stream
//! window shares 7 of its 10 pairs with the previous one) has its flow computed once.
//!
//! Keys are 128-bit content hashes of both frames (size included): the engines are
//! deterministic, so equal frames always have equal flow and a hit is exact.

use std::collections::VecDeque;
use std::hash::Hasher;

use motus_core::flow::{FlowEngine, FlowError, FlowField};
use motus_core::frame::Frame;

type Key = (u64, u64, u64, u64);

/// Caches the last `capacity` fields of the wrapped engine.
pub struct CachedFlow {
    inner: Box<dyn FlowEngine>,
    capacity: usize,
    entries: VecDeque<(Key, FlowField)>,
    name: String,
    pub hits: u64,
    pub misses: u64,
}

fn digest(f: &Frame) -> (u64, u64) {
    // Two independently seeded SipHash passes make an accidental collision irrelevant.
    let mut a = std::hash::DefaultHasher::new();
    let mut b = std::hash::DefaultHasher::new();
    b.write_u64(0x9e37_79b9_7f4a_7c15);
    for h in [&mut a, &mut b] {
        h.write_u32(f.width);
        h.write_u32(f.height);
        h.write(&f.data);
    }
    (a.finish(), b.finish())
}

impl CachedFlow {
    /// Wraps `inner`, keeping up to `capacity` fields.
    pub fn new(inner: Box<dyn FlowEngine>, capacity: usize) -> Self {
        let name = format!("{} (cached)", inner.name());
        CachedFlow { inner, capacity: capacity.max(1), entries: VecDeque::new(), name, hits: 0, misses: 0 }
    }
}

impl FlowEngine for CachedFlow {
    fn name(&self) -> &str {
        &self.name
    }

    fn compute_into(&mut self, a: &Frame, b: &Frame, out: &mut FlowField) -> Result<(), FlowError> {
        let (ka, kb) = (digest(a), digest(b));
        let key = (ka.0, ka.1, kb.0, kb.1);
        if let Some((_, field)) = self.entries.iter().find(|(k, _)| *k == key) {
            out.clone_from(field);
            self.hits += 1;
            return Ok(());
        }
        self.inner.compute_into(a, b, out)?;
        self.misses += 1;
        if self.entries.len() == self.capacity {
            // Reuse the evicted field's allocation.
            let (_, mut old) = self.entries.pop_front().expect("full");
            old.clone_from(out);
            self.entries.push_back((key, old));
        } else {
            self.entries.push_back((key, out.clone()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use motus_core::flow::{TvL1Cpu, TvL1Params};

    fn textured(shift: u32) -> Frame {
        let mut f = Frame::new(32, 32);
        for y in 0..32u32 {
            for x in 0..32u32 {
                let v = (((x + shift) * 37 + y * 91) % 251) as u8;
                let i = ((y * 32 + x) * 3) as usize;
                f.data[i..i + 3].fill(v);
            }
        }
        f
    }

    #[test]
    fn a_shared_pair_is_computed_once_and_gives_the_same_field() {
        let frames: Vec<Frame> = (0..5).map(textured).collect();
        let mut plain = TvL1Cpu::new(TvL1Params::edge(), 1).unwrap();
        let mut cached = CachedFlow::new(Box::new(TvL1Cpu::new(TvL1Params::edge(), 1).unwrap()), 8);
        let mut out = FlowField::zeros(0, 0);
        // Two overlapping windows: pairs 0-1, 1-2, 2-3 then 1-2, 2-3, 3-4.
        for w in [0..3, 1..4] {
            for i in w {
                cached.compute_into(&frames[i], &frames[i + 1], &mut out).unwrap();
                let want = plain.compute(&frames[i], &frames[i + 1]).unwrap();
                assert_eq!(out, want, "pair {i}");
            }
        }
        assert_eq!((cached.misses, cached.hits), (4, 2));
        // Errors pass through and are not cached.
        let small = Frame::new(4, 4);
        assert!(cached.compute_into(&small, &small, &mut out).is_err());
        assert_eq!(cached.misses, 4);
    }
}
