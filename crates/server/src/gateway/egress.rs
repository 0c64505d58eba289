//! The egress policy: which addresses the gateway may connect to on a provider's behalf.
//! Every upstream address is checked after DNS resolution — [`PolicyResolver`] is the
//! upstream client's resolver, so a name that resolves (or later re-resolves) to a denied
//! address is refused, and an IP-literal URL is checked by [`EgressPolicy::check_url`]
//! before the request is sent. Nothing here dials anything.
//!
//! Always denied, whatever the flags say: link-local (169.254.0.0/16, fe80::/10, where the
//! cloud metadata services live), the known metadata addresses outside it
//! (`fd00:ec2::254`, `100.100.100.200`), unspecified, "this network" (0.0.0.0/8),
//! multicast and broadcast. Loopback and private ranges are allowed by default (local
//! models run there) and denied with `--egress-deny-private`. `--egress-deny` adds ranges;
//! `--egress-allow`, when given, allows only its ranges.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// What an admin set with the `--egress-*` flags.
#[derive(Debug, Clone, Default)]
pub struct EgressPolicy {
    pub deny: Vec<IpNet>,
    /// When non-empty, only these ranges (minus the always-denied ones).
    pub allow: Vec<IpNet>,
    pub deny_private: bool,
}

/// Why an address is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub host: String,
    pub reason: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "egress to {} refused: {}", self.host, self.reason)
    }
}

impl std::error::Error for Refused {}

/// Cloud metadata endpoints outside the link-local range.
const METADATA: [IpAddr; 2] =
    [IpAddr::V6(Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)), IpAddr::V4(Ipv4Addr::new(100, 100, 100, 200))];

impl EgressPolicy {
    /// `Ok` when the gateway may connect to `ip`; else why not.
    pub fn check(&self, ip: IpAddr) -> Result<(), &'static str> {
        let ip = ip.to_canonical();
        if let Some(why) = always_denied(ip) {
            return Err(why);
        }
        if self.deny.iter().any(|net| net.contains(&ip)) {
            return Err("in a range denied by --egress-deny");
        }
        if !self.allow.is_empty() && !self.allow.iter().any(|net| net.contains(&ip)) {
            return Err("not in a range allowed by --egress-allow");
        }
        if self.deny_private && is_private(ip) {
            return Err("a loopback or private address (--egress-deny-private)");
        }
        Ok(())
    }

    /// Checks a URL whose host is an IP literal (the resolver never sees those). Names are
    /// left to the resolver.
    pub fn check_url(&self, url: &reqwest::Url) -> Result<(), Refused> {
        let host = url.host_str().unwrap_or_default();
        let literal = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        let Ok(ip) = literal.parse::<IpAddr>() else { return Ok(()) };
        self.check(ip).map_err(|reason| Refused { host: ip.to_string(), reason: reason.to_string() })
    }
}

fn always_denied(ip: IpAddr) -> Option<&'static str> {
    if ip.is_unspecified() {
        return Some("the unspecified address");
    }
    if ip.is_multicast() {
        return Some("a multicast address");
    }
    if METADATA.contains(&ip) {
        return Some("a cloud metadata address");
    }
    match ip {
        IpAddr::V4(v4) if v4.is_link_local() => Some("a link-local address (cloud metadata lives there)"),
        IpAddr::V4(v4) if v4.is_broadcast() => Some("the broadcast address"),
        IpAddr::V4(v4) if v4.octets()[0] == 0 => Some("a \"this network\" address (0.0.0.0/8)"),
        IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80 => {
            Some("a link-local address (cloud metadata lives there)")
        }
        _ => None,
    }
}

fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback() || v4.is_private() || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}

/// The upstream client's DNS resolver: the system's lookup, then the policy on every
/// address. Denied addresses are dropped; when none is left the name is refused.
pub struct PolicyResolver {
    pub policy: Arc<EgressPolicy>,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let (allowed, reasons) = split(&policy, found);
            if allowed.is_empty() {
                let reason = reasons.first().map_or("it resolves to no address", |why| why);
                let err = Refused { host, reason: format!("it resolves to {reason}") };
                return Err(Box::new(err) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

fn split(policy: &EgressPolicy, found: Vec<SocketAddr>) -> (Vec<SocketAddr>, Vec<&'static str>) {
    let mut reasons = Vec::new();
    let allowed = found
        .into_iter()
        .filter(|addr| match policy.check(addr.ip()) {
            Ok(()) => true,
            Err(why) => {
                reasons.push(why);
                false
            }
        })
        .collect();
    (allowed, reasons)
}

/// The policy's refusal inside a transport error's cause chain, if that is what it was.
pub fn refusal<'e>(err: &'e (dyn std::error::Error + 'static)) -> Option<&'e Refused> {
    let mut source = Some(err);
    while let Some(e) = source {
        if let Some(refused) = e.downcast_ref::<Refused>() {
            return Some(refused);
        }
        // An `io::Error`'s `source()` skips the error it wraps; look inside it too.
        let inner = e.downcast_ref::<std::io::Error>().and_then(std::io::Error::get_ref);
        if let Some(refused) = inner.and_then(|i| i.downcast_ref::<Refused>()) {
            return Some(refused);
        }
        source = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().filter_map(|n| n.parse().ok()).collect()
    }

    #[test]
    fn link_local_and_metadata_are_always_denied() {
        let open = EgressPolicy { allow: nets(&["0.0.0.0/0", "::/0"]), ..EgressPolicy::default() };
        for addr in [
            "169.254.169.254",
            "169.254.0.1",
            "fe80::1",
            "febf::1",
            "fd00:ec2::254",
            "100.100.100.200",
            "::ffff:169.254.169.254",
        ] {
            assert!(open.check(ip(addr)).is_err(), "{addr} must be denied");
        }
    }

    #[test]
    fn unspecified_multicast_broadcast_this_network_are_always_denied() {
        let policy = EgressPolicy::default();
        for addr in ["0.0.0.0", "::", "0.1.2.3", "224.0.0.1", "239.255.255.250", "ff02::1", "255.255.255.255"] {
            assert!(policy.check(ip(addr)).is_err(), "{addr} must be denied");
        }
    }

    #[test]
    fn loopback_and_private_are_allowed_by_default() {
        let policy = EgressPolicy::default();
        for addr in ["127.0.0.1", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.10", "100.64.0.1", "fd12::1"] {
            assert_eq!(policy.check(ip(addr)), Ok(()), "{addr}");
        }
        assert_eq!(policy.check(ip("8.8.8.8")), Ok(()));
        assert_eq!(policy.check(ip("2606:4700::1111")), Ok(()));
    }

    #[test]
    fn deny_private_denies_loopback_and_private_ranges() {
        let policy = EgressPolicy { deny_private: true, ..EgressPolicy::default() };
        for addr in ["127.0.0.1", "127.5.5.5", "::1", "10.0.0.1", "172.31.255.255", "192.168.0.1", "100.127.0.1"] {
            assert!(policy.check(ip(addr)).is_err(), "{addr} must be denied");
        }
        for addr in ["172.32.0.1", "100.128.0.1", "8.8.8.8", "2001:db8::1"] {
            assert_eq!(policy.check(ip(addr)), Ok(()), "{addr}");
        }
    }

    #[test]
    fn deny_ranges_add_to_the_defaults() {
        let policy = EgressPolicy { deny: nets(&["203.0.113.0/24", "2001:db8::/32"]), ..EgressPolicy::default() };
        assert!(policy.check(ip("203.0.113.7")).is_err());
        assert!(policy.check(ip("2001:db8::5")).is_err());
        assert_eq!(policy.check(ip("203.0.114.1")), Ok(()));
    }

    #[test]
    fn allow_ranges_allow_only_themselves() {
        let policy = EgressPolicy { allow: nets(&["10.0.0.0/8"]), ..EgressPolicy::default() };
        assert_eq!(policy.check(ip("10.9.9.9")), Ok(()));
        assert!(policy.check(ip("127.0.0.1")).is_err());
        assert!(policy.check(ip("8.8.8.8")).is_err());
    }

    #[test]
    fn ip_literal_urls_are_checked_names_are_left_to_the_resolver() {
        let policy = EgressPolicy::default();
        let url = |u: &str| reqwest::Url::parse(u).ok();
        let metadata = url("http://169.254.169.254/latest/meta-data").map(|u| policy.check_url(&u));
        assert!(matches!(metadata, Some(Err(Refused { ref host, .. })) if host == "169.254.169.254"));
        let v6 = url("http://[fe80::1]:8080/v1").map(|u| policy.check_url(&u));
        assert!(matches!(v6, Some(Err(_))));
        assert_eq!(url("http://metadata.internal/v1").map(|u| policy.check_url(&u)), Some(Ok(())));
    }

    #[test]
    fn refusal_is_found_in_a_cause_chain() {
        let refused = Refused { host: "h".into(), reason: "r".into() };
        let wrapped = std::io::Error::other(refused.clone());
        assert_eq!(refusal(&wrapped), Some(&refused));
        assert_eq!(refusal(&std::io::Error::other("plain")), None);
    }
}
