//! Where a webhook may be delivered. A receiver URL is `http` or `https` with a host, and,
//! unless `CCREG_WEBHOOK_ALLOW_PRIVATE` is set, its host may not be or resolve to an address
//! inside a network (loopback, private, link-local, CGNAT, unspecified and the like, also
//! written as IPv4-mapped IPv6): checked when the URL is set, and again at every delivery,
//! where the HTTP client connects only to addresses that pass ([`PublicOnly`]), so a name
//! that resolves elsewhere later (DNS rebinding) is not followed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Url;

/// The longest receiver URL accepted.
const MAX_URL_LEN: usize = 2048;
/// How long resolving a receiver's name may take when the URL is set: a name that has not
/// resolved by then is refused at once (422) rather than holding the request for the
/// resolver's own timeouts (5 s a try with glibc) when no name server answers.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(2);

/// A receiver URL that has passed the syntax rules (not yet the address rules).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiverUrl(Url);

impl ReceiverUrl {
    /// `http` or `https`, a host, no user name or password, no fragment, at most 2048 bytes.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.len() > MAX_URL_LEN {
            return Err(format!("may be at most {MAX_URL_LEN} characters"));
        }
        let url = Url::parse(raw).map_err(|e| format!("is not an absolute URL ({e})"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("must be an http or https URL, not {}", url.scheme()));
        }
        if url.host().is_none() {
            return Err("needs a host".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("may not carry a user name or password".into());
        }
        if url.fragment().is_some() {
            return Err("may not have a #fragment".into());
        }
        Ok(ReceiverUrl(url))
    }

    pub fn as_url(&self) -> &Url {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Scheme, host and port only: what the audit log names (a path may hold the receiver's
    /// own token).
    pub fn origin(&self) -> String {
        self.0.origin().ascii_serialization()
    }

    /// The host's address when the URL names one literally.
    fn literal(&self) -> Option<IpAddr> {
        match self.0.host()? {
            url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
            url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
            url::Host::Domain(_) => None,
        }
    }

    /// The address rules when the URL is set: a literal address is checked as it is; a name
    /// is resolved and every address it resolves to must pass.
    pub async fn check_addresses(&self) -> Result<(), String> {
        if let Some(ip) = self.literal() {
            return match forbidden(ip) {
                Some(kind) => Err(format!("names {ip}, {kind}; webhooks go to public addresses")),
                None => Ok(()),
            };
        }
        let host = self.0.host_str().unwrap_or_default().to_string();
        let lookup = tokio::net::lookup_host((host.clone(), 0));
        let addrs: Vec<SocketAddr> =
            match actix_web::rt::time::timeout(RESOLVE_TIMEOUT, lookup).await {
                Ok(Ok(addrs)) => addrs.collect(),
                Ok(Err(_)) => return Err(format!("names the host {host}, which does not resolve")),
                Err(_) => {
                    return Err(format!(
                        "names the host {host}, which did not resolve within {} s",
                        RESOLVE_TIMEOUT.as_secs()
                    ))
                }
            };
        for addr in &addrs {
            if let Some(kind) = forbidden(addr.ip()) {
                return Err(format!(
                    "names the host {host}, which resolves to {}, {kind}; webhooks go to public addresses",
                    addr.ip()
                ));
            }
        }
        if addrs.is_empty() {
            return Err(format!("names the host {host}, which does not resolve"));
        }
        Ok(())
    }

    /// The address rule at delivery, for a literal address (names go through [`PublicOnly`]).
    pub fn refused_literal(&self) -> Option<String> {
        let ip = self.literal()?;
        forbidden(ip).map(|kind| format!("refused: {ip} is {kind}"))
    }
}

/// What kind of non-public address `ip` is, if it is one.
pub fn forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    if a == 0 {
        Some("an unspecified address")
    } else if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_private() {
        Some("a private address")
    } else if ip.is_link_local() {
        Some("a link-local address")
    } else if a == 100 && (b & 0xc0) == 64 {
        Some("a shared (CGNAT) address")
    } else if (a == 192 && b == 0 && c == 0) || (a == 198 && (b & 0xfe) == 18) {
        Some("a reserved address")
    } else if a >= 224 {
        Some("a multicast, reserved or broadcast address")
    } else {
        None
    }
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4);
    }
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address inside.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return forbidden_v4(Ipv4Addr::from(((s[6] as u32) << 16) | s[7] as u32));
    }
    if s[0] == 0x2002 {
        return forbidden_v4(Ipv4Addr::from(((s[1] as u32) << 16) | s[2] as u32));
    }
    if ip.is_unspecified() {
        Some("an unspecified address")
    } else if ip.is_loopback() {
        Some("a loopback address")
    } else if s[..6] == [0; 6] {
        Some("an IPv4-compatible address")
    } else if (s[0] & 0xfe00) == 0xfc00 {
        Some("a private (unique local) address")
    } else if (s[0] & 0xffc0) == 0xfe80 || (s[0] & 0xffc0) == 0xfec0 {
        Some("a link-local address")
    } else if ip.is_multicast() {
        Some("a multicast address")
    } else {
        None
    }
}

/// The delivery client's resolver: resolves as the system does and keeps only public
/// addresses, so a connection is made only to an address that passed the check.
#[derive(Debug, Default)]
pub struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|_| format!("{host} does not resolve"))?
                .collect();
            let public: Vec<SocketAddr> =
                addrs.iter().copied().filter(|a| forbidden(a.ip()).is_none()).collect();
            if public.is_empty() {
                let shown = addrs.first().map(|a| a.ip().to_string()).unwrap_or_default();
                return Err(format!(
                    "refused: {host} resolves only to non-public addresses ({shown})"
                )
                .into());
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn inner_addresses_are_forbidden_and_public_ones_pass() {
        for inner in [
            "127.0.0.1",
            "127.9.9.9",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "::",
            "::1",
            "fd00::1",
            "fc12::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:c0a8:101::1",
            "ff02::1",
        ] {
            assert!(forbidden(ip(inner)).is_some(), "{inner} should be forbidden");
        }
        for public in ["8.8.8.8", "203.0.113.7", "100.128.0.1", "172.32.0.1", "2001:4860::8888"] {
            assert_eq!(forbidden(ip(public)), None, "{public} should pass");
        }
        assert_eq!(forbidden(ip("64:ff9b::808:808")), None);
        assert_eq!(forbidden(ip("::ffff:8.8.8.8")), None);
    }

    #[test]
    fn only_http_and_https_urls_with_a_host() {
        assert!(ReceiverUrl::parse("https://hooks.bank.pk/ccreg").is_ok());
        assert!(ReceiverUrl::parse("http://203.0.113.7:8080/x?y=1").is_ok());
        for bad in [
            "ftp://hooks.bank.pk/",
            "file:///etc/passwd",
            "hooks.bank.pk/ccreg",
            "https://user:pw@hooks.bank.pk/",
            "https://hooks.bank.pk/#x",
            "javascript:alert(1)",
            "",
        ] {
            assert!(ReceiverUrl::parse(bad).is_err(), "{bad}");
        }
        let long = format!("https://hooks.bank.pk/{}", "a".repeat(2100));
        assert!(ReceiverUrl::parse(&long).is_err());
    }

    #[test]
    fn literal_addresses_in_any_spelling_are_caught() {
        for url in ["http://0x7f.1/", "http://2130706433/", "http://[::ffff:7f00:1]/"] {
            let u = ReceiverUrl::parse(url).unwrap();
            assert!(u.refused_literal().is_some(), "{url}");
        }
        assert!(ReceiverUrl::parse("https://8.8.8.8/").unwrap().refused_literal().is_none());
    }
}
