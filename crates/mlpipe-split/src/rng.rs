//! A portable seeded shuffle: ChaCha8 and our own unbiased bounded sampling, so the same
//! seed gives the same permutation on every platform and every version of `rand`.

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// The seeded generator every strategy uses.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// A uniform integer in `0..n` (Lemire's method with rejection; `n > 0`).
pub fn below(rng: &mut ChaCha8Rng, n: u64) -> u64 {
    let mut x = rng.next_u64();
    let mut m = (x as u128) * (n as u128);
    let mut low = m as u64;
    if low < n {
        let threshold = n.wrapping_neg() % n;
        while low < threshold {
            x = rng.next_u64();
            m = (x as u128) * (n as u128);
            low = m as u64;
        }
    }
    (m >> 64) as u64
}

/// Fisher–Yates shuffle in place.
pub fn shuffle<T>(rng: &mut ChaCha8Rng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = below(rng, i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_permutation_for_seed_42() {
        // Pinned once: if this changes, every recorded split of every user changes.
        let mut v: Vec<u32> = (0..10).collect();
        shuffle(&mut rng(42), &mut v);
        assert_eq!(v, PINNED);
    }

    const PINNED: [u32; 10] = [9, 7, 2, 5, 0, 1, 4, 3, 8, 6];

    #[test]
    fn below_is_in_range_and_roughly_uniform() {
        let mut r = rng(7);
        let mut counts = [0u32; 6];
        for _ in 0..60_000 {
            counts[below(&mut r, 6) as usize] += 1;
        }
        for c in counts {
            assert!((9_000..11_000).contains(&c), "{counts:?}");
        }
    }
}
