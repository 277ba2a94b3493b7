//! The address blocks a webhook may not reach, in one table with their
//! sources: every block that IANA's special-purpose address registries
//! (IPv4 and IPv6, RFC 6890) mark not globally reachable, multicast, the
//! deprecated blocks, and the translation and tunnel prefixes SERVER.md
//! refuses because they lead back to IPv4 ("Secrets and addresses").
//! IPv4-mapped addresses (`::ffff:a.b.c.d`) are judged as the IPv4 address
//! they carry; IPv6 outside the global unicast space 2000::/3 is refused
//! whole.

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One refused (or, among exceptions, allowed) block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    /// The block.
    pub net: IpNet,
    /// What it is, as an error shows it.
    pub name: &'static str,
    /// Where its status comes from.
    pub source: &'static str,
}

const fn v4(o: [u8; 4], len: u8, name: &'static str, source: &'static str) -> Block {
    let net = IpNet::V4(Ipv4Net::new_assert(Ipv4Addr::new(o[0], o[1], o[2], o[3]), len));
    Block { net, name, source }
}

const fn v6(s: [u16; 8], len: u8, name: &'static str, source: &'static str) -> Block {
    let addr = Ipv6Addr::new(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]);
    Block {
        net: IpNet::V6(Ipv6Net::new_assert(addr, len)),
        name,
        source,
    }
}

/// Refused IPv4 blocks, the first match naming the reason. Source: the IANA
/// IPv4 special-purpose address registry ("Globally Reachable: False", or
/// deprecated), and the IPv4 multicast registry.
pub const V4_REFUSED: &[Block] = &[
    v4([0, 0, 0, 0], 8, "\"this network\"", "RFC 791"),
    v4([10, 0, 0, 0], 8, "private", "RFC 1918"),
    v4([100, 64, 0, 0], 10, "shared (carrier-grade NAT)", "RFC 6598"),
    v4([127, 0, 0, 0], 8, "loopback", "RFC 1122"),
    v4([169, 254, 0, 0], 16, "link-local", "RFC 3927"),
    v4([172, 16, 0, 0], 12, "private", "RFC 1918"),
    v4(
        [192, 0, 0, 0],
        24,
        "IETF protocol assignment",
        "RFC 6890, 7335, 7600, 8880",
    ),
    v4([192, 0, 2, 0], 24, "documentation (TEST-NET-1)", "RFC 5737"),
    v4([192, 88, 99, 0], 24, "deprecated 6to4 relay anycast", "RFC 7526"),
    v4([192, 168, 0, 0], 16, "private", "RFC 1918"),
    v4([198, 18, 0, 0], 15, "benchmarking", "RFC 2544"),
    v4([198, 51, 100, 0], 24, "documentation (TEST-NET-2)", "RFC 5737"),
    v4([203, 0, 113, 0], 24, "documentation (TEST-NET-3)", "RFC 5737"),
    v4([224, 0, 0, 0], 4, "multicast", "RFC 5771, IANA multicast registry"),
    v4([255, 255, 255, 255], 32, "limited broadcast", "RFC 8190, 919"),
    v4([240, 0, 0, 0], 4, "reserved", "RFC 1112"),
];

/// IPv4 addresses inside a refused block that the registry marks globally
/// reachable.
pub const V4_GLOBAL: &[Block] = &[
    v4([192, 0, 0, 9], 32, "Port Control Protocol anycast", "RFC 7723"),
    v4([192, 0, 0, 10], 32, "TURN anycast", "RFC 8155"),
];

/// Refused IPv6 blocks, the first match naming the reason. Source: the IANA
/// IPv6 special-purpose address registry ("Globally Reachable: False", or
/// deprecated), the multicast registry, and SERVER.md for the two prefixes
/// that lead to IPv4 (NAT64 and 6to4). The mapped block ::ffff:0:0/96 is
/// not here: its addresses are judged as IPv4.
pub const V6_REFUSED: &[Block] = &[
    v6([0, 0, 0, 0, 0, 0, 0, 0], 128, "unspecified", "RFC 4291"),
    v6([0, 0, 0, 0, 0, 0, 0, 1], 128, "loopback", "RFC 4291"),
    v6(
        [0, 0, 0, 0, 0, 0, 0, 0],
        96,
        "deprecated IPv4-compatible",
        "RFC 4291 section 2.5.5.1",
    ),
    v6(
        [0x64, 0xff9b, 0, 0, 0, 0, 0, 0],
        96,
        "IPv4/IPv6 translation (NAT64)",
        "RFC 6052; SERVER.md",
    ),
    v6(
        [0x64, 0xff9b, 1, 0, 0, 0, 0, 0],
        48,
        "local-use IPv4/IPv6 translation",
        "RFC 8215",
    ),
    v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64, "discard-only", "RFC 6666"),
    v6([0x100, 0, 0, 1, 0, 0, 0, 0], 64, "dummy prefix", "RFC 9780"),
    v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 32, "Teredo", "RFC 4380"),
    v6([0x2001, 2, 0, 0, 0, 0, 0, 0], 48, "benchmarking", "RFC 5180"),
    v6([0x2001, 0x10, 0, 0, 0, 0, 0, 0], 28, "deprecated ORCHID", "RFC 4843"),
    v6(
        [0x2001, 0, 0, 0, 0, 0, 0, 0],
        23,
        "IETF protocol assignment",
        "RFC 2928",
    ),
    v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32, "documentation", "RFC 3849"),
    v6([0x2002, 0, 0, 0, 0, 0, 0, 0], 16, "6to4", "RFC 3056; SERVER.md"),
    v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20, "documentation", "RFC 9637"),
    v6(
        [0x5f00, 0, 0, 0, 0, 0, 0, 0],
        16,
        "segment routing (SRv6) SID",
        "RFC 9602",
    ),
    v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, "unique local", "RFC 4193"),
    v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, "link-local", "RFC 4291"),
    v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, "deprecated site-local", "RFC 3879"),
    v6(
        [0xff00, 0, 0, 0, 0, 0, 0, 0],
        8,
        "multicast",
        "RFC 4291, IANA multicast registry",
    ),
];

/// IPv6 blocks inside a refused block that the registry marks globally
/// reachable.
pub const V6_GLOBAL: &[Block] = &[
    v6(
        [0x2001, 1, 0, 0, 0, 0, 0, 1],
        128,
        "Port Control Protocol anycast",
        "RFC 7723",
    ),
    v6([0x2001, 1, 0, 0, 0, 0, 0, 2], 128, "TURN anycast", "RFC 8155"),
    v6([0x2001, 1, 0, 0, 0, 0, 0, 3], 128, "DNS-SD SRP anycast", "RFC 9665"),
    v6([0x2001, 3, 0, 0, 0, 0, 0, 0], 32, "AMT", "RFC 7450"),
    v6([0x2001, 4, 0x112, 0, 0, 0, 0, 0], 48, "AS112-v6", "RFC 7535"),
    v6([0x2001, 0x20, 0, 0, 0, 0, 0, 0], 28, "ORCHIDv2", "RFC 7343"),
    v6([0x2001, 0x30, 0, 0, 0, 0, 0, 0], 28, "drone remote ID", "RFC 9374"),
];

/// Everything IPv6 outside the global unicast space (IANA IPv6 address
/// space registry: the rest is reserved by the IETF).
pub const V6_NOT_GLOBAL_UNICAST: Block = v6(
    [0x2000, 0, 0, 0, 0, 0, 0, 0],
    3,
    "outside the global unicast space 2000::/3",
    "RFC 4291",
);

fn first(blocks: &'static [Block], ip: IpAddr) -> Option<&'static Block> {
    blocks.iter().find(|b| b.net.contains(&ip))
}

/// The block that makes `ip` not globally reachable, or None when it is.
/// An IPv4-mapped IPv6 address is judged as its IPv4 address.
pub fn refused_block(ip: IpAddr) -> Option<&'static Block> {
    match ip.to_canonical() {
        ip @ IpAddr::V4(_) => match first(V4_GLOBAL, ip) {
            Some(_) => None,
            None => first(V4_REFUSED, ip),
        },
        ip @ IpAddr::V6(_) => {
            if first(V6_GLOBAL, ip).is_some() {
                return None;
            }
            match first(V6_REFUSED, ip) {
                Some(block) => Some(block),
                None if !V6_NOT_GLOBAL_UNICAST.net.contains(&ip) => Some(&V6_NOT_GLOBAL_UNICAST),
                None => None,
            }
        }
    }
}
