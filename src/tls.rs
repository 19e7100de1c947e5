//! TLS settings turned into rustls configurations: PEM files read with errors that name the file,
//! the `ring` crypto provider (it builds with a C compiler alone), server-certificate verifiers
//! (full, chain-only, none). Shared by trib's node connections and trib-node's TLS listener, so it
//! imports neither side. Opens no sockets; callers hand it a connected stream.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, Result};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio::io::{AsyncRead, AsyncWrite};

/// The one crypto provider trib uses, named explicitly so no process-wide default is needed.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// What the user asked for on the command line (`--cacert --cacertdir --cert --key --sni --insecure`).
#[derive(Debug, Clone, Default)]
pub struct ClientTlsSettings {
    pub cacert: Option<PathBuf>,
    pub cacertdir: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// Name to send as SNI and to verify the server certificate against, instead of the address.
    pub sni: Option<String>,
    /// Accept any server certificate (encryption without authentication).
    pub insecure: bool,
}

/// How a server certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// Chain to a trusted CA and the name (address, or `--sni`) in the certificate.
    Full,
    /// Chain only, as redis-server does towards its peers (nodes are reached by announced IP,
    /// which node certificates rarely carry).
    ChainOnly,
    /// Nothing (`--insecure`).
    None,
}

/// A ready TLS client: one rustls config shared by every connection.
#[derive(Clone)]
pub struct TlsClient {
    connector: tokio_rustls::TlsConnector,
    sni: Option<ServerName<'static>>,
}

impl std::fmt::Debug for TlsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsClient")
            .field("sni", &self.sni)
            .finish_non_exhaustive()
    }
}

impl TlsClient {
    /// Reads every file named in `settings` and builds the client config. Errors name the file.
    pub fn from_settings(settings: &ClientTlsSettings) -> Result<TlsClient> {
        let verify = if settings.insecure {
            Verify::None
        } else {
            Verify::Full
        };
        let roots = if settings.insecure {
            RootCertStore::empty()
        } else {
            load_roots(settings.cacert.as_deref(), settings.cacertdir.as_deref())?
        };
        let identity = match (&settings.cert, &settings.key) {
            (Some(cert), Some(key)) => Some((cert.as_path(), key.as_path())),
            (None, None) => None,
            (Some(_), None) => return Err(anyhow!("--cert needs --key (the client private key)")),
            (None, Some(_)) => return Err(anyhow!("--key needs --cert (the client certificate)")),
        };
        let sni = match &settings.sni {
            Some(name) => Some(
                ServerName::try_from(name.clone())
                    .map_err(|_| anyhow!("--sni {name}: not a valid server name"))?,
            ),
            None => None,
        };
        let config = client_config(roots, verify, identity)?;
        Ok(TlsClient {
            connector: tokio_rustls::TlsConnector::from(Arc::new(config)),
            sni,
        })
    }

    /// Builds a client from ready parts (trib-node's outgoing MIGRATE connections).
    pub fn from_config(config: ClientConfig) -> TlsClient {
        TlsClient {
            connector: tokio_rustls::TlsConnector::from(Arc::new(config)),
            sni: None,
        }
    }

    /// Runs the handshake over a connected stream. `host` is the address dialled; it is the name
    /// verified unless `--sni` gave another. Errors read as one line.
    pub async fn handshake<S>(
        &self,
        host: &str,
        stream: S,
    ) -> io::Result<tokio_rustls::client::TlsStream<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let name = match &self.sni {
            Some(name) => name.clone(),
            None => ServerName::try_from(host.to_string()).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{host} is not a valid TLS server name"),
                )
            })?,
        };
        self.connector
            .connect(name, stream)
            .await
            .map_err(|e| io::Error::new(e.kind(), handshake_failure(&e)))
    }
}

/// A handshake error as one line, with a hint when the peer does not seem to speak TLS at all.
fn handshake_failure(e: &io::Error) -> String {
    let text = e.to_string();
    let certificate_problem = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .is_some_and(|r| {
            matches!(
                r,
                rustls::Error::InvalidCertificate(_)
                    | rustls::Error::NoCertificatesPresented
                    | rustls::Error::AlertReceived(_)
            )
        });
    if certificate_problem {
        format!("TLS handshake failed: {text}")
    } else {
        format!("TLS handshake failed: {text} (is this a TLS port?)")
    }
}

/// A rustls client config with the given trust, verification and optional client identity.
pub fn client_config(
    roots: RootCertStore,
    verify: Verify,
    identity: Option<(&Path, &Path)>,
) -> Result<ClientConfig> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| anyhow!("TLS setup: {e}"))?;
    let builder = match verify {
        Verify::Full => builder.with_root_certificates(roots),
        Verify::ChainOnly => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(ChainOnly::new(roots, &provider)?)),
        Verify::None => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(provider))),
    };
    match identity {
        None => Ok(builder.with_no_client_auth()),
        Some((cert, key)) => {
            let chain = load_certs(cert, "client certificate")?;
            let key_der = load_key(key)?;
            builder.with_client_auth_cert(chain, key_der).map_err(|e| {
                anyhow!(
                    "client certificate {} with key {}: {e}",
                    cert.display(),
                    key.display()
                )
            })
        }
    }
}

/// Trusted CAs: `--cacert`, every certificate in `--cacertdir`, or the system store when neither
/// is given (as redis-cli falls back to OpenSSL's default paths).
pub fn load_roots(cacert: Option<&Path>, cacertdir: Option<&Path>) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    if let Some(file) = cacert {
        add_roots(&mut roots, load_certs(file, "CA certificate")?, file)?;
    }
    if let Some(dir) = cacertdir {
        add_roots(&mut roots, load_cert_dir(dir)?, dir)?;
    }
    if cacert.is_none() && cacertdir.is_none() {
        let found = rustls_native_certs::load_native_certs();
        // Unreadable system stores are not fatal: the handshake then fails naming the issuer.
        let _ = roots.add_parsable_certificates(found.certs);
    }
    Ok(roots)
}

fn add_roots(
    roots: &mut RootCertStore,
    certs: Vec<CertificateDer<'static>>,
    from: &Path,
) -> Result<()> {
    for cert in certs {
        roots
            .add(cert)
            .map_err(|e| anyhow!("CA certificate in {}: {e}", from.display()))?;
    }
    Ok(())
}

/// Every certificate of every PEM file in `dir` (files without a certificate, such as keys, are
/// skipped); an error when the directory holds none.
fn load_cert_dir(dir: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        anyhow!(
            "cannot read CA certificate directory {}: {}",
            dir.display(),
            io_text(&e)
        )
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    let mut all = Vec::new();
    for path in paths {
        let bytes = read_file(&path, "CA certificate")?;
        let certs = parse_certs(&bytes, &path, "CA certificate")?;
        all.extend(certs);
    }
    if all.is_empty() {
        return Err(anyhow!(
            "no PEM certificate found in CA certificate directory {}",
            dir.display()
        ));
    }
    Ok(all)
}

/// The certificates of one PEM file; an error naming the file when it has none.
pub fn load_certs(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>> {
    let bytes = read_file(path, what)?;
    let certs = parse_certs(&bytes, path, what)?;
    if certs.is_empty() {
        return Err(anyhow!(
            "no PEM certificate found in {what} file {}",
            path.display()
        ));
    }
    Ok(certs)
}

/// The private key of one PEM file (PKCS#8, PKCS#1 or SEC1).
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>> {
    let bytes = read_file(path, "private key")?;
    rustls_pemfile::private_key(&mut bytes.as_slice())
        .map_err(|e| anyhow!("bad PEM in private key file {}: {e}", path.display()))?
        .ok_or_else(|| {
            anyhow!(
                "no PEM private key found in private key file {}",
                path.display()
            )
        })
}

fn read_file(path: &Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        anyhow!(
            "cannot read {what} file {}: {}",
            path.display(),
            io_text(&e)
        )
    })
}

fn parse_certs(bytes: &[u8], path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>> {
    rustls_pemfile::certs(&mut &bytes[..])
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow!("bad PEM in {what} file {}: {e}", path.display()))
}

/// `No such file or directory`, without `(os error 2)`.
fn io_text(e: &io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// Verifies the chain to a trusted CA but not the name.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ChainOnly {
    fn new(roots: RootCertStore, provider: &Arc<CryptoProvider>) -> Result<ChainOnly> {
        let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| anyhow!("TLS setup: {e}"))?;
        Ok(ChainOnly(inner))
    }
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// Accepts any certificate; handshake signatures are still checked (they prove the peer holds
/// the key of the certificate it sent, whatever that certificate is).
#[derive(Debug)]
struct NoVerify(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
