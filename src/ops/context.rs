//! What every op gets: the Reporter and the resolved global options (credentials, timeouts).
//! Resolving reads the password sources in redis-cli's order and warns about `-a`.

use anyhow::Result;

use crate::cli::GlobalArgs;
use crate::cluster::conn::{ConnectOptions, Credentials};
use crate::output::Reporter;

pub struct Context {
    pub out: Reporter,
    pub connect: ConnectOptions,
}

impl Context {
    pub fn resolve(global: &GlobalArgs, out: Reporter) -> Result<Context> {
        // Never talk plaintext to a node the user meant to reach over TLS.
        if global.tls
            || global.cacert.is_some()
            || global.cacertdir.is_some()
            || global.cert.is_some()
            || global.key.is_some()
            || global.sni.is_some()
            || global.insecure
        {
            return Err(crate::exit::Fail::usage(
                "TLS is not supported by this build of trib yet (--tls, --cacert, --cacertdir, --cert, --key, --sni, --insecure)",
            ));
        }
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
            ..ConnectOptions::default()
        };
        Ok(Context { out, connect })
    }
}
