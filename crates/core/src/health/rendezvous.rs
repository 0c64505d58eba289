//! Weighted rendezvous hashing for sticky loadbalance.
//!
//! It owns the ranking of a group's children for one sticky key: every child gets a score from
//! the key and its own seed, and the highest score is the key's first choice. Because a child's
//! score depends only on the key, its seed and its weight, changing one child moves only the
//! keys that child wins or loses: raising a canary's weight moves keys *to* it and nowhere else,
//! and removing a child sends its keys to their second choice while every other key stays put.
//!
//! The hash must be the same on every instance, platform and Rust release, or two gateways (or
//! one gateway before and after an upgrade) would send a user to different targets. std's
//! `DefaultHasher` promises none of that, so [`stable_hash`] is spelled out here: FNV-1a 64 (a
//! fixed, published byte hash), then MurmurHash3's 64-bit finaliser, because FNV alone mixes
//! short and similar inputs (`user-1`, `user-2`) poorly in its high bits.
//! It reads no clock and draws no random numbers: the same inputs always give the same ranking.

/// A stable 64-bit hash of text (the sticky value, or a child's identity), the same on every
/// platform and Rust release: FNV-1a 64 with MurmurHash3's finaliser (see the module header).
pub fn stable_hash(bytes: &[u8]) -> u64 {
    fmix64(fnv1a(bytes))
}

/// FNV-1a, 64-bit, from scratch.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hasher = StableHasher::new();
    hasher.write(bytes);
    hasher.0
}

/// [`stable_hash`] over several parts without joining them first: `part` writes a part and
/// a separator byte (0xff, which UTF-8 text never holds), so `("ab", "c")` and `("a", "bc")`
/// hash apart.
#[derive(Debug, Clone, Copy)]
pub struct StableHasher(u64);

impl Default for StableHasher {
    fn default() -> Self {
        StableHasher::new()
    }
}

impl StableHasher {
    pub fn new() -> Self {
        StableHasher(0xcbf2_9ce4_8422_2325)
    }

    /// FNV-1a, 64-bit: offset basis 0xcbf29ce484222325, prime 0x100000001b3.
    pub fn write(&mut self, bytes: &[u8]) {
        self.0 = bytes.iter().fold(self.0, |hash, &byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3));
    }

    pub fn part(&mut self, bytes: &[u8]) {
        self.write(bytes);
        self.write(&[0xff]);
    }

    pub fn finish(self) -> u64 {
        fmix64(self.0)
    }
}

/// MurmurHash3's 64-bit finaliser: a bijection in which every input bit flips about half the
/// output bits.
fn fmix64(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// Children ranked for `key` by weighted rendezvous hashing (highest score first):
/// score_i = -w_i / ln(u_i) with u_i in (0,1) from mixing the key's hash with child i's seed.
/// Children with weight 0 (or not finite / negative) are left out. `children` = (seed, weight)
/// per child, seed = stable_hash of the child's identity.
///
/// The result holds indices into `children`. Scores are compared as their logarithm,
/// ln(w_i) - ln(-ln(u_i)), which orders the same but cannot overflow to infinity for huge
/// weights; equal scores (vanishingly rare) rank by index, so the order is always the same.
pub fn rank(key: u64, children: &[(u64, f64)]) -> Vec<usize> {
    let mut scored: Vec<(f64, usize)> = children
        .iter()
        .enumerate()
        .filter(|(_, (_, weight))| weight.is_finite() && *weight > 0.0)
        .map(|(index, &(seed, weight))| (log_score(key, seed, weight), index))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, index)| index).collect()
}

/// ln(-w / ln(u)) for a weight that is finite and above 0: finite for every such weight.
fn log_score(key: u64, seed: u64, weight: f64) -> f64 {
    let u = open_unit(mix(key, seed));
    weight.ln() - (-u.ln()).ln()
}

/// The key and a child's seed mixed into one uniform 64-bit value. The seed is finalised again
/// so that a key equal to a seed (a sticky value spelled like a child's identity) is not
/// special, and so that raw, unhashed seeds still spread.
fn mix(key: u64, seed: u64) -> u64 {
    fmix64(key ^ fmix64(seed.wrapping_add(0x9e37_79b9_7f4a_7c15)))
}

/// The top 52 bits as a number strictly between 0 and 1: (n + 0.5) / 2^52. With 52 bits every
/// n + 0.5 is exact in an `f64` (with 53, 2^53 - 0.5 would round up to 2^53 and give u = 1).
fn open_unit(x: u64) -> f64 {
    const SCALE: f64 = (1u64 << 52) as f64;
    ((x >> 12) as f64 + 0.5) / SCALE
}

#[cfg(test)]
mod hasher_tests {
    use super::*;

    #[test]
    fn parts_are_separated() {
        let hash = |parts: &[&str]| {
            let mut h = StableHasher::new();
            parts.iter().for_each(|p| h.part(p.as_bytes()));
            h.finish()
        };
        assert_ne!(hash(&["ab", "c"]), hash(&["a", "bc"]));
        assert_eq!(hash(&["ab", "c"]), hash(&["ab", "c"]));
        let mut whole = StableHasher::new();
        whole.write(b"abc");
        assert_eq!(whole.finish(), stable_hash(b"abc"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: usize = 20_000;

    fn keys() -> impl Iterator<Item = u64> {
        (0..KEYS).map(|i| stable_hash(format!("user-{i}").as_bytes()))
    }

    fn seed(identity: &str) -> u64 {
        stable_hash(identity.as_bytes())
    }

    fn first(key: u64, children: &[(u64, f64)]) -> Option<usize> {
        rank(key, children).first().copied()
    }

    /// The published FNV-1a 64 test vectors, and the finalised values pinned, so that a change
    /// of hash (which would move every sticky user) fails here first.
    #[test]
    fn stable_hash_is_fnv1a_then_fmix64_and_never_changes() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
        assert_eq!(fmix64(0), 0);
        assert_eq!(stable_hash(b"a"), fmix64(0xaf63_dc4c_8601_ec8c));
        // Checked against an independent implementation of the same two steps.
        assert_eq!(stable_hash(b"user-1"), 0x41a2_fca5_c684_01c5);
    }

    #[test]
    fn unit_interval_is_open_at_both_ends() {
        for x in [0, 1, 4095, 4096, u64::MAX >> 1, u64::MAX - 4096, u64::MAX] {
            let u = open_unit(x);
            assert!(u > 0.0 && u < 1.0, "{x:#x} gave {u}");
            assert!(log_score(x, 0, 1.0).is_finite());
        }
        for weight in [f64::MIN_POSITIVE, 5e-324, 1e-300, 1.0, 1e300, f64::MAX] {
            assert!(log_score(7, 7, weight).is_finite(), "weight {weight}");
        }
    }

    #[test]
    fn same_key_gives_the_same_ranking() {
        let children = [(seed("a"), 1.0), (seed("b"), 2.0), (seed("c"), 3.0)];
        for key in keys().take(200) {
            let ranking = rank(key, &children);
            assert_eq!(ranking.len(), 3);
            assert_eq!(rank(key, &children), ranking);
        }
    }

    #[test]
    fn ranking_does_not_depend_on_the_order_children_appear_in() {
        let children = [(seed("a"), 1.0), (seed("b"), 2.0), (seed("c"), 3.0), (seed("d"), 0.5)];
        let mut reordered = children;
        reordered.reverse();
        reordered.swap(0, 2);
        let seeds = |list: &[(u64, f64)], key| rank(key, list).into_iter().map(|i| list[i].0).collect::<Vec<_>>();
        for key in keys().take(2000) {
            assert_eq!(seeds(&children, key), seeds(&reordered, key));
        }
    }

    #[test]
    fn first_choices_follow_the_weights() {
        let share = |children: &[(u64, f64)], child| {
            keys().filter(|&key| first(key, children) == Some(child)).count() as f64 / KEYS as f64
        };
        let stable_canary = [(seed("stable"), 90.0), (seed("canary"), 10.0)];
        let canary = share(&stable_canary, 1);
        assert!((canary - 0.10).abs() <= 0.015, "canary got {canary}");
        let three = [(seed("x"), 0.5), (seed("y"), 0.3), (seed("z"), 0.2)];
        for (child, want) in [(0, 0.5), (1, 0.3), (2, 0.2)] {
            let got = share(&three, child);
            assert!((got - want).abs() <= 0.015, "child {child} got {got}, wants {want}");
        }
    }

    #[test]
    fn raising_a_canary_moves_keys_only_to_the_canary() {
        let before = [(seed("stable"), 90.0), (seed("canary"), 10.0)];
        let after = [(seed("stable"), 80.0), (seed("canary"), 20.0)];
        let mut moved = 0;
        for key in keys() {
            let (was, now) = (first(key, &before), first(key, &after));
            if was != now {
                assert_eq!((was, now), (Some(0), Some(1)), "a key moved away from the canary");
                moved += 1;
            }
        }
        let share = moved as f64 / KEYS as f64;
        assert!((0.08..=0.12).contains(&share), "{share} of keys moved");
    }

    #[test]
    fn removing_a_child_moves_only_its_keys_to_their_second_choice() {
        let all = [(seed("a"), 1.0), (seed("b"), 1.0), (seed("c"), 2.0)];
        let mut without_b = all;
        without_b[1].1 = 0.0;
        for key in keys() {
            let (old, new) = (rank(key, &all), rank(key, &without_b));
            let want = if old[0] == 1 { old[1] } else { old[0] };
            assert_eq!(new[0], want);
            assert_eq!(new, old.into_iter().filter(|&i| i != 1).collect::<Vec<_>>());
        }
    }

    #[test]
    fn unusable_weights_are_left_out() {
        let children = [
            (1, 0.0),
            (2, -1.0),
            (3, f64::NAN),
            (4, f64::INFINITY),
            (5, f64::NEG_INFINITY),
            (6, -0.0),
            (7, 1.0),
            (8, 5e-324),
        ];
        for key in keys().take(100) {
            let mut ranking = rank(key, &children);
            ranking.sort_unstable();
            assert_eq!(ranking, [6, 7]);
        }
    }

    #[test]
    fn empty_all_zero_and_single_inputs_do_not_panic() {
        assert_eq!(rank(1, &[]), Vec::<usize>::new());
        assert_eq!(rank(1, &[(1, 0.0), (2, 0.0)]), Vec::<usize>::new());
        assert_eq!(rank(u64::MAX, &[(0, 3.0)]), [0]);
        assert_eq!(rank(0, &[(0, 1.0), (0, 1.0)]), [0, 1], "identical children rank by index");
        assert_eq!(stable_hash(&[]), fmix64(0xcbf2_9ce4_8422_2325));
    }
}
