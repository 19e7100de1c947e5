//! What every op gets: the Reporter and the resolved global options (credentials, timeouts, TLS).
//! Resolving reads the password sources in redis-cli's order and warns about `-a`.

use std::path::PathBuf;

use anyhow::Result;

use crate::cli::GlobalArgs;
use crate::output::Reporter;
use crate::remote::conn::{ConnectOptions, Credentials};
use crate::tls::{ClientTlsSettings, TlsClient};

pub struct Context {
    pub out: Reporter,
    pub connect: ConnectOptions,
}

impl Context {
    pub fn resolve(global: &GlobalArgs, out: Reporter) -> Result<Context> {
        let tls = tls_client(global)?;
        let mut pass = global.pass.clone();
        if global.askpass {
            pass = Some(
                dialoguer::Password::new()
                    .with_prompt("Please input password")
                    .allow_empty_password(true)
                    .interact()?,
            );
        } else if pass.is_some()
            && !global.no_auth_warning
            && std::env::var_os("REDISCLI_AUTH").is_none()
        {
            out.notice(
                "Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe.",
            );
        }
        let connect = ConnectOptions {
            credentials: Credentials {
                user: global.user.clone(),
                pass,
            },
            tls,
            ..ConnectOptions::default()
        };
        Ok(Context { out, connect })
    }
}

/// The TLS client every node connection uses, or `None` for plain TCP. Any TLS option turns TLS
/// on (never talk plaintext to a node the user meant to reach over TLS). Files are read once
/// here, so a bad one fails before any node is contacted.
fn tls_client(global: &GlobalArgs) -> Result<Option<TlsClient>> {
    let wanted = global.tls
        || global.cacert.is_some()
        || global.cacertdir.is_some()
        || global.cert.is_some()
        || global.key.is_some()
        || global.sni.is_some()
        || global.insecure;
    if !wanted {
        return Ok(None);
    }
    let settings = ClientTlsSettings {
        cacert: global.cacert.as_ref().map(PathBuf::from),
        cacertdir: global.cacertdir.as_ref().map(PathBuf::from),
        cert: global.cert.as_ref().map(PathBuf::from),
        key: global.key.as_ref().map(PathBuf::from),
        sni: global.sni.clone(),
        insecure: global.insecure,
    };
    TlsClient::from_settings(&settings)
        .map(Some)
        .map_err(|e| crate::exit::Fail::failure(e.to_string()))
}
