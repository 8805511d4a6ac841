//! IP ranges, parsed by `ipnet`. A CIDR with host bits set (`203.0.113.7/24`) is rejected, not
//! silently widened, and the error names the network that was probably meant. Ranges are kept
//! as fixed-width hex bounds so both databases can compare and index them as text. A site may
//! hold at most a /16 of IPv4 or a /48 of IPv6 (API.md §4): `0.0.0.0/0` is not a call centre.

use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

/// The widest range a site may register: IPv4 /16, IPv6 /48.
pub const WIDEST_V4: u8 = 16;
pub const WIDEST_V6: u8 = 48;

/// A CIDR range with no host bits set, at most a /16 (IPv4) or a /48 (IPv6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange(IpNet);

impl IpRange {
    pub fn try_new(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        let net = IpNet::from_str(s).map_err(|_| {
            format!("{raw:?} is not a CIDR range such as 203.0.113.0/24 or 2001:db8::/48")
        })?;
        if net.trunc() != net {
            return Err(format!("{s} has host bits set; the network is {}", net.trunc()));
        }
        let widest = match net {
            IpNet::V4(_) => WIDEST_V4,
            IpNet::V6(_) => WIDEST_V6,
        };
        if net.prefix_len() < widest {
            return Err(format!(
                "{s} is too large: a site may hold at most a /{WIDEST_V4} of IPv4 or a /{WIDEST_V6} of IPv6"
            ));
        }
        Ok(IpRange(net))
    }

    pub fn family(&self) -> i32 {
        match self.0 {
            IpNet::V4(_) => 4,
            IpNet::V6(_) => 6,
        }
    }

    /// The first and last address as 32 hex digits.
    pub fn bounds(&self) -> (String, String) {
        (addr_key(self.0.network()), addr_key(self.0.broadcast()))
    }

    pub fn cidr(&self) -> String {
        self.0.to_string()
    }
}

/// An address as 32 hex digits (IPv4 in the low 32 bits), which sort as the numbers do.
pub fn addr_key(addr: IpAddr) -> String {
    let n: u128 = match addr {
        IpAddr::V4(a) => u32::from(a) as u128,
        IpAddr::V6(a) => u128::from(a),
    };
    format!("{n:032x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let r = IpRange::try_new("203.0.113.0/24").unwrap();
        assert_eq!(r.family(), 4);
        assert_eq!(r.bounds().0, format!("{:032x}", 0xcb007100u32));
        assert_eq!(r.bounds().1, format!("{:032x}", 0xcb0071ffu32));
        let e = IpRange::try_new("203.0.113.7/24").unwrap_err();
        assert!(e.contains("203.0.113.0/24"), "{e}");
        let v6 = IpRange::try_new("2001:db8::/48").unwrap();
        assert_eq!(v6.family(), 6);
        assert!(IpRange::try_new("203.0.113.0").is_err());
        assert!(IpRange::try_new("300.0.0.0/8").is_err());
    }

    #[test]
    fn at_most_a_slash_16_or_a_slash_48() {
        for wide in ["0.0.0.0/0", "10.0.0.0/8", "10.0.0.0/15", "::/0", "2001:db8::/47"] {
            assert!(IpRange::try_new(wide).unwrap_err().contains("too large"), "{wide}");
        }
        for ok in ["10.0.0.0/16", "2001:db8::/48", "203.0.113.7/32", "2001:db8::1/128"] {
            assert!(IpRange::try_new(ok).is_ok(), "{ok}");
        }
    }
}
