//! The Redis 7.0 cluster bus message format (`RCmb`, version 1): a fixed 2256-byte header, then a
//! type-specific body (gossip + ping extensions, FAIL, UPDATE, PUBLISH, ...). Encoding and
//! strict decoding only; what a message means to the node is decided in `gossip`.

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

#[cfg(test)]
use crate::slot::Slot;
use crate::slot::SlotSet;

/// Size of the fixed header every message starts with.
pub const HEADER_LEN: usize = 2256;
/// Size of one gossip entry of PING/PONG/MEET.
pub const GOSSIP_LEN: usize = 104;
/// Length of the slot bitmap (16384 bits).
pub const SLOT_BITMAP_LEN: usize = 2048;
/// Length of a node name.
pub const NAME_LEN: usize = 40;
const IP_LEN: usize = 46;
/// Redis refuses to even read a message claiming a total length below this.
pub const MIN_LEN: usize = HEADER_LEN;
/// Messages above this are refused before buffering (a 16-byte-header lie must not allocate GBs).
pub const MAX_LEN: usize = 64 * 1024 * 1024;

pub const TYPE_PING: u16 = 0;
pub const TYPE_PONG: u16 = 1;
pub const TYPE_MEET: u16 = 2;
pub const TYPE_FAIL: u16 = 3;
pub const TYPE_PUBLISH: u16 = 4;
pub const TYPE_FAILOVER_AUTH_REQUEST: u16 = 5;
pub const TYPE_FAILOVER_AUTH_ACK: u16 = 6;
pub const TYPE_UPDATE: u16 = 7;
pub const TYPE_MFSTART: u16 = 8;
pub const TYPE_MODULE: u16 = 9;
pub const TYPE_PUBLISHSHARD: u16 = 10;

/// Node flag bits, as used in the header and in gossip entries.
pub mod flags {
    pub const MASTER: u16 = 1;
    pub const SLAVE: u16 = 2;
    pub const PFAIL: u16 = 4;
    pub const FAIL: u16 = 8;
    pub const MYSELF: u16 = 16;
    pub const HANDSHAKE: u16 = 32;
    pub const NOADDR: u16 = 64;
    pub const MEET: u16 = 128;
    pub const MIGRATE_TO: u16 = 256;
    pub const NOFAILOVER: u16 = 512;
}

/// `mflags[0]` bits.
pub const MFLAG_PAUSED: u8 = 1;
pub const MFLAG_FORCEACK: u8 = 2;
pub const MFLAG_EXT_DATA: u8 = 4;

pub const EXT_HOSTNAME: u16 = 0;

/// A 40-byte node name. Real nodes use lowercase hex; any bytes are carried as received.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeName(pub [u8; NAME_LEN]);

impl NodeName {
    pub const ZERO: NodeName = NodeName([0; NAME_LEN]);

    /// A fresh random name (40 lowercase hex characters), as Redis makes them.
    pub fn random() -> NodeName {
        use rand::Rng;
        let mut rng = rand::thread_rng();
        let mut n = [0u8; NAME_LEN];
        for b in n.iter_mut() {
            *b = b"0123456789abcdef"[rng.gen_range(0..16)];
        }
        NodeName(n)
    }
    pub fn from_bytes(b: &[u8]) -> Option<NodeName> {
        let arr: [u8; NAME_LEN] = b.try_into().ok()?;
        Some(NodeName(arr))
    }
    pub fn is_zero(&self) -> bool {
        self.0 == [0; NAME_LEN]
    }
    pub fn as_str(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }
}

impl fmt::Display for NodeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.0))
    }
}

impl fmt::Debug for NodeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeName({self})")
    }
}

/// The fixed header, minus `sig`, `totlen`, `ver`, `type`, `count` and `extensions`, which
/// follow from the body.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub port: u16,
    pub current_epoch: u64,
    pub config_epoch: u64,
    pub offset: u64,
    pub sender: NodeName,
    pub myslots: SlotSet,
    /// Master's name for a replica; `None` for a master.
    pub slaveof: Option<NodeName>,
    /// Announced IP (empty = "use the TCP peer address").
    pub myip: String,
    pub pport: u16,
    pub cport: u16,
    pub flags: u16,
    /// 0 = ok, 1 = fail.
    pub state: u8,
    pub mflags: [u8; 3],
}

impl Header {
    pub fn new(sender: NodeName) -> Header {
        Header {
            port: 0,
            current_epoch: 0,
            config_epoch: 0,
            offset: 0,
            sender,
            myslots: SlotSet::new(),
            slaveof: None,
            myip: String::new(),
            pport: 0,
            cport: 0,
            flags: 0,
            state: 0,
            mflags: [0; 3],
        }
    }
}

/// One gossip entry: the sender's view of another node.
#[derive(Debug, Clone, PartialEq)]
pub struct Gossip {
    pub name: NodeName,
    /// Seconds (the sender's ms / 1000).
    pub ping_sent: u32,
    pub pong_received: u32,
    pub ip: String,
    pub port: u16,
    pub cport: u16,
    pub flags: u16,
    pub pport: u16,
}

/// A ping extension record.
#[derive(Debug, Clone, PartialEq)]
pub enum PingExt {
    Hostname(String),
    /// Types this node does not use (7.2+: human nodename, forgotten node, shard id): kept raw.
    Other {
        kind: u16,
        data: Bytes,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// PING, PONG and MEET.
    Ping {
        gossip: Vec<Gossip>,
        exts: Vec<PingExt>,
    },
    Fail {
        name: NodeName,
    },
    /// PUBLISH and PUBLISHSHARD.
    Publish {
        channel: Bytes,
        message: Bytes,
    },
    Update {
        config_epoch: u64,
        name: NodeName,
        slots: SlotSet,
    },
    Module {
        module_id: [u8; 8],
        kind: u8,
        payload: Bytes,
    },
    /// FAILOVER_AUTH_REQUEST/ACK, MFSTART, and unknown types (whose body is ignored).
    Empty,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub kind: u16,
    pub header: Header,
    pub body: Body,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("bad signature (not RCmb)")]
    Signature,
    #[error("declared length {0} out of bounds")]
    TotalLength(usize),
    #[error("declared length {declared} but {actual} bytes")]
    LengthMismatch { declared: usize, actual: usize },
    #[error("unsupported protocol version {0}")]
    Version(u16),
    #[error("type {kind}: length {actual}, expected {expected}")]
    BodyLength {
        kind: u16,
        expected: usize,
        actual: usize,
    },
    #[error("malformed ping extension")]
    Extension,
}

/// Checks the 8-byte prefix of a stream frame and returns the total length to read.
pub fn frame_length(prefix: &[u8; 8]) -> Result<usize, DecodeError> {
    if &prefix[0..4] != b"RCmb" {
        return Err(DecodeError::Signature);
    }
    let len = u32::from_be_bytes(prefix[4..8].try_into().unwrap()) as usize;
    if !(MIN_LEN..=MAX_LEN).contains(&len) {
        return Err(DecodeError::TotalLength(len));
    }
    Ok(len)
}

fn put_fixed_str(buf: &mut BytesMut, s: &[u8], size: usize) {
    // NUL-terminated within the field: at most size-1 bytes of text.
    let n = s.len().min(size - 1);
    buf.put_slice(&s[..n]);
    buf.put_bytes(0, size - n);
}

fn fixed_str(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// Slot bitmap: slot `s` is bit `s & 7` of byte `s >> 3` (the same bit order as the
/// little-endian words of `SlotSet`).
pub fn encode_slots(slots: &SlotSet, buf: &mut BytesMut) {
    for w in slots.words() {
        buf.put_slice(&w.to_le_bytes());
    }
}

pub fn decode_slots(b: &[u8]) -> SlotSet {
    let mut words = [0u64; 256];
    for (w, chunk) in words.iter_mut().zip(b.chunks_exact(8)) {
        *w = u64::from_le_bytes(chunk.try_into().unwrap());
    }
    SlotSet::from_words(words)
}

fn ext_record_len(ext: &PingExt) -> usize {
    let data_len = match ext {
        PingExt::Hostname(h) => h.len() + 1,
        PingExt::Other { data, .. } => data.len(),
    };
    8 + data_len.div_ceil(8) * 8
}

impl Message {
    pub fn new(kind: u16, header: Header, body: Body) -> Message {
        Message { kind, header, body }
    }

    /// Serializes the message, computing `totlen`, `count`, `extensions` and the EXT_DATA bit.
    pub fn encode(&self) -> Bytes {
        let h = &self.header;
        let (count, n_ext) = match &self.body {
            Body::Ping { gossip, exts } => (gossip.len() as u16, exts.len() as u16),
            _ => (0, 0),
        };
        let body_len = match &self.body {
            Body::Ping { gossip, exts } => {
                gossip.len() * GOSSIP_LEN + exts.iter().map(ext_record_len).sum::<usize>()
            }
            Body::Fail { .. } => NAME_LEN,
            Body::Publish { channel, message } => 8 + channel.len() + message.len(),
            Body::Update { .. } => 8 + NAME_LEN + SLOT_BITMAP_LEN,
            Body::Module { payload, .. } => 13 + payload.len(),
            Body::Empty => 0,
        };
        let total = HEADER_LEN + body_len;
        let mut buf = BytesMut::with_capacity(total);
        buf.put_slice(b"RCmb");
        buf.put_u32(total as u32);
        buf.put_u16(1);
        buf.put_u16(h.port);
        buf.put_u16(self.kind);
        buf.put_u16(count);
        buf.put_u64(h.current_epoch);
        buf.put_u64(h.config_epoch);
        buf.put_u64(h.offset);
        buf.put_slice(&h.sender.0);
        encode_slots(&h.myslots, &mut buf);
        buf.put_slice(&h.slaveof.unwrap_or(NodeName::ZERO).0);
        put_fixed_str(&mut buf, h.myip.as_bytes(), IP_LEN);
        buf.put_u16(n_ext);
        buf.put_bytes(0, 30);
        buf.put_u16(h.pport);
        buf.put_u16(h.cport);
        buf.put_u16(h.flags);
        buf.put_u8(h.state);
        let mut mflags = h.mflags;
        // EXT_DATA and the extension count must agree, or a 7.0 receiver misparses.
        if n_ext > 0 {
            mflags[0] |= MFLAG_EXT_DATA;
        } else {
            mflags[0] &= !MFLAG_EXT_DATA;
        }
        buf.put_slice(&mflags);
        debug_assert_eq!(buf.len(), HEADER_LEN);
        match &self.body {
            Body::Ping { gossip, exts } => {
                for g in gossip {
                    buf.put_slice(&g.name.0);
                    buf.put_u32(g.ping_sent);
                    buf.put_u32(g.pong_received);
                    put_fixed_str(&mut buf, g.ip.as_bytes(), IP_LEN);
                    buf.put_u16(g.port);
                    buf.put_u16(g.cport);
                    buf.put_u16(g.flags);
                    buf.put_u16(g.pport);
                    buf.put_u16(0);
                }
                for e in exts {
                    let len = ext_record_len(e);
                    buf.put_u32(len as u32);
                    let (kind, data): (u16, &[u8]) = match e {
                        PingExt::Hostname(hn) => (EXT_HOSTNAME, hn.as_bytes()),
                        PingExt::Other { kind, data } => (*kind, data),
                    };
                    buf.put_u16(kind);
                    buf.put_u16(0);
                    buf.put_slice(data);
                    buf.put_bytes(0, len - 8 - data.len());
                }
            }
            Body::Fail { name } => buf.put_slice(&name.0),
            Body::Publish { channel, message } => {
                buf.put_u32(channel.len() as u32);
                buf.put_u32(message.len() as u32);
                buf.put_slice(channel);
                buf.put_slice(message);
            }
            Body::Update {
                config_epoch,
                name,
                slots,
            } => {
                buf.put_u64(*config_epoch);
                buf.put_slice(&name.0);
                encode_slots(slots, &mut buf);
            }
            Body::Module {
                module_id,
                kind,
                payload,
            } => {
                buf.put_slice(module_id);
                buf.put_u32(payload.len() as u32);
                buf.put_u8(*kind);
                buf.put_slice(payload);
            }
            Body::Empty => {}
        }
        debug_assert_eq!(buf.len(), total);
        buf.freeze()
    }

    /// Decodes one complete message, validating every length the way a 7.0 node does.
    pub fn decode(b: &[u8]) -> Result<Message, DecodeError> {
        if b.len() < HEADER_LEN {
            return Err(DecodeError::TotalLength(b.len()));
        }
        if &b[0..4] != b"RCmb" {
            return Err(DecodeError::Signature);
        }
        let u16_at = |o: usize| u16::from_be_bytes([b[o], b[o + 1]]);
        let u32_at = |o: usize| u32::from_be_bytes(b[o..o + 4].try_into().unwrap());
        let u64_at = |o: usize| u64::from_be_bytes(b[o..o + 8].try_into().unwrap());
        let totlen = u32_at(4) as usize;
        if totlen != b.len() {
            return Err(DecodeError::LengthMismatch {
                declared: totlen,
                actual: b.len(),
            });
        }
        let ver = u16_at(8);
        if ver != 1 {
            return Err(DecodeError::Version(ver));
        }
        let kind = u16_at(12);
        let count = u16_at(14) as usize;
        let n_ext = u16_at(2214) as usize;
        let slaveof = NodeName::from_bytes(&b[2128..2168]).unwrap();
        let header = Header {
            port: u16_at(10),
            current_epoch: u64_at(16),
            config_epoch: u64_at(24),
            offset: u64_at(32),
            sender: NodeName::from_bytes(&b[40..80]).unwrap(),
            myslots: decode_slots(&b[80..2128]),
            slaveof: (!slaveof.is_zero()).then_some(slaveof),
            myip: fixed_str(&b[2168..2214]),
            pport: u16_at(2246),
            cport: u16_at(2248),
            flags: u16_at(2250),
            state: b[2252],
            mflags: [b[2253], b[2254], b[2255]],
        };
        let data = &b[HEADER_LEN..];
        let expect = |expected: usize| {
            if totlen == expected {
                Ok(())
            } else {
                Err(DecodeError::BodyLength {
                    kind,
                    expected,
                    actual: totlen,
                })
            }
        };
        let body = match kind {
            TYPE_PING | TYPE_PONG | TYPE_MEET => {
                let gossip_end = count * GOSSIP_LEN;
                if data.len() < gossip_end {
                    return Err(DecodeError::BodyLength {
                        kind,
                        expected: HEADER_LEN + gossip_end,
                        actual: totlen,
                    });
                }
                let gossip = data[..gossip_end]
                    .chunks_exact(GOSSIP_LEN)
                    .map(|g| {
                        let u16g = |o: usize| u16::from_be_bytes([g[o], g[o + 1]]);
                        let u32g = |o: usize| u32::from_be_bytes(g[o..o + 4].try_into().unwrap());
                        Gossip {
                            name: NodeName::from_bytes(&g[0..40]).unwrap(),
                            ping_sent: u32g(40),
                            pong_received: u32g(44),
                            ip: fixed_str(&g[48..94]),
                            port: u16g(94),
                            cport: u16g(96),
                            flags: u16g(98),
                            pport: u16g(100),
                        }
                    })
                    .collect();
                let mut rest = &data[gossip_end..];
                let mut exts = Vec::new();
                if header.mflags[0] & MFLAG_EXT_DATA != 0 {
                    for _ in 0..n_ext {
                        if rest.len() < 8 {
                            return Err(DecodeError::Extension);
                        }
                        let len = u32::from_be_bytes(rest[0..4].try_into().unwrap()) as usize;
                        if len < 8 || !len.is_multiple_of(8) || len > rest.len() {
                            return Err(DecodeError::Extension);
                        }
                        let ext_kind = u16::from_be_bytes([rest[4], rest[5]]);
                        let payload = &rest[8..len];
                        exts.push(match ext_kind {
                            EXT_HOSTNAME => PingExt::Hostname(fixed_str(payload)),
                            other => PingExt::Other {
                                kind: other,
                                data: Bytes::copy_from_slice(payload),
                            },
                        });
                        rest = &rest[len..];
                    }
                }
                if !rest.is_empty() {
                    return Err(DecodeError::BodyLength {
                        kind,
                        expected: totlen - rest.len(),
                        actual: totlen,
                    });
                }
                Body::Ping { gossip, exts }
            }
            TYPE_FAIL => {
                expect(HEADER_LEN + NAME_LEN)?;
                Body::Fail {
                    name: NodeName::from_bytes(&data[..40]).unwrap(),
                }
            }
            TYPE_PUBLISH | TYPE_PUBLISHSHARD => {
                if data.len() < 8 {
                    return Err(DecodeError::BodyLength {
                        kind,
                        expected: HEADER_LEN + 8,
                        actual: totlen,
                    });
                }
                let ch = u32::from_be_bytes(data[0..4].try_into().unwrap()) as usize;
                let msg = u32::from_be_bytes(data[4..8].try_into().unwrap()) as usize;
                expect((HEADER_LEN + 8).saturating_add(ch).saturating_add(msg))?;
                Body::Publish {
                    channel: Bytes::copy_from_slice(&data[8..8 + ch]),
                    message: Bytes::copy_from_slice(&data[8 + ch..8 + ch + msg]),
                }
            }
            TYPE_UPDATE => {
                expect(HEADER_LEN + 8 + NAME_LEN + SLOT_BITMAP_LEN)?;
                Body::Update {
                    config_epoch: u64::from_be_bytes(data[0..8].try_into().unwrap()),
                    name: NodeName::from_bytes(&data[8..48]).unwrap(),
                    slots: decode_slots(&data[48..48 + SLOT_BITMAP_LEN]),
                }
            }
            TYPE_MODULE => {
                if data.len() < 13 {
                    return Err(DecodeError::BodyLength {
                        kind,
                        expected: HEADER_LEN + 13,
                        actual: totlen,
                    });
                }
                let len = u32::from_be_bytes(data[8..12].try_into().unwrap()) as usize;
                expect((HEADER_LEN + 13).saturating_add(len))?;
                Body::Module {
                    module_id: data[0..8].try_into().unwrap(),
                    kind: data[12],
                    payload: Bytes::copy_from_slice(&data[13..13 + len]),
                }
            }
            TYPE_FAILOVER_AUTH_REQUEST | TYPE_FAILOVER_AUTH_ACK | TYPE_MFSTART => {
                expect(HEADER_LEN)?;
                Body::Empty
            }
            // Unknown types are well-formed by definition; the receiver ignores them.
            _ => Body::Empty,
        };
        Ok(Message { kind, header, body })
    }

    /// The hostname extension, if the sender announced one.
    pub fn hostname(&self) -> Option<&str> {
        match &self.body {
            Body::Ping { exts, .. } => exts.iter().find_map(|e| match e {
                PingExt::Hostname(h) if !h.is_empty() => Some(h.as_str()),
                _ => None,
            }),
            _ => None,
        }
    }
}

pub fn type_name(kind: u16) -> &'static str {
    match kind {
        TYPE_PING => "ping",
        TYPE_PONG => "pong",
        TYPE_MEET => "meet",
        TYPE_FAIL => "fail",
        TYPE_PUBLISH => "publish",
        TYPE_FAILOVER_AUTH_REQUEST => "auth-req",
        TYPE_FAILOVER_AUTH_ACK => "auth-ack",
        TYPE_UPDATE => "update",
        TYPE_MFSTART => "mfstart",
        TYPE_MODULE => "module",
        TYPE_PUBLISHSHARD => "publishshard",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn name(s: &str) -> NodeName {
        NodeName::from_bytes(s.as_bytes()).unwrap()
    }

    /// The MEET a real 7.0.15 node sent (spec §4.13), rebuilt byte by byte from the capture.
    fn captured_meet() -> Vec<u8> {
        let mut b = vec![0u8; 2280];
        b[0..4].copy_from_slice(b"RCmb");
        b[4..8].copy_from_slice(&[0, 0, 0x08, 0xe8]);
        b[8..10].copy_from_slice(&[0, 1]);
        b[10..12].copy_from_slice(&[0x79, 0x84]);
        b[12..14].copy_from_slice(&[0, 2]);
        b[16..24].copy_from_slice(&14u64.to_be_bytes());
        b[24..32].copy_from_slice(&13u64.to_be_bytes());
        b[32..40].copy_from_slice(&3944u64.to_be_bytes());
        b[40..80].copy_from_slice(b"168ccc2887dfe289a8d0aff4ea86ac3382b36af3");
        b[2214..2216].copy_from_slice(&[0, 1]);
        b[2248..2250].copy_from_slice(&[0x79, 0xb6]);
        b[2250..2252].copy_from_slice(&[0, 0x11]);
        b[2252] = 1;
        b[2253] = 4;
        b[2256..2264].copy_from_slice(&[0, 0, 0, 0x18, 0, 0, 0, 0]);
        b[2264..2278].copy_from_slice(b"node08.example");
        b
    }

    #[test]
    fn decodes_the_verified_wire_sample_and_reencodes_it_identically() {
        let wire = captured_meet();
        let m = Message::decode(&wire).unwrap();
        assert_eq!(m.kind, TYPE_MEET);
        assert_eq!(m.header.port, 31108);
        assert_eq!(m.header.cport, 31158);
        assert_eq!(m.header.current_epoch, 14);
        assert_eq!(m.header.config_epoch, 13);
        assert_eq!(m.header.offset, 3944);
        assert_eq!(
            m.header.sender,
            name("168ccc2887dfe289a8d0aff4ea86ac3382b36af3")
        );
        assert!(m.header.myslots.is_empty());
        assert_eq!(m.header.slaveof, None);
        assert_eq!(m.header.myip, "");
        assert_eq!(m.header.flags, flags::MYSELF | flags::MASTER);
        assert_eq!(m.header.state, 1);
        assert_eq!(m.hostname(), Some("node08.example"));
        assert_eq!(m.encode().as_ref(), &wire[..]);
    }

    #[test]
    fn exact_lengths_per_type() {
        let h = Header::new(name(&"a".repeat(40)));
        let len = |kind, body| Message::new(kind, h.clone(), body).encode().len();
        assert_eq!(len(TYPE_FAIL, Body::Fail { name: h.sender }), 2296);
        assert_eq!(
            len(
                TYPE_UPDATE,
                Body::Update {
                    config_epoch: 1,
                    name: h.sender,
                    slots: SlotSet::full()
                }
            ),
            4352
        );
        assert_eq!(len(TYPE_MFSTART, Body::Empty), 2256);
        assert_eq!(
            len(
                TYPE_PUBLISH,
                Body::Publish {
                    channel: Bytes::from_static(b"ch"),
                    message: Bytes::from_static(b"hello")
                }
            ),
            2264 + 7
        );
        let g = Gossip {
            name: h.sender,
            ping_sent: 0,
            pong_received: 1795305180,
            ip: "127.0.0.1".into(),
            port: 31103,
            cport: 31153,
            flags: 257,
            pport: 0,
        };
        assert_eq!(
            len(
                TYPE_PING,
                Body::Ping {
                    gossip: vec![g.clone(), g.clone(), g],
                    exts: vec![]
                }
            ),
            2568
        );
    }

    #[test]
    fn round_trips_every_body() {
        let mut h = Header::new(name(&"b".repeat(40)));
        h.myslots = [3u16, 4, 5, 16383]
            .iter()
            .map(|&s| Slot::new(s).unwrap())
            .collect();
        h.slaveof = Some(name(&"c".repeat(40)));
        h.myip = "10.0.0.1".into();
        h.mflags = [MFLAG_PAUSED, 0, 0];
        let bodies = vec![
            (
                TYPE_PONG,
                Body::Ping {
                    gossip: vec![Gossip {
                        name: name(&"d".repeat(40)),
                        ping_sent: 1,
                        pong_received: 2,
                        ip: "::1".into(),
                        port: 7000,
                        cport: 17000,
                        flags: 2,
                        pport: 0,
                    }],
                    exts: vec![
                        PingExt::Hostname("x.example".into()),
                        PingExt::Other {
                            kind: 3,
                            data: Bytes::from(vec![b'z'; 40]),
                        },
                    ],
                },
            ),
            (
                TYPE_UPDATE,
                Body::Update {
                    config_epoch: 9,
                    name: h.sender,
                    slots: h.myslots.clone(),
                },
            ),
            (
                TYPE_MODULE,
                Body::Module {
                    module_id: *b"modid123",
                    kind: 7,
                    payload: Bytes::from_static(b"abc"),
                },
            ),
            (TYPE_FAILOVER_AUTH_ACK, Body::Empty),
        ];
        for (kind, body) in bodies {
            let m = Message::new(kind, h.clone(), body);
            let mut expected = m.clone();
            if matches!(&m.body, Body::Ping { exts, .. } if !exts.is_empty()) {
                expected.header.mflags[0] |= MFLAG_EXT_DATA;
            }
            assert_eq!(Message::decode(&m.encode()).unwrap(), expected);
        }
    }

    #[test]
    fn rejects_bad_lengths_versions_and_extensions() {
        let mut wire = captured_meet();
        wire[9] = 2;
        assert_eq!(Message::decode(&wire), Err(DecodeError::Version(2)));
        let h = Header::new(name(&"a".repeat(40)));
        let mut fail = Message::new(TYPE_FAIL, h.clone(), Body::Fail { name: h.sender })
            .encode()
            .to_vec();
        fail.push(0);
        let n = fail.len() as u32;
        fail[4..8].copy_from_slice(&n.to_be_bytes());
        assert!(matches!(
            Message::decode(&fail),
            Err(DecodeError::BodyLength { .. })
        ));
        let mut bad_ext = captured_meet();
        bad_ext[2259] = 0x17; // extension length 23: not a multiple of 8
        assert_eq!(Message::decode(&bad_ext), Err(DecodeError::Extension));
        assert_eq!(
            frame_length(b"RCmb\0\0\0\x10"),
            Err(DecodeError::TotalLength(16))
        );
        assert_eq!(
            frame_length(b"XXXX\0\0\x08\xe8"),
            Err(DecodeError::Signature)
        );
    }

    proptest! {
        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..5000)) {
            let _ = Message::decode(&bytes);
        }

        #[test]
        fn corrupted_real_frames_never_panic(pos in 0usize..2280, val in any::<u8>(), cut in 0usize..2280) {
            let mut wire = captured_meet();
            wire[pos] = val;
            let _ = Message::decode(&wire);
            let _ = Message::decode(&wire[..cut]);
        }

        #[test]
        fn garbage_with_valid_prefix_is_rejected(body in proptest::collection::vec(any::<u8>(), 0..3000), kind in 0u16..12) {
            let mut b = vec![0u8; HEADER_LEN];
            b[0..4].copy_from_slice(b"RCmb");
            b[9] = 1;
            b[12..14].copy_from_slice(&kind.to_be_bytes());
            b.extend_from_slice(&body);
            let total = b.len() as u32;
            b[4..8].copy_from_slice(&total.to_be_bytes());
            if let Ok(m) = Message::decode(&b) {
                // whatever decodes must re-encode to the same length it claimed
                if kind > TYPE_MEET && (kind <= TYPE_MODULE || kind == TYPE_PUBLISHSHARD) {
                    prop_assert_eq!(m.encode().len(), b.len());
                }
            }
        }
    }
}
