//! Redis's glob matcher (`stringmatchlen`): `*`, `?`, `[...]` with ranges and `^`, `\` escapes,
//! optional case folding. Used by KEYS, SCAN MATCH and CONFIG GET. Pure function.

pub fn glob_match(pattern: &[u8], s: &[u8], nocase: bool) -> bool {
    matches(pattern, s, nocase, 0)
}

fn eq(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

fn matches(mut p: &[u8], mut s: &[u8], nocase: bool, depth: usize) -> bool {
    // Redis caps recursion to avoid stack exhaustion on hostile patterns.
    if depth > 1000 {
        return false;
    }
    while !p.is_empty() && !s.is_empty() {
        match p[0] {
            b'*' => {
                while p.len() > 1 && p[1] == b'*' {
                    p = &p[1..];
                }
                if p.len() == 1 {
                    return true;
                }
                for i in 0..s.len() {
                    if matches(&p[1..], &s[i..], nocase, depth + 1) {
                        return true;
                    }
                }
                return false;
            }
            b'?' => {
                s = &s[1..];
                p = &p[1..];
                continue;
            }
            b'[' => {
                let mut i = 1;
                let not = p.get(1) == Some(&b'^');
                if not {
                    i += 1;
                }
                let mut hit = false;
                loop {
                    if i >= p.len() {
                        // unterminated class: Redis stops at the end of the pattern
                        i = p.len() - 1;
                        break;
                    }
                    if p[i] == b'\\' && i + 1 < p.len() {
                        i += 1;
                        if eq(p[i], s[0], nocase) {
                            hit = true;
                        }
                    } else if p[i] == b']' {
                        break;
                    } else if i + 2 < p.len() && p[i + 1] == b'-' {
                        let (mut lo, mut hi) = (p[i], p[i + 2]);
                        if lo > hi {
                            std::mem::swap(&mut lo, &mut hi);
                        }
                        let mut c = s[0];
                        if nocase {
                            lo = lo.to_ascii_lowercase();
                            hi = hi.to_ascii_lowercase();
                            c = c.to_ascii_lowercase();
                        }
                        if c >= lo && c <= hi {
                            hit = true;
                        }
                        i += 2;
                    } else if eq(p[i], s[0], nocase) {
                        hit = true;
                    }
                    i += 1;
                }
                if not {
                    hit = !hit;
                }
                if !hit {
                    return false;
                }
                s = &s[1..];
                p = &p[(i + 1).min(p.len())..];
                continue;
            }
            b'\\' if p.len() >= 2 => {
                if !eq(p[1], s[0], nocase) {
                    return false;
                }
                p = &p[2..];
                s = &s[1..];
                continue;
            }
            c => {
                if !eq(c, s[0], nocase) {
                    return false;
                }
                p = &p[1..];
                s = &s[1..];
            }
        }
    }
    if s.is_empty() {
        while !p.is_empty() && p[0] == b'*' {
            p = &p[1..];
        }
    }
    p.is_empty() && s.is_empty()
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs() {
        assert!(glob_match(b"*", b"", false));
        assert!(glob_match(b"h?llo", b"hello", false));
        assert!(glob_match(b"h*llo", b"heeeello", false));
        assert!(glob_match(b"h[ae]llo", b"hallo", false));
        assert!(!glob_match(b"h[^e]llo", b"hello", false));
        assert!(glob_match(b"h[a-b]llo", b"hbllo", false));
        assert!(glob_match(b"a\\*b", b"a*b", false));
        assert!(!glob_match(b"a\\*b", b"axb", false));
        assert!(glob_match(b"cluster-*", b"CLUSTER-ENABLED", true));
        assert!(!glob_match(b"foo", b"foobar", false));
    }
}
