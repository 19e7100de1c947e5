//! Node addresses as operators type them and as CLUSTER NODES prints them:
//! `host:port`, `[v6]:port`, bare `v6:port` (cut at the last colon, as redis-cli does),
//! an optional `@busport`, and CLUSTER NODES' `,hostname` suffix. Parsing only; no DNS here.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct NodeAddr {
    /// Host name or IP literal, without brackets.
    pub host: String,
    pub port: u16,
    /// Cluster bus port, when known (`@cport` in CLUSTER NODES).
    pub bus_port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddrError {
    #[error("invalid address '{0}': expected host:port (e.g. 127.0.0.1:7000 or [::1]:7000)")]
    Format(String),
    #[error("invalid address '{0}': port must be a number from 1 to 65535")]
    Port(String),
}

impl NodeAddr {
    pub fn new(host: impl Into<String>, port: u16) -> NodeAddr {
        NodeAddr {
            host: host.into(),
            port,
            bus_port: None,
        }
    }

    /// Parses `host:port[@busport]`, `[v6]:port[@busport]` or `v6:port`.
    pub fn parse(text: &str) -> Result<NodeAddr, AddrError> {
        let format = || AddrError::Format(text.to_string());
        let (main, bus) = match text.rfind('@') {
            Some(at) => (&text[..at], Some(&text[at + 1..])),
            None => (text, None),
        };
        let (host, port) = if let Some(rest) = main.strip_prefix('[') {
            let close = rest.find(']').ok_or_else(format)?;
            let port = rest[close + 1..].strip_prefix(':').ok_or_else(format)?;
            (&rest[..close], port)
        } else {
            let colon = main.rfind(':').ok_or_else(format)?;
            (&main[..colon], &main[colon + 1..])
        };
        if host.is_empty() {
            return Err(format());
        }
        let port = parse_port(port).ok_or_else(|| AddrError::Port(text.to_string()))?;
        let bus_port = match bus {
            Some(b) => Some(parse_port(b).ok_or_else(|| AddrError::Port(text.to_string()))?),
            None => None,
        };
        Ok(NodeAddr {
            host: host.to_string(),
            port,
            bus_port,
        })
    }

    /// Parses redis-cli's two-token form `host port` as well as the one-token form.
    pub fn parse_host_and_port(args: &[String]) -> Result<NodeAddr, AddrError> {
        match args {
            [one] => NodeAddr::parse(one),
            [host, port, ..] => {
                let p =
                    parse_port(port).ok_or_else(|| AddrError::Port(format!("{host} {port}")))?;
                Ok(NodeAddr::new(
                    host.trim_matches(|c| c == '[' || c == ']'),
                    p,
                ))
            }
            [] => Err(AddrError::Format(String::new())),
        }
    }

    pub fn is_ipv6(&self) -> bool {
        self.host.contains(':')
    }

    /// `host:port` for a socket connect (brackets around IPv6 literals).
    pub fn socket_string(&self) -> String {
        if self.is_ipv6() {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

fn parse_port(s: &str) -> Option<u16> {
    match s.parse::<u16>() {
        Ok(0) | Err(_) => None,
        Ok(p) => Some(p),
    }
}

impl fmt::Display for NodeAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.socket_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        assert_eq!(
            NodeAddr::parse("127.0.0.1:7000").unwrap(),
            NodeAddr::new("127.0.0.1", 7000)
        );
        assert_eq!(
            NodeAddr::parse("[::1]:7000").unwrap(),
            NodeAddr::new("::1", 7000)
        );
        assert_eq!(
            NodeAddr::parse("::1:7000").unwrap(),
            NodeAddr::new("::1", 7000)
        );
        assert_eq!(NodeAddr::parse("localhost:7000").unwrap().host, "localhost");
        let with_bus = NodeAddr::parse("10.0.0.1:7000@17000").unwrap();
        assert_eq!(with_bus.bus_port, Some(17000));
        assert_eq!(NodeAddr::new("::1", 7000).to_string(), "[::1]:7000");
    }

    #[test]
    fn rejects_bad_input_with_the_reason() {
        assert!(matches!(
            NodeAddr::parse("127.0.0.1"),
            Err(AddrError::Format(_))
        ));
        assert!(matches!(
            NodeAddr::parse(":7000"),
            Err(AddrError::Format(_))
        ));
        assert!(matches!(NodeAddr::parse("h:0"), Err(AddrError::Port(_))));
        assert!(matches!(NodeAddr::parse("h:abc"), Err(AddrError::Port(_))));
        assert!(matches!(
            NodeAddr::parse("h:70000"),
            Err(AddrError::Port(_))
        ));
        let two = NodeAddr::parse_host_and_port(&["127.0.0.1".into(), "7001".into()]).unwrap();
        assert_eq!(two.port, 7001);
    }
}
