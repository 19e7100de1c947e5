//! ACL users: enabled flag, passwords (kept as SHA-256 digests, never as text), command and key
//! permissions at the granularity trib-node supports (all commands or an allow list; all keys
//! or none). The `default` user's password is `requirepass`. No command parsing here beyond
//! ACL SETUSER rule words.

use std::collections::{BTreeMap, BTreeSet};

use super::sha256::sha256_hex;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub enabled: bool,
    pub nopass: bool,
    pub passwords: BTreeSet<String>,
    pub all_commands: bool,
    pub allowed: BTreeSet<String>,
    pub denied: BTreeSet<String>,
    pub all_keys: bool,
    pub key_patterns: Vec<String>,
    pub all_channels: bool,
}

impl User {
    fn new_disabled() -> User {
        User {
            enabled: false,
            nopass: false,
            passwords: BTreeSet::new(),
            all_commands: false,
            allowed: BTreeSet::new(),
            denied: BTreeSet::new(),
            all_keys: false,
            key_patterns: Vec::new(),
            all_channels: false,
        }
    }

    fn default_user(requirepass: Option<&str>) -> User {
        let mut u = User::new_disabled();
        u.enabled = true;
        u.all_commands = true;
        u.all_keys = true;
        u.all_channels = true;
        match requirepass {
            Some(p) => {
                u.passwords.insert(sha256_hex(p.as_bytes()));
            }
            None => u.nopass = true,
        }
        u
    }

    pub fn check_password(&self, pass: &[u8]) -> bool {
        self.enabled && (self.nopass || self.passwords.contains(&sha256_hex(pass)))
    }

    pub fn may_run(&self, command: &str) -> bool {
        if self.denied.contains(command) {
            return false;
        }
        self.all_commands || self.allowed.contains(command)
    }

    /// Applies one ACL SETUSER rule. Err is the reason text Redis prints.
    pub fn apply(&mut self, rule: &str) -> Result<(), String> {
        let lower = rule.to_ascii_lowercase();
        match lower.as_str() {
            "on" => self.enabled = true,
            "off" => self.enabled = false,
            "nopass" => {
                self.nopass = true;
                self.passwords.clear();
            }
            "resetpass" => {
                self.nopass = false;
                self.passwords.clear();
            }
            "allkeys" | "~*" => {
                self.all_keys = true;
                self.key_patterns = vec!["*".into()];
            }
            "resetkeys" => {
                self.all_keys = false;
                self.key_patterns.clear();
            }
            "allchannels" | "&*" => self.all_channels = true,
            "resetchannels" => self.all_channels = false,
            "allcommands" | "+@all" => {
                self.all_commands = true;
                self.denied.clear();
            }
            "nocommands" | "-@all" => {
                self.all_commands = false;
                self.allowed.clear();
            }
            "reset" => *self = User::new_disabled(),
            _ => {
                if let Some(p) = rule.strip_prefix('>') {
                    self.passwords.insert(sha256_hex(p.as_bytes()));
                    self.nopass = false;
                } else if let Some(p) = rule.strip_prefix('<') {
                    if !self.passwords.remove(&sha256_hex(p.as_bytes())) {
                        return Err("no such password".into());
                    }
                } else if let Some(h) = rule.strip_prefix('#') {
                    if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                        return Err("The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters".into());
                    }
                    self.passwords.insert(h.to_ascii_lowercase());
                    self.nopass = false;
                } else if let Some(p) = rule.strip_prefix('~') {
                    self.key_patterns.push(p.to_string());
                } else if rule.starts_with('&') {
                    // channel patterns are accepted and ignored (no pub/sub)
                } else if let Some(c) = lower.strip_prefix('+') {
                    if !c.starts_with('@') {
                        self.denied.remove(c);
                        self.allowed.insert(c.to_string());
                    }
                } else if let Some(c) = lower.strip_prefix('-') {
                    if !c.starts_with('@') {
                        self.allowed.remove(c);
                        self.denied.insert(c.to_string());
                    }
                } else {
                    return Err("Syntax error".into());
                }
            }
        }
        Ok(())
    }

    /// The rule string ACL LIST shows after `user <name> `.
    pub fn describe(&self) -> String {
        let mut parts = vec![if self.enabled {
            "on".to_string()
        } else {
            "off".to_string()
        }];
        if self.nopass {
            parts.push("nopass".into());
        }
        for p in &self.passwords {
            parts.push(format!("#{p}"));
        }
        if self.all_keys {
            parts.push("~*".into());
        } else {
            for k in &self.key_patterns {
                parts.push(format!("~{k}"));
            }
        }
        parts.push(if self.all_channels {
            "&*".into()
        } else {
            "resetchannels".into()
        });
        if self.all_commands {
            parts.push("+@all".into());
            for d in &self.denied {
                parts.push(format!("-{d}"));
            }
        } else {
            parts.push("-@all".into());
            for a in &self.allowed {
                parts.push(format!("+{a}"));
            }
        }
        parts.join(" ")
    }
}

#[derive(Debug, Clone)]
pub struct Acl {
    pub users: BTreeMap<String, User>,
}

impl Acl {
    pub fn new(requirepass: Option<&str>) -> Acl {
        let mut users = BTreeMap::new();
        users.insert("default".to_string(), User::default_user(requirepass));
        Acl { users }
    }

    /// requirepass changed (CONFIG SET): the default user's passwords follow it.
    pub fn set_requirepass(&mut self, pass: Option<&str>) {
        if let Some(u) = self.users.get_mut("default") {
            u.passwords.clear();
            match pass {
                Some(p) => {
                    u.nopass = false;
                    u.passwords.insert(sha256_hex(p.as_bytes()));
                }
                None => u.nopass = true,
            }
        }
    }

    /// Whether a new connection starts authenticated (default user usable without password).
    pub fn default_needs_auth(&self) -> bool {
        self.users
            .get("default")
            .map(|u| !(u.enabled && u.nopass))
            .unwrap_or(true)
    }

    pub fn authenticate(&self, user: &str, pass: &[u8]) -> bool {
        self.users
            .get(user)
            .map(|u| u.check_password(pass))
            .unwrap_or(false)
    }

    /// ACL SETUSER: creates the user (disabled, no permissions) if needed and applies rules
    /// atomically.
    pub fn setuser(&mut self, name: &str, rules: &[String]) -> Result<(), String> {
        let mut user = self
            .users
            .get(name)
            .cloned()
            .unwrap_or_else(User::new_disabled);
        for r in rules {
            user.apply(r)
                .map_err(|e| format!("ERR Error in ACL SETUSER modifier '{r}': {e}"))?;
        }
        self.users.insert(name.to_string(), user);
        Ok(())
    }
}
