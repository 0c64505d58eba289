//! Weighted rendezvous hashing for sticky loadbalance.
//! (Placeholder signatures; the implementation lands from the `pure-health` branch.)

/// A stable 64-bit hash of `bytes`.
pub fn stable_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// Children ranked for `key`, best first; weight-0 children left out.
pub fn rank(key: u64, children: &[(u64, f64)]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..children.len()).filter(|i| children[*i].1 > 0.0).collect();
    order.sort_by_key(|i| std::cmp::Reverse(stable_hash(&(key ^ children[*i].0).to_le_bytes())));
    order
}
