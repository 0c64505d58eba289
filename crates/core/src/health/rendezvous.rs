//! Weighted rendezvous hashing for sticky loadbalance.
